"""DC OPF LMPs on hand-made feeders: prices split exactly where a limit binds."""

# ruff: noqa: D103

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from agents.powerflow.lmp import area_prices, dc_opf_lmp, line_rating_kw
from agents.powerflow.network import FeederNetwork

KV = 0.4
# 100 A at 0.4 kV: sqrt(3) * 0.4 * 100 = 69.28 kW.
RATED_KW = math.sqrt(3.0) * KV * 100.0


def _chain(ampacity_a=(math.inf, 100.0), r_ohm=0.01, x_ohm=0.0) -> FeederNetwork:
    graph = nx.Graph(base_kv=KV, base_mva=1.0)
    graph.add_node(0, kind="substation", area=-1)
    for bus, amp in zip((1, 2), ampacity_a, strict=True):
        graph.add_node(bus, kind="bus", area=0)
        graph.add_edge(bus - 1, bus, r_ohm=r_ohm, x_ohm=x_ohm, ampacity_a=amp, length_km=0.1)
    return FeederNetwork.from_graph(graph)


def test_rating_in_kw_from_ampacity():
    np.testing.assert_allclose(line_rating_kw(_chain())[2], RATED_KW)


def test_uncongested_feeder_has_one_price():
    net = _chain()
    res = dc_opf_lmp(
        net, [0.0, 10.0, 20.0], [0, 2], [math.inf, 50.0], [0.2, 0.5], voltage_band_pu=None
    )
    np.testing.assert_allclose(res.lmp, [0.2, 0.2, 0.2], atol=1e-9)
    np.testing.assert_allclose(res.dispatch_kw, [30.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(res.flow_kw[1:], [30.0, 20.0], atol=1e-9)
    assert len(res.congested) == 0 and res.cost_per_h == pytest.approx(6.0)


def test_congested_line_prices_the_far_bus_at_the_local_generator():
    net = _chain()
    # 100 kW at bus 2 but only 69.28 kW can reach it: the local unit (0.5) fills the gap.
    res = dc_opf_lmp(
        net, [0.0, 0.0, 100.0], [0, 2], [math.inf, 50.0], [0.2, 0.5], voltage_band_pu=None
    )
    np.testing.assert_allclose(res.lmp, [0.2, 0.2, 0.5], atol=1e-9)
    np.testing.assert_allclose(res.dispatch_kw, [RATED_KW, 100.0 - RATED_KW], atol=1e-7)
    np.testing.assert_array_equal(res.congested, [2])
    assert not res.shed_kw.any()


def test_shortage_sheds_load_at_the_value_of_lost_load():
    net = _chain()
    res = dc_opf_lmp(
        net, [0.0, 0.0, 100.0], [0], [math.inf], [0.2], voltage_band_pu=None, voll=10.0
    )
    np.testing.assert_allclose(res.shed_kw[2], 100.0 - RATED_KW, atol=1e-7)
    assert res.lmp[2] == pytest.approx(10.0)


def test_voltage_limit_binds_and_raises_the_far_price():
    # No thermal limit; r = 0.08 ohm per line (0.5 pu on 0.4 kV / 1 MVA).
    net = _chain(ampacity_a=(math.inf, math.inf), r_ohm=0.08)
    z_pu = 0.08 / (KV**2 / 1.0)
    demand = 60.0
    res = dc_opf_lmp(
        net, [0.0, 0.0, demand], [0, 2], [math.inf, 100.0], [0.2, 0.5], voltage_band_pu=(0.95, 1.05)
    )
    # W_2 = 1 - 2 z (f1 + f2) / 1000 >= 0.95^2 with f1 = f2 = imported power.
    imported = (1 - 0.95**2) / (4 * z_pu) * 1000.0
    assert imported < demand
    np.testing.assert_allclose(res.dispatch_kw, [imported, demand - imported], atol=1e-6)
    assert res.lmp[2] == pytest.approx(0.5)
    assert res.lmp[0] == pytest.approx(0.2)
    assert 0.2 < res.lmp[1] < 0.5  # bus 1's draw lowers bus 2's voltage too


def test_area_prices_reads_station_buses():
    net = _chain()
    np.testing.assert_array_equal(area_prices(np.array([1.0, 2.0, 3.0]), net, [2, 1]), [3.0, 2.0])


def test_lmps_match_pandapower_dc_opf_on_sce56_with_congestion():
    """Reference: pandapower's DC OPF (rundcopp) gives the same bus prices."""
    pp = pytest.importorskip("pandapower")
    from agents.feeders import Sce56Feeder

    graph = Sce56Feeder(rating_scale=0.1).build()  # 18-53 A lines: the trunk congests
    net = FeederNetwork.from_graph(graph)
    demand = np.array([graph.nodes[int(n)].get("p_load_mw", 0.0) * 1000 for n in net.nodes])
    stations = net.bus_index([n for n, d in graph.nodes(data=True) if d["kind"] == "station"])
    gen_bus = np.concatenate([[net.root], stations])
    capacity = np.concatenate([[np.inf], np.full(len(stations), 400.0)])
    price = np.concatenate([[0.2], 0.3 + 0.05 * np.arange(len(stations))])
    ours = dc_opf_lmp(net, demand, gen_bus, capacity, price, voltage_band_pu=None, voll=10.0)

    ref = pp.create_empty_network(sn_mva=1.0)
    buses = [pp.create_bus(ref, vn_kv=net.base_kv) for _ in range(net.n_bus)]
    pp.create_ext_grid(ref, buses[net.root], min_p_mw=-100.0, max_p_mw=100.0)
    pp.create_poly_cost(ref, 0, "ext_grid", cp1_eur_per_mw=200.0)
    z_base = net.base_kv**2 / net.base_mva
    for j in net.branch_to.tolist():
        pp.create_line_from_parameters(
            ref,
            buses[int(net.parent[j])],
            buses[j],
            length_km=1.0,
            r_ohm_per_km=net.r_pu[j] * z_base,
            x_ohm_per_km=net.x_pu[j] * z_base,
            c_nf_per_km=0.0,
            max_i_ka=net.ampacity_a[j] / 1000.0,
            max_loading_percent=100.0,
        )
    for i, d in enumerate(demand):
        if d > 0:
            pp.create_load(ref, buses[i], p_mw=d / 1000.0, controllable=False)
            # Shedding as a generator at the value of lost load.
            shed = pp.create_sgen(
                ref, buses[i], p_mw=0.0, min_p_mw=0.0, max_p_mw=d / 1000.0, controllable=True
            )
            pp.create_poly_cost(ref, shed, "sgen", cp1_eur_per_mw=10_000.0)
    for k, bus in enumerate(stations.tolist()):
        g = pp.create_sgen(ref, buses[bus], p_mw=0.0, min_p_mw=0.0, max_p_mw=0.4, controllable=True)
        pp.create_poly_cost(ref, g, "sgen", cp1_eur_per_mw=float(price[k + 1]) * 1000.0)
    pp.rundcopp(ref)
    assert len(ours.congested) > 0 and len(np.unique(np.round(ours.lmp, 6))) > 1
    np.testing.assert_allclose(ours.lmp, ref.res_bus.lam_p.to_numpy() / 1000.0, atol=1e-6)
