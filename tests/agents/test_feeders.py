"""The SCE 56-bus feeder: data, derived line data, station areas and layout."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from agents.feeders import (
    ACSR_CONDUCTORS,
    Sce56Feeder,
    load_sce56,
    nearest_conductor,
    partition_tree,
    tree_layout,
)
from agents.params import ParameterError
from agents.topology import SUBSTATION, area_buses, station_bus


@pytest.fixture(scope="module")
def graph():
    return Sce56Feeder().build(np.random.default_rng(0))


def test_packaged_tables():
    buses, branches = load_sce56()
    assert len(buses) == 56 and len(branches) == 55
    assert buses[0]["bus"] == "1" and buses[0]["type"] == "slack"
    assert branches[0] == {
        "from_bus": "1",
        "to_bus": "2",
        "r_pu": "0.00111111111",
        "x_pu": "0.00269444444",
    }


def test_shape_numbering_and_attributes(graph):
    assert nx.is_tree(graph) and graph.number_of_nodes() == 56
    assert graph.graph["base_kv"] == 12.0 and graph.graph["base_mva"] == 1.0
    assert set(graph.nodes) == set(range(56))
    assert graph.nodes[SUBSTATION]["kind"] == "substation"
    assert graph.nodes[SUBSTATION]["area"] == -1
    assert graph.nodes[SUBSTATION]["pos"] == (0.0, 0.0)
    for node, data in graph.nodes(data=True):
        assert data["sce_bus"] == node + 1
        assert data["kind"] in ("substation", "station", "bus")
        assert {"p_load_mw", "q_load_mvar", "pv_plant_mw", "pos"} <= set(data)
    # SCE bus 32 (node 31): 0.223 MW, 0.0669 MVAr.
    assert graph.nodes[31]["p_load_mw"] == 0.223 and graph.nodes[31]["q_load_mvar"] == 0.0669
    for _, _, data in graph.edges(data=True):
        assert data["r_ohm"] == pytest.approx(data["r_pu"] * 144.0, rel=1e-12)
        assert data["x_ohm"] == pytest.approx(data["x_pu"] * 144.0, rel=1e-12)
        assert data["length_km"] == pytest.approx(data["x_ohm"] / 0.4, rel=1e-12)
        assert data["rating_mva"] == pytest.approx(
            math.sqrt(3) * 12 * data["ampacity_a"] / 1000, rel=1e-12
        )


def test_first_line_by_hand(graph):
    line = graph.edges[0, 1]
    # x = 0.00269444444 * 144 = 0.388 ohm -> 0.97 km; r = 0.16 ohm -> 0.165 ohm/km -> Linnet.
    assert line["x_ohm"] == pytest.approx(0.388, abs=1e-6)
    assert line["length_km"] == pytest.approx(0.97, abs=1e-6)
    assert line["conductor"] == "Linnet 336.4" and line["ampacity_a"] == 529.0


def test_nearest_conductor_in_log_resistance():
    assert nearest_conductor(1.05) == ("Sparrow #2", 184.0)
    assert nearest_conductor(0.19) == ("Linnet 336.4", 529.0)
    assert nearest_conductor(10.0)[0] == "Swan #4" and nearest_conductor(0.01)[0] == "Hawk 477"
    # 0.6 lies between Raven (0.67) and Quail (0.53): log distances 0.110 and 0.124.
    assert nearest_conductor(0.6)[0] == "Raven 1/0"
    resistances = [r for _, r, _ in ACSR_CONDUCTORS]
    ampacities = [a for _, _, a in ACSR_CONDUCTORS]
    assert resistances == sorted(resistances, reverse=True) and ampacities == sorted(ampacities)


def test_pv_placements():
    seed003 = Sce56Feeder(pv_placement="seed003").build()
    plants = {n: d["pv_plant_mw"] for n, d in seed003.nodes(data=True) if d["pv_plant_mw"]}
    assert plants == {52: 1.0, 18: 0.8}  # SCE buses 53 and 19
    assert seed003.nodes[44]["p_load_mw"] == 0.0 and seed003.nodes[44]["q_load_mvar"] == 0.0
    total = sum(d["p_load_mw"] for _, d in seed003.nodes(data=True))
    assert total == pytest.approx(3.835, abs=1e-9)
    original = Sce56Feeder(pv_placement="original").build()
    assert original.nodes[44]["p_load_mw"] == -5.0 and original.nodes[44]["q_load_mvar"] == -1.5
    assert not any(d["pv_plant_mw"] for _, d in original.nodes(data=True))
    none = Sce56Feeder(pv_placement="none").build()
    assert none.nodes[44]["p_load_mw"] == 0.0
    assert not any(d["pv_plant_mw"] for _, d in none.nodes(data=True))


def test_load_and_rating_scale():
    graph = Sce56Feeder(load_scale=2.0, rating_scale=0.5).build()
    assert graph.nodes[31]["p_load_mw"] == pytest.approx(0.446)
    assert graph.edges[0, 1]["ampacity_a"] == pytest.approx(264.5)


@pytest.mark.parametrize("n_areas", range(1, 13))
def test_station_areas(n_areas):
    graph = Sce56Feeder(n_areas=n_areas).build()
    assert sorted({d["area"] for _, d in graph.nodes(data=True)}) == [-1, *range(n_areas)]
    sizes = []
    for area in range(n_areas):
        members = area_buses(graph, area)
        sizes.append(len(members))
        assert len(members) >= 2  # households live at buses other than the station
        assert nx.is_connected(graph.subgraph(members))
        station = station_bus(graph, area)
        assert station == members[0]  # the topology helpers' convention
        stations = [n for n in members if graph.nodes[n]["kind"] == "station"]
        assert stations == [station]
        # The station is the area's bus nearest the substation.
        depth = nx.shortest_path_length(graph, SUBSTATION)
        assert depth[station] == min(depth[n] for n in members)
    assert sum(sizes) == 55
    if n_areas <= 8:
        assert max(sizes) <= 2 * min(sizes) + 1


def test_two_areas_by_hand():
    # 55 buses, target 27.5: the subtree of SCE bus 32 (buses 32-56, 25 buses) is
    # nearest; bus 26's (31 buses) and bus 25's (32) are farther.
    graph = Sce56Feeder(n_areas=2).build()
    assert area_buses(graph, 1) == list(range(31, 56))
    assert area_buses(graph, 0) == list(range(1, 31))


def test_partition_errors():
    path = nx.path_graph(4)  # root 0 and three buses: two parts of >= 2 are impossible
    with pytest.raises(ParameterError) as info:
        partition_tree(path, 0, 2)
    assert info.value.key == "n_areas"
    assert partition_tree(nx.path_graph(5), 0, 2) == [[1, 2], [3, 4]]


def test_tree_layout_is_tidy(graph):
    pos = tree_layout(graph, SUBSTATION)
    depth = nx.shortest_path_length(graph, SUBSTATION)
    children = dict(nx.bfs_successors(graph, SUBSTATION))
    leaves = [n for n in graph.nodes if n not in children]
    assert sorted(pos[n][0] - pos[leaves[0]][0] for n in leaves) == [
        float(i) for i in range(len(leaves))
    ]
    for node, (x, y) in pos.items():
        assert y == -depth[node]
        if node in children:
            xs = [pos[c][0] for c in children[node]]
            assert x == pytest.approx((min(xs) + max(xs)) / 2)
    assert pos[SUBSTATION] == (0.0, 0.0)


def test_deterministic_and_independent_of_rng():
    a = Sce56Feeder().build(np.random.default_rng(1))
    b = Sce56Feeder().build(np.random.default_rng(2))
    assert sorted(a.nodes(data=True)) == sorted(b.nodes(data=True))
    assert nx.utils.edges_equal(a.edges(data=True), b.edges(data=True))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(n_areas=0), "n_areas"),
        (dict(n_areas=13), "n_areas"),
        (dict(n_areas=True), "n_areas"),
        (dict(pv_placement="seed004"), "pv_placement"),
        (dict(load_scale=-1.0), "load_scale"),
        (dict(x_ohm_per_km=0.0), "x_ohm_per_km"),
        (dict(rating_scale=0.0), "rating_scale"),
        (dict(background_profile="h9"), "background_profile"),
        (dict(power_flow={"engine": "dc"}), "power_flow.engine"),
        (dict(site={"latitude": 91.0}), "site.latitude"),
    ],
)
def test_validation(kwargs, key):
    with pytest.raises(ParameterError) as info:
        Sce56Feeder(**kwargs)
    assert info.value.key == key
    assert str(info.value).startswith(key + " must be ")


def test_config_entry_composes_and_runs_a_short_day():
    from experiments.build import build, instantiate_group
    from tests.conftest import make_config

    feeder = instantiate_group(make_config("grid=sce56"), "grid")
    assert isinstance(feeder, Sce56Feeder) and feeder.n_areas == 4
    assert feeder.power_flow.engine == "lindistflow" and feeder.site.date == "2023-06-21"
    model = build(make_config("grid=sce56", "time.steps=3", "population.size=12"))
    try:
        model.run()
        assert model.n_areas == 4 and model.graph.graph["name"] == "sce56"
        assert model.chain.ledger.height >= 1
    finally:
        model.runtime.close()
