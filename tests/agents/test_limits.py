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
