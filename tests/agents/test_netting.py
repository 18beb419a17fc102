"""Net settlement plans: a hand-computed window, conservation and admissibility."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.netting import (
    LEG_DEFICIT,
    LEG_PAY,
    LEG_PAYOUT,
    LEG_SURPLUS,
    NetWindow,
    SettlementConfig,
    _run_digests,
    net_positions,
    plan_window,
    trades_sha256,
)
from agents.params import ParameterError
from agents.settlement import payment_micro, price_micro

# Agents: 0 the grid operator, 1 and 2 in area 0, 3 in area 1.
AREA = np.array([-1, 0, 0, 1], np.int32)
WINDOW = {"window": 0, "first_step": 0, "last_step": 1, "first_trade_id": 0, "end_trade_id": 4}


def _example():
    # step 0: id 0, 1 buys 1000 Wh from 2 at 0.15; id 1, 3 imports 500 Wh at 0.20.
    # step 1: id 2, 2 exports 2000 Wh at 0.10; id 3, 1 buys 1000 Wh from 3 at 0.12.
    buyer = np.array([1, 3, 0, 1])
    seller = np.array([2, 0, 2, 3])
    energy_wh = np.array([1000, 500, 2000, 1000])
    amount = payment_micro(energy_wh, price_micro(np.array([0.15, 0.20, 0.10, 0.12])))
    return np.arange(4), buyer, seller, amount


def test_hand_computed_window() -> None:
    trade_id, buyer, seller, amount = _example()
    assert amount.tolist() == [150_000, 100_000, 200_000, 120_000]
    position = net_positions(4, buyer, seller, amount)
    # 1: -150000 - 120000; 2: +150000 + 200000; 3: -100000 + 120000; grid: +100000 - 200000.
    assert position.tolist() == [-100_000, -270_000, 350_000, 20_000]
    plan = plan_window(WINDOW, trade_id, buyer, seller, amount, AREA, 2, "g" * 64)
    a0, a1 = plan.areas
    assert a0.payer.tolist() == [1] and a0.pay_micro.tolist() == [270_000]
    assert a0.payee.tolist() == [2] and a0.payout_micro.tolist() == [350_000]
    assert a1.payer.tolist() == [] and a1.payee.tolist() == [3]
    assert a1.payout_micro.tolist() == [20_000]
    assert a0.surplus_micro == a1.surplus_micro == 0
    # Area 0 owes 80000 more than it took in, area 1 20000: the grid's 100000.
    assert plan.deficit_area.tolist() == [0, 1]
    assert plan.deficit_micro.tolist() == [80_000, 20_000]
    assert a0.pay_payload[0] == {
        **WINDOW,
        "leg": LEG_PAY,
        "agent": 1,
        "n_trades": 2,
        "trades_sha256": hashlib.sha256(b"0,3").hexdigest(),
    }
    assert a1.payout_payload[0]["trades_sha256"] == hashlib.sha256(b"1,3").hexdigest()
    assert a1.payout_payload[0]["leg"] == LEG_PAYOUT
    assert plan.deficit_payload[1] == {**WINDOW, "leg": LEG_DEFICIT, "area": 1}
    # Each trade links to its buyer's leg, the seller's when the grid buys.
    assert plan.party_of_trade.tolist() == [1, 3, 2, 1]


def test_trades_sha256_sorts_ids() -> None:
    assert trades_sha256(np.array([10, 2, 7])) == hashlib.sha256(b"2,7,10").hexdigest()


def test_window_is_due_every_period_and_at_the_end() -> None:
    window = NetWindow(period_steps=4, n_steps=10)
    assert [s for s in range(10) if window.due(s)] == [3, 7, 9]


@pytest.mark.parametrize(
    "kwargs, key",
    [({"mode": "gross"}, "settlement.mode"), ({"period_steps": 0}, "settlement.period_steps")],
)
def test_bad_settlement_config(kwargs, key) -> None:
    with pytest.raises(ParameterError, match=key):
        SettlementConfig(**kwargs)


def _apply(balances: dict, sender, receiver, amount: int) -> None:
    balances[sender] = balances.get(sender, 0) - amount
    assert balances[sender] >= 0, f"{sender} overdraws"
    balances[receiver] = balances.get(receiver, 0) + amount


@settings(max_examples=150, deadline=None)
@given(
    n_agents=st.integers(2, 9),
    n_areas=st.integers(1, 3),
    data=st.data(),
)
def test_legs_conserve_coins_and_are_admissible(n_agents, n_areas, data) -> None:
    """Legs 0-3 in order: no overdraft if per-trade payment had none; clearing ends at 0."""
    area = np.array([-1] + [data.draw(st.integers(0, n_areas - 1)) for _ in range(n_agents - 1)])
    n_trades = data.draw(st.integers(0, 25))
    pairs = [
        data.draw(st.tuples(st.integers(0, n_agents - 1), st.integers(0, n_agents - 1)))
        for _ in range(n_trades)
    ]
    pairs = [(b, s) for b, s in pairs if b != s]
    buyer = np.array([b for b, _ in pairs], np.int64)
    seller = np.array([s for _, s in pairs], np.int64)
    amount = np.array([data.draw(st.integers(0, 10**9)) for _ in pairs], np.int64)
    # Smallest start balances with which paying trade by trade never overdraws.
    start = np.zeros(n_agents, np.int64)
    running = np.zeros(n_agents, np.int64)
    for b, s, x in zip(buyer, seller, amount, strict=True):
        running[b] -= x
        start[b] = max(start[b], -running[b])
        running[s] += x
    trade_id = np.arange(len(pairs))
    plan = plan_window(WINDOW, trade_id, buyer, seller, amount, area, n_areas, "grid")
    balances = {("agent", i): int(start[i]) for i in range(n_agents)}
    grid = ("agent", 0)
    for a, legs in enumerate(plan.areas):  # leg 0
        for i, x in zip(legs.payer.tolist(), legs.pay_micro.tolist(), strict=True):
            _apply(balances, ("agent", i), ("clearing", a), x)
    for a, legs in enumerate(plan.areas):  # leg 1
        if legs.surplus_micro:
            _apply(balances, ("clearing", a), grid, legs.surplus_micro)
    for a, x in zip(plan.deficit_area.tolist(), plan.deficit_micro.tolist(), strict=True):
        _apply(balances, grid, ("clearing", a), x)  # leg 2
    for a, legs in enumerate(plan.areas):  # leg 3
        for i, x in zip(legs.payee.tolist(), legs.payout_micro.tolist(), strict=True):
            _apply(balances, ("clearing", a), ("agent", i), x)
    position = net_positions(n_agents, buyer, seller, amount)
    for i in range(n_agents):
        assert balances[("agent", i)] == start[i] + position[i]
    assert all(balances.get(("clearing", a), 0) == 0 for a in range(n_areas))
    # One leg per agent with a non-zero position, none for the others.
    legs_of = [i for legs in plan.areas for i in [*legs.payer.tolist(), *legs.payee.tolist()]]
    assert sorted(legs_of) == [i for i in range(1, n_agents) if position[i] != 0]
    assert LEG_PAY < LEG_SURPLUS < LEG_DEFICIT < LEG_PAYOUT


@given(st.lists(st.integers(min_value=0, max_value=10**12), max_size=40), st.data())
def test_run_digests_equal_the_per_run_commitment(ids, data):
    ids = np.array(sorted(ids), dtype=np.int64)
    first = data.draw(st.integers(min_value=0, max_value=len(ids)))
    end = data.draw(st.integers(min_value=first, max_value=len(ids)))
    assert _run_digests(ids)(first, end) == trades_sha256(ids[first:end])
