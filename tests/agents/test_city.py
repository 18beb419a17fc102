"""Seed 000's city layout: zones, districts, street-following feeders, road distances."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest

from agents.city import CityLayout, road_distance_km
from agents.params import ParameterError
from agents.powerflow import PowerFlow
from agents.topology import SUBSTATION, area_buses, station_bus


def _snapshot(graph):
    return sorted(graph.nodes(data=True)), sorted(
        (min(a, b), max(a, b), sorted(d.items())) for a, b, d in graph.edges(data=True)
    )


def test_seed000_counts_and_attributes():
    graph = CityLayout().build(np.random.default_rng(0))
    assert nx.is_tree(graph) and graph.number_of_nodes() == 1 + 2 + 90
    zones = Counter(d["zone"] for _, d in graph.nodes(data=True))
    assert zones == {
        "residential": 50,
        "commercial": 30,
        "industrial": 10,
        "station": 2,
        "substation": 1,
    }
    assert graph.graph["base_kv"] == 12.0
    for a, b, data in graph.edges(data=True):
        # Cables follow the streets: length = street distance of the two ends.
        assert data["length_km"] == pytest.approx(road_distance_km(graph, a, b), abs=1e-12)
        assert data["r_ohm"] == pytest.approx(0.125 * data["length_km"])
        assert data["x_ohm"] == pytest.approx(0.11 * data["length_km"])
        assert data["ampacity_a"] == 400.0
    for area in range(2):
        members = area_buses(graph, area)
        assert station_bus(graph, area) == members[0]
        assert nx.is_connected(graph.subgraph(members))
    assert sorted(graph.neighbors(SUBSTATION)) == [1, 47]


def test_zone_rings_downtown_to_outskirts():
    graph = CityLayout(n_areas=1).build(np.random.default_rng(4))
    centre = graph.nodes[1]["pos"]
    assert centre == (2.0, 0.0)

    def blocks(node):
        x, y = graph.nodes[node]["pos"]
        return round((abs(x - centre[0]) + abs(y - centre[1])) / 0.2)

    by_zone = {
        z: [blocks(n) for n, d in graph.nodes(data=True) if d["zone"] == z]
        for z in ("commercial", "residential", "industrial")
    }
    # 30 commercial buildings fill rings 1-3 (4 + 8 + 12 = 24) and 6 of ring 4 (16).
    assert Counter(by_zone["commercial"]) == {1: 4, 2: 8, 3: 12, 4: 6}
    assert max(by_zone["commercial"]) <= min(by_zone["residential"])
    assert max(by_zone["residential"]) <= min(by_zone["industrial"])
    positions = [d["pos"] for _, d in graph.nodes(data=True)]
    assert len(set(positions)) == len(positions)


def test_road_distance_by_hand():
    graph = nx.Graph()
    graph.add_node(0, pos=(0.0, 0.0))
    graph.add_node(1, pos=(0.4, -0.6))
    assert road_distance_km(graph, 0, 1) == pytest.approx(1.0)
    assert road_distance_km(graph, 1, 1) == 0.0


@pytest.mark.parametrize("n_areas", [1, 3, 7, 90])
def test_zone_counts_dealt_round_robin(n_areas):
    layout = CityLayout(n_areas=n_areas)
    counts = layout.zone_counts()
    for zone, total in (("commercial", 30), ("residential", 50), ("industrial", 10)):
        per_area = [c[zone] for c in counts]
        assert sum(per_area) == total and max(per_area) - min(per_area) <= 1
    assert min(sum(c.values()) for c in counts) >= 1
    graph = layout.build(np.random.default_rng(1))
    for area in range(n_areas):
        assert len(area_buses(graph, area)) >= 2


def test_seeded_layout():
    a = CityLayout().build(np.random.default_rng(3))
    b = CityLayout().build(np.random.default_rng(3))
    c = CityLayout().build(np.random.default_rng(4))
    assert _snapshot(a) == _snapshot(b) and _snapshot(a) != _snapshot(c)


def test_power_flow_runs_on_the_city():
    graph = CityLayout().build(np.random.default_rng(0))
    physics = PowerFlow().bind(graph)
    buses = np.array([n for n, d in graph.nodes(data=True) if d["kind"] == "bus"])
    result = physics.solve_step(buses, np.full(len(buses), 10.0), 0.25)  # 40 kW each
    assert result.substation_p_kw == pytest.approx(90 * 40.0, rel=0.02)
    assert 0.95 < result.v_pu.min() < 1.0 and result.thermal_violations == 0


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(n_areas=0), "n_areas"),
        (dict(homes=-1), "homes"),
        (dict(homes=0, buildings=0, industries=1, n_areas=2), "homes"),
        (dict(block_km=0.0), "block_km"),
        (dict(ampacity_a=0.0), "ampacity_a"),
        (dict(power_flow={"loss_iterations": -1}), "power_flow.loss_iterations"),
    ],
)
def test_validation(kwargs, key):
    with pytest.raises(ParameterError) as info:
        CityLayout(**kwargs)
    assert info.value.key == key


def test_config_entry_runs_a_short_day():
    from experiments.build import build
    from tests.conftest import make_config

    model = build(make_config("grid=city", "time.steps=3", "population.size=12"))
    try:
        model.run()
        assert model.graph.graph["name"] == "city" and model.n_areas == 2
    finally:
        model.runtime.close()
