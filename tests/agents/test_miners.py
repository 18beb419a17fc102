"""Seed 000 Algorithm 1: candidate rules, the 20 % ratio, seeded re-selection."""

# ruff: noqa: D103

from __future__ import annotations

import numpy as np
import pytest

from agents.miners import (
    BUILDING,
    EV,
    HOME,
    INDUSTRY,
    MinerCandidates,
    MinerParams,
    candidate_rows,
    select_miners,
)
from agents.params import ParameterError

BASE = {"home_kw": 5.0, "building_kw": 10.0, "ev_hash_h": 500_000.0}


def pool(kind, capacity=None, protocol=None, rate=None) -> MinerCandidates:
    n = len(kind)
    return MinerCandidates(
        agent=np.arange(1, n + 1),
        kind=np.asarray(kind),
        bus=np.arange(n),
        power_capacity_kw=np.zeros(n) if capacity is None else np.asarray(capacity, float),
        protocol_time_h=np.zeros(n) if protocol is None else np.asarray(protocol, float),
        hash_rate_hps=np.full(n, 100_000) if rate is None else np.asarray(rate),
        storage_gb=np.full(n, 32.0),
    )


def test_homes_and_buildings_need_capacity_above_their_own_threshold():
    p = pool([HOME, HOME, HOME, BUILDING, BUILDING], capacity=[4.9, 5.0, 5.1, 9.0, 10.5])
    # Strictly above: 5.0 kW is not enough for a home; 9 kW passes a home's bar, not a building's.
    np.testing.assert_array_equal(candidate_rows(p, MinerParams(), BASE), [2, 4])


def test_top_half_of_industry_by_processing_power():
    p = pool([INDUSTRY] * 5, rate=[10, 50, 30, 50, 20])
    # ceil(0.5 * 5) = 3: rates 50, 50 (tie by agent id) and 30.
    np.testing.assert_array_equal(candidate_rows(p, MinerParams(), BASE), [1, 2, 3])
    p4 = pool([INDUSTRY] * 4, rate=[10, 40, 30, 20])
    np.testing.assert_array_equal(candidate_rows(p4, MinerParams(), BASE), [1, 2])


def test_ev_utility_is_processing_power_times_protocol_time():
    p = pool([EV, EV, EV], protocol=[4.0, 5.0, 6.0], rate=[100_000, 100_000, 100_000])
    np.testing.assert_array_equal(p.ev_utility_hash_h, [4e5, 5e5, 6e5])
    np.testing.assert_array_equal(candidate_rows(p, MinerParams(), BASE), [2])


def test_twenty_percent_of_the_nodes_become_miners():
    # 100 nodes: 50 homes (all qualify), 30 buildings (none), 10 industry, 10 EVs (none).
    kind = [HOME] * 50 + [BUILDING] * 30 + [INDUSTRY] * 10 + [EV] * 10
    capacity = [6.0] * 50 + [1.0] * 30 + [0.0] * 20
    sel = select_miners(pool(kind, capacity=capacity), MinerParams(), seed=7)
    assert len(sel.candidates) == 55  # 50 homes + top 5 industry
    assert len(sel.miners) == 20  # 20 % of 100
    assert set(sel.miners) <= set(sel.candidates)
    assert np.all(np.diff(sel.miners) > 0)


def test_fewer_candidates_than_the_ratio_asks_makes_them_all_miners():
    sel = select_miners(pool([HOME] * 10, capacity=[6.0] * 2 + [1.0] * 8), MinerParams(), seed=1)
    np.testing.assert_array_equal(sel.miners, [0, 1])


def test_no_candidate_is_an_error_naming_the_threshold():
    with pytest.raises(ParameterError, match="^miners.home_threshold_kw"):
        select_miners(pool([HOME] * 3), MinerParams(), seed=1)


def test_reselection_is_deterministic_and_changes_thresholds():
    kind = [HOME] * 60 + [EV] * 40
    rng = np.random.default_rng(3)
    p = pool(kind, capacity=rng.uniform(3, 8, 100), protocol=rng.uniform(2, 10, 100))
    params = MinerParams()
    first = [select_miners(p, params, seed=11, period=k) for k in range(4)]
    again = [select_miners(p, params, seed=11, period=k) for k in range(4)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.miners, b.miners)
        assert a.thresholds == b.thresholds
    assert first[0].thresholds == BASE
    assert first[1].thresholds != first[0].thresholds
    for sel in first[1:]:
        for key, value in sel.thresholds.items():
            assert 0.8 * BASE[key] <= value <= 1.2 * BASE[key]
    assert len({tuple(s.miners) for s in first}) > 1  # a new random pick each period
    other = select_miners(p, params, seed=12, period=0)
    assert not np.array_equal(other.miners, first[0].miners)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"ratio": 0.0}, "ratio"),
        ({"industry_top_share": 1.5}, "industry_top_share"),
        ({"period_steps": 0}, "period_steps"),
        ({"static_hash_rate_hps": (0.0, 1.0)}, "static_hash_rate_hps"),
    ],
)
def test_bad_parameters_are_named(kwargs, key):
    with pytest.raises(ParameterError, match=f"^{key}"):
        MinerParams(**kwargs)
