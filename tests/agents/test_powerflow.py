"""Power flow: LinDistFlow by hand, its invariants, and agreement with pandapower's AC flow."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.feeders import Sce56Feeder
from agents.params import ParameterError
from agents.powerflow import (
    METRIC_KEYS,
    FeederError,
    FeederNetwork,
    PowerFlow,
    PowerFlowResult,
    PowerFlowSummary,
    lindistflow,
)
from agents.topology import RadialFeeders


def _chain(r=(0.01, 0.02), x=(0.02, 0.01), base_kv=10.0, ampacity=(100.0, 50.0)):
    """Substation 0 - bus 1 - bus 2, impedances given in per unit on 10 kV / 1 MVA."""
    z_base = base_kv**2
    graph = nx.Graph(base_kv=base_kv, base_mva=1.0)
    graph.add_node(0, kind="substation", area=-1)
    graph.add_node(1, kind="station", area=0)
    graph.add_node(2, kind="bus", area=0)
    for (a, b), ri, xi, amp in zip(((0, 1), (1, 2)), r, x, ampacity, strict=True):
        graph.add_edge(a, b, r_ohm=ri * z_base, x_ohm=xi * z_base, length_km=1.0, ampacity_a=amp)
    return graph


# ---------------------------------------------------------------- LinDistFlow by hand
def test_two_line_chain_by_hand():
    network = FeederNetwork.from_graph(_chain())
    p = np.array([0.0, -0.3, -0.5])  # loads of 0.3 and 0.5 pu
    q = np.array([0.0, -0.1, -0.2])
    sol = lindistflow.solve(network, p, q)
    # Flows are subtree sums of the loads.
    np.testing.assert_allclose(sol.p_pu, [0.0, 0.8, 0.5])
    np.testing.assert_allclose(sol.q_pu, [0.0, 0.3, 0.2])
    # W1 = 1 - 2 (0.01 * 0.8 + 0.02 * 0.3) = 0.972; W2 = W1 - 2 (0.02 * 0.5 + 0.01 * 0.2) = 0.948.
    np.testing.assert_allclose(sol.v_pu, np.sqrt([1.0, 0.972, 0.948]), rtol=1e-12)
    # Loss estimate r (P^2 + Q^2) / W_sending: 0.01 * 0.73 / 1 and 0.02 * 0.29 / 0.972.
    np.testing.assert_allclose(sol.loss_pu, [0.0, 0.0073, 0.02 * 0.29 / 0.972], rtol=1e-12)


def test_one_loss_iteration_by_hand():
    network = FeederNetwork.from_graph(_chain())
    p, q = np.array([0.0, -0.3, -0.5]), np.array([0.0, -0.1, -0.2])
    sol = lindistflow.solve(network, p, q, loss_iterations=1)
    l1, l2 = 0.73, 0.29 / 0.972  # squared currents of the linear solution
    p2, q2 = 0.5 + 0.02 * l2, 0.2 + 0.01 * l2
    p1, q1 = 0.8 + 0.01 * l1 + 0.02 * l2, 0.3 + 0.02 * l1 + 0.01 * l2
    w1 = 1 - 2 * (0.01 * p1 + 0.02 * q1) + (0.01**2 + 0.02**2) * l1
    w2 = w1 - 2 * (0.02 * p2 + 0.01 * q2) + (0.02**2 + 0.01**2) * l2
    np.testing.assert_allclose(sol.p_pu, [0.0, p1, p2], rtol=1e-12)
    np.testing.assert_allclose(sol.q_pu, [0.0, q1, q2], rtol=1e-12)
    np.testing.assert_allclose(sol.v_pu, np.sqrt([1.0, w1, w2]), rtol=1e-12)


def test_slack_voltage_and_root_injection_ignored():
    network = FeederNetwork.from_graph(_chain())
    p, q = np.array([5.0, 0.0, 0.0]), np.array([-3.0, 0.0, 0.0])
    sol = lindistflow.solve(network, p, q, slack_voltage_pu=1.03)
    np.testing.assert_allclose(sol.v_pu, 1.03)
    np.testing.assert_allclose(sol.p_pu, 0.0)


def test_snapshots_as_columns_equal_single_solves():
    network = FeederNetwork.from_graph(Sce56Feeder().build())
    rng = np.random.default_rng(3)
    p = -rng.uniform(0, 0.1, size=(network.n_bus, 5))
    q = 0.3 * p
    batch = lindistflow.solve(network, p, q, loss_iterations=2)
    for k in range(5):
        single = lindistflow.solve(network, p[:, k], q[:, k], loss_iterations=2)
        np.testing.assert_allclose(batch.v_pu[:, k], single.v_pu, rtol=1e-14)
        np.testing.assert_allclose(batch.p_pu[:, k], single.p_pu, rtol=1e-14)


def test_injection_shape_checked():
    network = FeederNetwork.from_graph(_chain())
    with pytest.raises(ValueError, match="n_bus=3"):
        lindistflow.solve(network, np.zeros(2), np.zeros(2))


@st.composite
def _random_feeder(draw):
    n = draw(st.integers(2, 30))
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    graph = nx.Graph(base_kv=12.0, base_mva=1.0)
    graph.add_node(0, kind="substation", area=-1)
    for child, parent in enumerate(parents, start=1):
        graph.add_node(child, kind="bus", area=0)
        r = draw(st.floats(1e-4, 0.02))
        graph.add_edge(parent, child, r_ohm=r * 144, x_ohm=0.7 * r * 144)
    p = np.array([0.0] + [draw(st.floats(-0.05, 0.05)) for _ in range(n - 1)])
    return graph, p


@settings(max_examples=60, deadline=None)
@given(_random_feeder())
def test_linear_flows_conserve_power_and_voltage_falls_with_load(case):
    graph, p = case
    network = FeederNetwork.from_graph(graph)
    to = network.branch_to
    sol = lindistflow.solve(network, p, 0.3 * p)
    # Each line carries its bus's load plus what its child lines carry.
    children_flow = np.zeros(network.n_bus)
    np.add.at(children_flow, network.parent[to], sol.p_pu[to])
    own = -p.copy()
    own[network.root] = 0.0
    np.testing.assert_allclose(sol.p_pu[to], (own + children_flow)[to], atol=1e-12)
    # The substation supplies the whole net load.
    top = to[network.parent[to] == network.root]
    assert sol.p_pu[top].sum() == pytest.approx(-p[1:].sum(), abs=1e-12)
    # Along each line the squared voltage falls by 2 (r P + x Q) (LinDistFlow).
    w = sol.v_pu**2
    drop = 2 * (network.r_pu * sol.p_pu + network.x_pu * sol.q_pu)
    np.testing.assert_allclose(w[network.parent[to]] - w[to], drop[to], atol=1e-14)
    assert (sol.loss_pu >= 0).all()


# ---------------------------------------------------------------- the network arrays
def test_network_from_graph_orders_and_bases():
    network = FeederNetwork.from_graph(Sce56Feeder().build())
    assert network.n_bus == 56 and network.n_branch == 55 and network.root == 0
    assert network.base_kv == 12.0 and network.impedance_base_ohm == 144.0
    assert network.current_base_a == pytest.approx(1000 / (math.sqrt(3) * 12))
    # SCE bus 2 (node 1) is fed by the first line: r = 0.00111111111 pu.
    assert network.r_pu[1] == pytest.approx(0.00111111111)
    assert network.parent[1] == 0 and network.depth.max() == 14
    np.testing.assert_array_equal(network.bus_index([0, 55, 18]), [0, 55, 18])
    with pytest.raises(KeyError):
        network.bus_index([56])


def test_network_errors():
    graph = _chain()
    graph.add_edge(0, 2, r_ohm=1.0, x_ohm=1.0)
    with pytest.raises(FeederError, match="tree"):
        FeederNetwork.from_graph(graph)
    graph = _chain()
    graph.nodes[1]["kind"] = "substation"
    with pytest.raises(FeederError, match="exactly one substation"):
        FeederNetwork.from_graph(graph)
    radial = RadialFeeders(n_areas=1, buses_per_area=3).build(np.random.default_rng(0))
    with pytest.raises(FeederError, match="base_kv"):
        FeederNetwork.from_graph(radial)


def test_radial_feeders_need_only_a_base_voltage():
    graph = RadialFeeders(n_areas=2, buses_per_area=5).build(np.random.default_rng(0))
    physics = PowerFlow(base_kv=0.4, default_ampacity_a=200.0).bind(graph)
    # 3 kW drawn at every non-substation bus over a 15-minute step.
    buses = np.arange(1, 11)
    result = physics.solve_step(buses, np.full(10, 0.75), 0.25)
    assert result.v_pu[0] == 1.0 and 0.9 < result.v_pu.min() < 1.0
    # The substation supplies the load plus the (estimated) losses.
    assert 30.0 + 0.9 * result.loss_kw < result.substation_p_kw < 30.0 + 1.1 * result.loss_kw
    assert np.isfinite(result.branch_loading).all()


# ---------------------------------------------------------------- settings and mapping
def test_agent_injections_by_hand():
    physics = PowerFlow(load_q_per_p=0.3).bind(_chain())
    # Agents: 1 kWh drawn at bus 1, 0.5 kWh drawn and 2 kWh exported at bus 2, in 0.5 h.
    p, q = physics.agent_injections(np.array([1, 2, 2]), np.array([1.0, 0.5, -2.0]), 0.5)
    np.testing.assert_allclose(p, [0.0, -2.0, 3.0])  # kW, generation positive
    np.testing.assert_allclose(q, [0.0, -0.6, -0.3])  # exporters at unity power factor
    with pytest.raises(ValueError):
        physics.agent_injections(np.array([1]), np.array([1.0, 2.0]), 0.5)
    with pytest.raises(ParameterError):
        physics.agent_injections(np.array([1]), np.array([1.0]), 0.0)


def test_background_injections_scale_loads_and_plants():
    physics = PowerFlow().bind(Sce56Feeder().build())
    p, q = physics.background_injections(load_factor=0.5, plant_factor=0.8)
    assert p[52] == pytest.approx(0.8 * 1000.0)  # SCE bus 53: 1 MW plant, no load
    assert p[18] == pytest.approx(-0.5 * 87.0 + 0.8 * 800.0)  # SCE bus 19: 87 kW load
    assert q[18] == pytest.approx(-0.5 * 26.1)
    assert p.sum() == pytest.approx(-0.5 * 3835.0 + 0.8 * 1800.0)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(engine="newton"), "engine"),
        (dict(slack_voltage_pu=1.5), "slack_voltage_pu"),
        (dict(v_min_pu=1.01), "v_min_pu"),
        (dict(v_max_pu=0.99), "v_max_pu"),
        (dict(loss_iterations=-1), "loss_iterations"),
        (dict(loss_iterations=True), "loss_iterations"),
        (dict(load_q_per_p=-0.1), "load_q_per_p"),
        (dict(base_kv=0.0), "base_kv"),
        (dict(default_ampacity_a=-5.0), "default_ampacity_a"),
    ],
)
def test_settings_validation(kwargs, key):
    with pytest.raises(ParameterError) as info:
        PowerFlow(**kwargs)
    assert info.value.key == key and str(info.value).startswith(key + " must be ")


def test_engine_none_binds_nothing_and_empty_metrics():
    assert PowerFlow(engine="none").bind(_chain()) is None
    empty = PowerFlowResult.empty_metrics()
    assert tuple(empty) == METRIC_KEYS and all(math.isnan(v) for v in empty.values())


def test_violation_counts_and_metrics():
    result = PowerFlowResult(
        engine="lindistflow",
        v_pu=np.array([1.0, 0.96, 0.949, 1.051, 1.05]),
        branch_p_kw=np.zeros(4),
        branch_q_kvar=np.zeros(4),
        branch_loss_kw=np.array([1.0, 2.0, 0.5, 0.0]),
        branch_current_a=np.array([10.0, 20.0, 30.0, 40.0]),
        branch_loading=np.array([0.5, 1.01, np.nan, 1.0]),
        substation_p_kw=100.0,
        substation_q_kvar=10.0,
        v_min_pu=0.95,
        v_max_pu=1.05,
    )
    assert result.voltage_violations == 2 and result.thermal_violations == 1
    metrics = result.metrics()
    assert metrics == {
        "pf_v_min_pu": 0.949,
        "pf_v_max_pu": 1.051,
        "pf_loss_kw": 3.5,
        "pf_substation_kw": 100.0,
        "pf_max_loading": 1.01,
        "pf_voltage_violations": 2.0,
        "pf_thermal_violations": 1.0,
    }
    summary = PowerFlowSummary("lindistflow")
    summary.add(result, 0.25)
    summary.add(result, 0.25)
    totals = summary.as_dict()
    assert totals["loss_kwh"] == 1.75 and totals["substation_kwh"] == 50.0
    assert totals["voltage_violation_bus_steps"] == 4 and totals["steps_with_violations"] == 2
    assert totals["v_min_pu"] == 0.949 and totals["max_loading"] == 1.01
    assert math.isnan(PowerFlowSummary("none").as_dict()["v_min_pu"])


# ---------------------------------------------------------------- against pandapower
pandapower = pytest.importorskip("pandapower")

# Load levels relative to the published SCE 56 spot loads (3.835 MW), with seed 003's
# PV plants (1.8 MW) at the given output per kWp.
LEVELS = {"light": (0.5, 1.0), "medium": (1.0, 0.0), "heavy": (1.5, 0.0)}


@pytest.fixture(scope="module")
def sce56():
    graph = Sce56Feeder().build()
    reference = PowerFlow(engine="pandapower").bind(graph)
    return graph, reference


def _worst_relative_error(a, b):
    return float(np.max(np.abs(a / b - 1.0)))


@pytest.mark.parametrize("level", list(LEVELS))
def test_lindistflow_within_half_a_percent_of_ac_on_sce56(sce56, level):
    graph, reference = sce56
    p, q = reference.background_injections(*LEVELS[level])
    ac = reference.solve(p, q)
    default = PowerFlow().bind(graph).solve(p, q)  # one loss-correction pass
    assert _worst_relative_error(default.v_pu, ac.v_pu) < 0.001
    assert default.loss_kw == pytest.approx(ac.loss_kw, rel=0.02)
    np.testing.assert_allclose(default.branch_loading, ac.branch_loading, rtol=0.01)
    pure = PowerFlow(loss_iterations=0).bind(graph).solve(p, q)
    error = _worst_relative_error(pure.v_pu, ac.v_pu)
    # Pure LinDistFlow: 0.07 % light, 0.35 % at the table loads, 0.89 % at 1.5x (docs/grid.md).
    if level == "heavy":
        assert 0.005 < error < 0.01
    else:
        assert error < 0.005
    assert pure.loss_kw == pytest.approx(ac.loss_kw, rel=0.1)


def test_sce56_ac_solution_values(sce56):
    _, reference = sce56
    ac = reference.solve(*reference.background_injections(1.0, 0.0))
    # At the table loads the far end of the feeder sags to 0.941 pu; losses near 116 kW.
    assert ac.v_pu.min() == pytest.approx(0.9409, abs=2e-4)
    assert ac.loss_kw == pytest.approx(115.7, abs=0.5)
    assert ac.substation_p_kw == pytest.approx(3835.0 + ac.loss_kw, rel=1e-6)
    assert ac.voltage_violations > 0 and ac.thermal_violations == 0


def test_iterated_losses_converge_to_ac(sce56):
    graph, reference = sce56
    p, q = reference.background_injections(2.0, 0.0)
    ac = reference.solve(p, q)
    exact = PowerFlow(loss_iterations=30).bind(graph).solve(p, q)
    np.testing.assert_allclose(exact.v_pu, ac.v_pu, rtol=1e-7)
    np.testing.assert_allclose(exact.branch_p_kw, ac.branch_p_kw, rtol=1e-6)
    np.testing.assert_allclose(exact.branch_current_a, ac.branch_current_a, rtol=1e-6)
    assert exact.loss_kw == pytest.approx(ac.loss_kw, rel=1e-6)


def test_ac_reverse_flow_raises_voltage(sce56):
    _, reference = sce56
    # Night-time light load, both plants at full output would be midday; here plants
    # export 1.8 MW into a 10 % loaded feeder.
    ac = reference.solve(*reference.background_injections(0.1, 1.0))
    assert ac.v_pu.max() > 1.0 and ac.substation_p_kw < 0


def test_ac_divergence_is_a_typed_error(sce56):
    from agents.powerflow.ac import PowerFlowDiverged

    _, reference = sce56
    with pytest.raises(PowerFlowDiverged):
        reference.solve(*reference.background_injections(40.0, 0.0))
    # The engine recovers for the next, feasible step.
    ac = reference.solve(*reference.background_injections(1.0, 0.0))
    assert ac.v_pu.min() == pytest.approx(0.9409, abs=2e-4)
