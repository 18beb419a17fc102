"""The radial feeder graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from agents.params import ParameterError
from agents.topology import SUBSTATION, RadialFeeders, area_buses, station_bus


def _graph(seed=0, **kwargs):
    return RadialFeeders(**kwargs).build(np.random.default_rng(seed))


@pytest.mark.parametrize(("n_areas", "buses"), [(1, 1), (2, 20), (3, 7), (5, 2)])
def test_tree_shape_and_counts(n_areas, buses):
    feeders = RadialFeeders(n_areas=n_areas, buses_per_area=buses)
    graph = feeders.build(np.random.default_rng(1))
    assert nx.is_tree(graph)
    assert graph.number_of_nodes() == feeders.n_buses == 1 + n_areas * buses
    assert set(graph.nodes) == set(range(feeders.n_buses))
    assert graph.nodes[SUBSTATION]["kind"] == "substation"
    assert graph.nodes[SUBSTATION]["area"] == -1
    assert graph.nodes[SUBSTATION]["pos"] == (0.0, 0.0)
    stations = [n for n, d in graph.nodes(data=True) if d["kind"] == "station"]
    assert len(stations) == n_areas
    # Area a's station is bus 1 + a * buses, linked straight to the substation.
    assert stations == [1 + a * buses for a in range(n_areas)]
    assert sorted(graph.neighbors(SUBSTATION)) == stations
    for a in range(n_areas):
        members = area_buses(graph, a)
        assert members == list(range(1 + a * buses, 1 + (a + 1) * buses))
        assert station_bus(graph, a) == stations[a]
        assert graph.nodes[stations[a]]["area"] == a
        # Each area is itself a tree hanging from its station.
        assert nx.is_tree(graph.subgraph(members))


def test_node_and_edge_attributes():
    graph = _graph(n_areas=2, buses_per_area=20)
    for node, data in graph.nodes(data=True):
        assert {"kind", "area", "pos"} <= set(data), node
        assert data["kind"] in ("substation", "station", "bus")
        assert len(data["pos"]) == 2
    for a, b, data in graph.edges(data=True):
        assert {"length_km", "r_ohm", "x_ohm"} <= set(data)
        assert data["r_ohm"] == pytest.approx(data["length_km"] * 0.206, rel=1e-12)
        assert data["x_ohm"] == pytest.approx(data["length_km"] * 0.080, rel=1e-12)
        if SUBSTATION in (a, b):
            assert data["length_km"] == 1.0
        else:
            assert 0.05 <= data["length_km"] <= 0.3
            # Feeder lines stay inside one area.
            assert graph.nodes[a]["area"] == graph.nodes[b]["area"]


def test_station_positions_on_unit_circle():
    graph = _graph(n_areas=4, buses_per_area=3)
    for a, station in enumerate((1, 4, 7, 10)):
        x, y = graph.nodes[station]["pos"]
        assert x == pytest.approx(np.cos(np.pi / 2 * a), abs=1e-12)
        assert y == pytest.approx(np.sin(np.pi / 2 * a), abs=1e-12)


def test_custom_line_parameters():
    graph = _graph(
        n_areas=1,
        buses_per_area=5,
        line_length_km=(0.2, 0.2),
        trunk_length_km=2.5,
        r_ohm_per_km=1.0,
        x_ohm_per_km=0.5,
    )
    lengths = {frozenset(e): d["length_km"] for *e, d in graph.edges(data=True)}
    assert lengths[frozenset((0, 1))] == 2.5
    assert sorted(lengths.values()) == [0.2, 0.2, 0.2, 0.2, 2.5]
    for _, _, d in graph.edges(data=True):
        assert d["r_ohm"] == d["length_km"] and d["x_ohm"] == d["length_km"] * 0.5


def _snapshot(graph):
    return (
        sorted(graph.nodes(data=True)),
        sorted((min(a, b), max(a, b), sorted(d.items())) for a, b, d in graph.edges(data=True)),
    )


def test_same_seed_same_graph_different_seed_different_graph():
    a, b = _graph(seed=7), _graph(seed=7)
    assert _snapshot(a) == _snapshot(b)
    c = _graph(seed=8)
    assert _snapshot(a) != _snapshot(c)
    # Same generator state gives the same graph even from distinct generator objects.
    rng = np.random.default_rng(7)
    assert _snapshot(RadialFeeders().build(rng)) == _snapshot(a)
    # ...and a used generator gives a different one.
    assert _snapshot(RadialFeeders().build(rng)) != _snapshot(a)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(n_areas=0), "n_areas"),
        (dict(n_areas=1.5), "n_areas"),
        (dict(buses_per_area=0), "buses_per_area"),
        (dict(line_length_km=(0.3, 0.1)), "line_length_km"),
        (dict(trunk_length_km=0.0), "trunk_length_km"),
        (dict(r_ohm_per_km=-0.1), "r_ohm_per_km"),
        (dict(x_ohm_per_km=-0.1), "x_ohm_per_km"),
    ],
)
def test_validation(kwargs, key):
    with pytest.raises(ParameterError) as info:
        RadialFeeders(**kwargs)
    assert info.value.key == key
    assert str(info.value).startswith(key + " must be ")


@pytest.mark.parametrize("key", ["n_areas", "buses_per_area"])
def test_bool_is_not_an_integer(key):
    with pytest.raises(ParameterError) as info:
        RadialFeeders(**{key: True})
    assert info.value.key == key


def test_recursive_tree_structure_and_layout():
    graph = _graph(seed=3, n_areas=2, buses_per_area=20)
    for area, station in ((0, 1), (1, 21)):
        members = area_buses(graph, area)
        depth = nx.single_source_shortest_path_length(graph.subgraph(members), station)
        # Each bus hangs off exactly one earlier bus (a random recursive tree).
        for bus in members[1:]:
            earlier = [n for n in graph.neighbors(bus) if n < bus]
            assert len(earlier) == 1 and graph.nodes[earlier[0]]["area"] == area
        # Random, not a single chain: with 20 buses the tree is far shallower than 19.
        assert max(depth.values()) < 10
        assert max(dict(graph.subgraph(members).degree()).values()) >= 3
        # Buses are laid out 0.25 km per level of depth away from their station.
        sx, sy = graph.nodes[station]["pos"]
        for bus, level in depth.items():
            x, y = graph.nodes[bus]["pos"]
            assert np.hypot(x - sx, y - sy) == pytest.approx(0.25 * level, abs=1e-12)
