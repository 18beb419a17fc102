"""Element-wise kernels of ``agents.behaviour``, checked against hand-computed numbers.

Most cases use a battery whose numbers are exact in binary (capacity 8 kWh, SoC
bounds [0.25, 0.75] -> [2, 6] kWh, efficiency 0.5, 4 kW for 0.25 h -> 1 kWh per step)
so the expected values are exact, not approximate.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.behaviour import (
    MICRO,
    battery_dispatch,
    ev_energy,
    generation_cost,
    generator_offer_blocks,
    limit_price,
)

# Exact-in-binary battery: limit 1 kWh/step, stored energy allowed in [2, 6] kWh.
CAP, POWER, DT, ETA, LO, HI = 8.0, 4.0, 0.25, 0.5, 0.25, 0.75


def dispatch(net, soc, cap=CAP):
    return battery_dispatch(net, soc, cap, POWER, DT, ETA, LO, HI)


# ---------------------------------------------------------------- battery_dispatch
@pytest.mark.parametrize(
    ("net", "soc", "charge", "discharge", "soc_after"),
    [
        # Surplus of 3 kWh, 3 kWh stored: headroom 3/0.5 = 6, power limit 1 -> charge 1.
        (-3.0, 3.0, 1.0, 0.0, 3.5),
        # Surplus limited by headroom: 6 - 5.75 = 0.25 stored -> 0.25 / 0.5 = 0.5 metered.
        (-3.0, 5.75, 0.5, 0.0, 6.0),
        # Small surplus: all of it is charged.
        (-0.25, 3.0, 0.25, 0.0, 3.125),
        # Full battery: no headroom, nothing charged.
        (-3.0, 6.0, 0.0, 0.0, 6.0),
        # Deficit limited by power: 1 kWh delivered costs 1 / 0.5 = 2 kWh stored.
        (3.0, 5.0, 0.0, 1.0, 3.0),
        # Deficit limited by available energy x efficiency: (2.5 - 2) * 0.5 = 0.25.
        (3.0, 2.5, 0.0, 0.25, 2.0),
        # Small deficit: all of it is covered.
        (0.125, 5.0, 0.0, 0.125, 4.75),
        # At (or below) the lower bound nothing is discharged.
        (3.0, 2.0, 0.0, 0.0, 2.0),
        (3.0, 1.0, 0.0, 0.0, 1.0),
        # Balanced household: the battery idles.
        (0.0, 4.0, 0.0, 0.0, 4.0),
    ],
)
def test_battery_dispatch_hand_cases(net, soc, charge, discharge, soc_after):
    c, d, s = dispatch(net, soc)
    assert float(c) == charge
    assert float(d) == discharge
    assert float(s) == soc_after


@pytest.mark.parametrize("net", [-3.0, -0.5, 0.0, 0.5, 3.0])
def test_no_battery_does_nothing(net):
    c, d, s = dispatch(net, 0.0, cap=0.0)
    assert (float(c), float(d), float(s)) == (0.0, 0.0, 0.0)


def test_battery_dispatch_default_household_battery():
    # 5 kWh, 2.5 kW, 15 min, 95 %, bounds [0.1, 0.9]: a 1 kWh surplus is capped at
    # 0.625 kWh by power and stores 0.625 * 0.95 = 0.59375 kWh.
    c, d, s = battery_dispatch(-1.0, 2.5, 5.0, 2.5, 0.25, 0.95, 0.1, 0.9)
    assert float(c) == 0.625
    assert float(d) == 0.0
    assert float(s) == pytest.approx(3.09375, abs=1e-12)
    # A 1 kWh deficit with 0.6 kWh stored: (0.6 - 0.5) * 0.95 = 0.095 kWh delivered,
    # leaving the battery at its 0.5 kWh floor.
    c, d, s = battery_dispatch(1.0, 0.6, 5.0, 2.5, 0.25, 0.95, 0.1, 0.9)
    assert float(c) == 0.0
    assert float(d) == pytest.approx(0.095, abs=1e-12)
    assert float(s) == pytest.approx(0.5, abs=1e-12)


def test_battery_dispatch_array_matches_scalar_calls():
    net = np.array([-3.0, -3.0, -0.25, 3.0, 3.0, 0.125, 0.7, -0.3])
    soc = np.array([3.0, 5.75, 3.0, 5.0, 2.5, 5.0, 0.0, 0.0])
    cap = np.array([CAP] * 6 + [0.0, 0.0])
    c, d, s = battery_dispatch(net, soc, cap, POWER, DT, ETA, LO, HI)
    np.testing.assert_array_equal(c, [1.0, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(d, [0.0, 0.0, 0.0, 1.0, 0.25, 0.125, 0.0, 0.0])
    np.testing.assert_array_equal(s, [3.5, 6.0, 3.125, 3.0, 2.0, 4.75, 0.0, 0.0])
    for i in range(len(net)):
        ci, di, si = battery_dispatch(net[i], soc[i], cap[i], POWER, DT, ETA, LO, HI)
        assert (ci, di, si) == (c[i], d[i], s[i])


@settings(max_examples=300, deadline=None, database=None)
@given(
    net=st.floats(-20.0, 20.0),
    cap=st.one_of(st.just(0.0), st.floats(0.1, 50.0)),
    power=st.floats(0.0, 20.0),
    dt=st.sampled_from([1 / 60, 0.25, 0.5, 1.0]),
    eta=st.floats(0.5, 1.0),
    lo=st.floats(0.0, 0.5),
    width=st.floats(0.0, 0.5),
    frac=st.floats(0.0, 1.0),
)
def test_battery_dispatch_properties(net, cap, power, dt, eta, lo, width, frac):
    hi = lo + width
    soc = cap * (lo + frac * width)
    c, d, s = battery_dispatch(net, soc, cap, power, dt, eta, lo, hi)
    c, d, s = float(c), float(d), float(s)
    tol = 1e-9
    assert c >= 0.0 and d >= 0.0
    assert c == 0.0 or d == 0.0
    # Never more than the surplus / deficit, never more than the power limit.
    assert c <= max(-net, 0.0) and d <= max(net, 0.0)
    assert c <= power * dt + tol and d <= power * dt + tol
    # SoC bounds (up to rounding of the last bit).
    assert cap * lo - tol <= s <= cap * hi + tol
    # Energy balance of the store.
    assert s == pytest.approx(soc + c * eta - d / eta, abs=tol)
    if cap == 0.0:
        assert (c, d, s) == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------- ev_energy
# 40 kWh EV, target 0.9 -> 36 kWh; 7.2 kW for 15 min -> 1.8 kWh; 90 % efficiency.
EV = dict(capacity_kwh=40.0, power_kw=7.2, dt_h=0.25, efficiency=0.9, target_soc=0.9)


def test_ev_plugged_charges_at_power_limit():
    wh, driven, soc = ev_energy(True, 2.0, 20.0, **EV)
    assert float(wh) == 1800.0
    assert float(driven) == 0.0
    assert float(soc) == pytest.approx(20.0 + 1.8 * 0.9, abs=1e-12)


def test_ev_plugged_charges_remaining_gap_in_whole_wh():
    # (36 - 35.5) / 0.9 = 0.5555... kWh -> floor(555.55) = 555 Wh.
    wh, driven, soc = ev_energy(True, 2.0, 35.5, **EV)
    assert float(wh) == 555.0
    assert float(driven) == 0.0
    assert float(soc) == pytest.approx(35.5 + 0.555 * 0.9, abs=1e-12)
    assert float(soc) <= 36.0


def test_ev_at_or_above_target_does_not_charge():
    for start in (36.0, 38.0):
        wh, driven, soc = ev_energy(True, 2.0, start, **EV)
        assert (float(wh), float(driven), float(soc)) == (0.0, 0.0, start)


def test_ev_away_drives_and_never_charges():
    wh, driven, soc = ev_energy(False, 2.0, 20.0, **EV)
    assert (float(wh), float(driven), float(soc)) == (0.0, 2.0, 18.0)


def test_ev_away_drive_capped_by_stored_energy():
    wh, driven, soc = ev_energy(False, 5.0, 3.0, **EV)
    assert (float(wh), float(driven), float(soc)) == (0.0, 3.0, 0.0)


def test_ev_array_and_scalar_calls_are_identical():
    plugged = np.array([True, True, True, False, False, True])
    drive = np.array([2.0, 2.0, 2.0, 2.0, 5.0, 0.3])
    soc = np.array([20.0, 35.5, 38.0, 20.0, 3.0, 12.345])
    cap = np.array([40.0, 40.0, 40.0, 40.0, 40.0, 17.3])
    wh, driven, after = ev_energy(plugged, drive, soc, cap, 7.2, 0.25, 0.9, 0.9)
    np.testing.assert_array_equal(wh[:5], [1800.0, 555.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(driven[:5], [0.0, 0.0, 0.0, 2.0, 3.0])
    # 17.3 * 0.9 - 12.345 = 3.225 kWh gap / 0.9 = 3.58 kWh > 1.8 kWh limit.
    assert wh[5] == 1800.0
    for i in range(len(soc)):
        one = ev_energy(plugged[i], drive[i], soc[i], cap[i], 7.2, 0.25, 0.9, 0.9)
        assert tuple(float(x) for x in one) == (wh[i], driven[i], after[i])


def test_ev_charge_is_whole_wh_and_soc_update_uses_efficiency():
    rng = np.random.default_rng(3)
    soc = rng.uniform(0.0, 40.0, 200)
    wh, driven, after = ev_energy(np.ones(200, bool), 1.0, soc, **EV)
    np.testing.assert_array_equal(wh, np.floor(wh))
    assert (wh >= 0).all() and (wh <= 1800.0).all()
    np.testing.assert_array_equal(driven, 0.0)
    np.testing.assert_array_equal(after, soc + wh / 1000.0 * 0.9)
    # Charging never lifts the SoC past the target (EVs already above it stay put).
    assert (after <= np.maximum(soc, 36.0) + 1e-9).all()
    assert ((wh == 0) == (soc >= 36.0)).all()


# ---------------------------------------------------------------- limit_price
def test_limit_price_band_endpoints():
    assert float(limit_price(0.0, 0.30, 0.10)) == 0.10
    assert float(limit_price(1.0, 0.30, 0.10)) == 0.30
    assert float(limit_price(0.5, 0.30, 0.10)) == 0.20
    assert float(limit_price(0.25, 0.12, 0.10)) == 0.105


def test_limit_price_rounds_to_micro_coins():
    # 0.10 + 0.02 / 3 = 0.10666... -> 0.106667
    assert float(limit_price(1 / 3, 0.12, 0.10)) == 0.106667
    # 0.10 + 0.123456789 * 1.0 = 0.223456789 -> 0.223457
    assert float(limit_price(0.123456789, 1.10, 0.10)) == 0.223457
    prices = limit_price(np.linspace(0, 1, 101), 0.3, 0.1)
    micro = prices * MICRO
    np.testing.assert_allclose(micro, np.rint(micro), atol=1e-6)
    assert prices.min() == 0.1 and prices.max() == 0.3
    assert (np.diff(prices) > 0).all()


# ---------------------------------------------------------------- generators
def test_generator_offer_blocks_default_provider():
    # 50 kW for 15 min in 4 blocks: 3125 Wh each; midpoints 1.5625, 4.6875, 7.8125,
    # 10.9375 kWh; prices 2 * 0.004 * s + 0.14.
    block_wh, prices = generator_offer_blocks(50.0, 0.25, 0.004, 0.14, 4)
    assert float(block_wh) == 3125.0
    np.testing.assert_array_equal(prices, [0.1525, 0.1775, 0.2025, 0.2275])


def test_generator_offer_blocks_floor_to_whole_wh():
    # 10 kW x 0.25 h / 3 = 0.8333 kWh -> 833 Wh; midpoints 0.4165, 1.2495, 2.0825 kWh.
    block_wh, prices = generator_offer_blocks(10.0, 0.25, 0.01, 0.2, 3)
    assert float(block_wh) == 833.0
    np.testing.assert_array_equal(prices, [0.20833, 0.22499, 0.24165])


def test_generator_offer_blocks_linear_cost_is_flat_and_tiny_capacity_is_zero():
    block_wh, prices = generator_offer_blocks(4.0, 1.0, 0.0, 0.15, 2)
    assert float(block_wh) == 2000.0
    np.testing.assert_array_equal(prices, [0.15, 0.15])
    block_wh, _ = generator_offer_blocks(0.001, 0.25, 0.004, 0.14, 4)
    assert float(block_wh) == 0.0


def test_generation_cost():
    assert generation_cost(3.0, 0.004, 0.14) == pytest.approx(0.456, abs=1e-15)
    assert generation_cost(0.0, 0.004, 0.14) == 0.0
    np.testing.assert_allclose(
        generation_cost(np.array([1.0, 2.0, 10.0]), 0.5, 1.0), [1.5, 4.0, 60.0]
    )
