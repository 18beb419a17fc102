"""Physical limits on dispatchable sales: a constructed overload, curtailed or priced."""

# ruff: noqa: D103

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.params import ParameterError
from agents.powerflow.limits import GridLimits, apply_limits, dispatchable_headroom_kw
from tests.agents.test_lmp import RATED_KW, _chain


def test_sale_that_would_overload_a_line_is_curtailed_to_the_rating():
    net = _chain(ampacity_a=(100.0, math.inf))
    flow = np.array([0.0, -20.0, -20.0])  # bus 2 already exports 20 kW
    v = np.ones(3)
    out = apply_limits(
        GridLimits("curtail"), net, flow, v, np.array([2]), np.array([80.0]), v_band_pu=(0.5, 1.5)
    )
    np.testing.assert_allclose(out.allowed_kw, [RATED_KW - 20.0])
    np.testing.assert_allclose(out.excess_kw, [100.0 - RATED_KW])
    assert not out.charge_coins_per_h.any()


def test_price_rule_keeps_the_trade_and_charges_the_excess():
    net = _chain(ampacity_a=(100.0, math.inf))
    out = apply_limits(
        GridLimits("price", 0.3),
        net,
        np.array([0.0, -20.0, -20.0]),
        np.ones(3),
        np.array([2]),
        np.array([80.0]),
        v_band_pu=(0.5, 1.5),
    )
    np.testing.assert_allclose(out.allowed_kw, [80.0])
    np.testing.assert_allclose(out.charge_coins_per_h, [(100.0 - RATED_KW) * 0.3])


def test_sales_are_served_in_order_and_share_the_headroom():
    net = _chain(ampacity_a=(100.0, math.inf))
    allowed = dispatchable_headroom_kw(
        net, np.zeros(3), np.ones(3), np.array([2, 1, 2]), np.array([50.0, 50.0, 10.0]), (0.5, 1.5)
    )
    np.testing.assert_allclose(allowed, [50.0, RATED_KW - 50.0, 0.0])


def test_overvoltage_limits_the_injection():
    net = _chain(r_ohm=0.08)  # 0.5 pu per line
    v = np.array([1.0, 1.02, 1.04])
    allowed = dispatchable_headroom_kw(net, np.zeros(3), v, np.array([2]), np.array([100.0]))
    # W_2 rises by 2 * (0.5 + 0.5) * d / 1000 up to 1.05^2.
    expected = (1.05**2 - 1.04**2) / 2.0 * 1000.0
    np.testing.assert_allclose(allowed, [expected])


def test_none_rule_passes_everything_and_bad_rule_is_named():
    net = _chain()
    out = apply_limits(GridLimits(), net, np.zeros(3), np.ones(3), np.array([2]), np.array([1e6]))
    np.testing.assert_allclose(out.allowed_kw, [1e6])
    with pytest.raises(ParameterError, match="^rule must be one of"):
        GridLimits("block")


# ---------------------------------------------------------------- on the step's trades
def _physics():
    import networkx as nx

    from agents.powerflow.engine import PowerFlow

    graph = nx.Graph(base_kv=0.4, base_mva=1.0)
    graph.add_node(0, kind="substation", area=-1)
    for bus in (1, 2):
        graph.add_node(bus, kind="bus", area=0)
        graph.add_edge(bus - 1, bus, r_ohm=0.001, x_ohm=0.0, ampacity_a=100.0, length_km=0.1)
    return PowerFlow(loss_iterations=0).bind(graph)


def _trades(quantity_wh, price, seller=5, buyer=7):
    from market import Trades

    n = len(quantity_wh)
    return Trades(
        buyer=np.full(n, buyer),
        seller=np.full(n, seller),
        buyer_order=np.arange(n),
        seller_order=np.arange(n),
        buyer_area=np.zeros(n, np.int32),
        seller_area=np.zeros(n, np.int32),
        quantity_wh=np.asarray(quantity_wh),
        price=np.asarray(price, float),
    )


@pytest.mark.parametrize("rule", ["curtail", "price"])
def test_limit_trades_cuts_a_constructed_overload(rule):
    from agents.powerflow.limits import limit_trades

    physics = _physics()
    # Bus 2 already exports 20 kW; a generator there sells 80 kW for 1 h to a peer.
    base = physics.solve_step(np.array([2]), np.array([-20.0]), 1.0)
    trades = _trades([80_000], [0.25])
    kind = np.array([0], np.int8)
    out = limit_trades(
        GridLimits(rule, 0.1),
        physics,
        trades,
        kind,
        np.array([True]),
        np.array([2]),
        base,
        1.0,
        0.30,
        0,
        2,
        3,
    )
    allowed = int(np.floor((RATED_KW + base.branch_p_kw[0]) * 1000.0))
    assert out.limited_wh == 80_000 - allowed
    t = out.trades
    assert t.quantity_wh[0] == allowed and t.seller[0] == 5
    assert t.buyer[1] == 7 and t.seller[1] == 0 and t.quantity_wh[1] == 80_000 - allowed
    if rule == "curtail":
        assert len(t) == 2 and t.price[1] == 0.30  # the buyer's rest from the grid at tariff
        np.testing.assert_array_equal(out.kind, [0, 2])
        assert out.network_charge_coins == 0.0
    else:
        assert len(t) == 3 and t.price[1] == 0.25  # wheeled to the buyer at the trade price
        assert t.buyer[2] == 0 and t.seller[2] == 5 and t.price[2] == pytest.approx(0.15)
        np.testing.assert_array_equal(out.kind, [0, 2, 3])
        assert out.network_charge_coins == pytest.approx(0.1 * (80_000 - allowed) / 1000)
    # Energy: the buyer still gets 80 kWh; the seller's total is 80 kWh (price) or less.
    assert t.quantity_wh[t.buyer == 7].sum() == 80_000


def test_sale_within_limits_is_untouched():
    from agents.powerflow.limits import limit_trades

    physics = _physics()
    base = physics.solve_step(np.array([2]), np.array([10.0]), 1.0)
    trades = _trades([5_000], [0.2])
    kind = np.array([0], np.int8)
    out = limit_trades(
        GridLimits("curtail"),
        physics,
        trades,
        kind,
        np.array([True]),
        np.array([2]),
        base,
        1.0,
        0.3,
        0,
        2,
        3,
    )
    assert out.trades is trades and out.limited_wh == 0
