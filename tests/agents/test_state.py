"""Columnar state: what each kind's draw takes from the area's generator."""

from __future__ import annotations

import numpy as np

from agents.population import AreaCounts, EVParams, HouseholdParams, ProviderParams
from agents.state import EVState, HouseholdState, ProviderState, Wallets


def test_household_draw_sequence_and_equipment():
    counts = AreaCounts(households=9, with_pv=5, with_battery=2, evs=0, providers=0)
    buses = np.array([2, 3, 4, 5])
    hh = HouseholdState.draw(counts, HouseholdParams(), buses, np.random.default_rng(11))
    ref = np.random.default_rng(11)
    mean_load = ref.uniform(0.3, 0.8, 9)
    ask = ref.uniform(0.1, 0.6, 9)
    bid = ref.uniform(0.4, 0.9, 9)
    order = ref.permutation(9)
    home = ref.choice(buses, size=9)
    np.testing.assert_array_equal(hh.mean_load_kw, mean_load)
    np.testing.assert_array_equal(hh.ask_markup, ask)
    np.testing.assert_array_equal(hh.bid_markup, bid)
    np.testing.assert_array_equal(hh.bus, home)
    assert hh.bus.dtype == np.int64
    expected_pv = np.zeros(9)
    expected_pv[order[:5]] = 5.0
    expected_cap = np.zeros(9)
    expected_cap[order[:2]] = 5.0
    np.testing.assert_array_equal(hh.pv_peak_kw, expected_pv)
    np.testing.assert_array_equal(hh.battery_capacity_kwh, expected_cap)
    np.testing.assert_array_equal(hh.soc_kwh, expected_cap * 0.5)
    for name in ("load_kwh", "pv_kwh", "charge_kwh", "discharge_kwh", "net_kwh"):
        np.testing.assert_array_equal(getattr(hh, name), np.zeros(9))
    # Output arrays are distinct objects (writing one must not change another).
    hh.load_kwh[0] = 1.0
    assert hh.pv_kwh[0] == 0.0


def test_ev_draw_sequence_and_schedule():
    homes = np.array([7, 8, 9])
    buses = np.array([2, 3, 4, 5, 6])
    ev = EVState.draw(6, EVParams(), homes, buses, 15, np.random.default_rng(5))
    ref = np.random.default_rng(5)
    capacity = ref.uniform(12.0, 36.0, 6)
    soc = capacity * ref.uniform(0.3, 0.6, 6)
    depart = np.floor(ref.uniform(7.0, 9.0, 6) * 4)
    arrive = np.floor(ref.uniform(16.0, 19.0, 6) * 4)
    bid = ref.uniform(0.5, 1.0, 6)
    home = homes[ref.integers(3, size=6)]
    work = ref.choice(buses, size=6)
    np.testing.assert_array_equal(ev.capacity_kwh, capacity)
    np.testing.assert_array_equal(ev.soc_kwh, soc)
    np.testing.assert_array_equal(ev.depart_step, depart)
    np.testing.assert_array_equal(ev.arrive_step, arrive)
    # Trip attributes come from their own stream (default: seed 0); no graph: outside km only.
    extra = np.random.default_rng(0)
    consumption = extra.uniform(0.14, 0.20, 6)
    outside = extra.uniform(5.0, 20.0, 6)
    reserve = extra.uniform(0.2, 0.3, 6)
    np.testing.assert_array_equal(ev.leg_km, outside)
    np.testing.assert_allclose(ev.range_km, capacity / consumption, rtol=1e-15)
    # Seed 000 Eq. 4: d / D_max x C = d x consumption.
    np.testing.assert_allclose(ev.leg_kwh, outside * consumption, rtol=1e-12)
    np.testing.assert_allclose(ev.reserve_kwh, reserve * capacity, rtol=1e-15)
    assert not ev.v2g.any()
    np.testing.assert_allclose(ev.utility_weight, 1.0 / (soc / capacity), rtol=1e-12)
    np.testing.assert_array_equal(ev.bid_markup, bid)
    np.testing.assert_array_equal(ev.home_bus, home)
    np.testing.assert_array_equal(ev.work_bus, work)
    assert ev.plugged.all() and not ev.charge_wh.any() and not ev.driven_kwh.any()


def test_ev_arrival_is_at_least_one_step_after_departure():
    params = EVParams(departure_h=(8.0, 8.0), arrival_h=(8.1, 8.1))
    ev = EVState.draw(3, params, np.array([1]), np.array([2]), 60, np.random.default_rng(0))
    np.testing.assert_array_equal(ev.depart_step, [8, 8, 8])
    np.testing.assert_array_equal(ev.arrive_step, [9, 9, 9])
    # One step away: both legs are driven in that step.
    from agents.trips import legs_driven

    np.testing.assert_array_equal(legs_driven(8, ev.depart_step, ev.arrive_step, 24), [2, 2, 2])


def test_no_evs_and_no_buses():
    ev = EVState.draw(
        0, EVParams(), np.zeros(0, np.int64), np.zeros(0, np.int64), 15, np.random.default_rng(0)
    )
    assert len(ev.soc_kwh) == 0 and ev.home_bus.dtype == np.int64


def test_providers_and_wallets():
    pv = ProviderState.create(2, ProviderParams(capacity_kw=30.0), station=4)
    np.testing.assert_array_equal(pv.bus, [4, 4])
    np.testing.assert_array_equal(pv.capacity_kw, [30.0, 30.0])
    np.testing.assert_array_equal(pv.c1, [0.004, 0.004])
    np.testing.assert_array_equal(pv.c2, [0.14, 0.14])
    assert pv.sold_wh.dtype == np.int64 and not pv.sold_wh.any()
    w = Wallets.create(np.array([1000.0, 0.1234567, 100.0]))
    np.testing.assert_array_equal(w.wallet_micro, [1_000_000_000, 123_457, 100_000_000])
    for name in ("wallet_micro", "nonce", "paid_micro", "received_micro", "grid_only_cost_micro"):
        assert getattr(w, name).dtype == np.int64
    assert not (w.nonce.any() or w.paid_micro.any() or w.received_micro.any())
