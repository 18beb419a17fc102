"""Layouts: routing, cross-area atomicity (commit, abort, refusal), genesis split, dual tags."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain.consensus import Central, Hybrid, Pbft, ProofOfWork
from chain.layouts import LayoutConfig, home_chain_ids
from chain.layouts.cross_shard import CREDIT_KIND, REFUND_KIND
from chain.verify import verify_run
from tests.chain.layout_builders import WALLET, make_town


def _balance(town, chain_id: str, key: str) -> int:
    return town.layout.chains[chain_id].ledger.balance_of(key)


def test_sharded_genesis_split_keeps_wallets_home_and_splits_the_operator():
    town = make_town("sharded", n_areas=3, cross_reserve_coins=2.0)
    shards = town.layout.shard_ids
    assert shards == ["town-shard0", "town-shard1", "town-shard2"]
    assert [_balance(town, cid, town.operator.public_hex) for cid in shards] == [
        3_000_000,
        3_000_000,
        3_000_000,
    ]
    assert _balance(town, shards[1], town.key(1, 0)) == WALLET
    assert _balance(town, shards[0], town.key(1, 0)) == 0
    escrow = town.layout.escrow[shards[2]].public_hex
    assert _balance(town, shards[2], escrow) == 2_000_000
    assert home_chain_ids(town.layout.config, "town", 3) == shards


@pytest.mark.parametrize("cross", ["full", "partial"])
def test_cross_area_payment_commits_in_both_shards(cross, tmp_path):
    town = make_town("sharded", cross=cross)
    stx, rejected = town.pay((0, 1), (2, 0), 1_234, at_ms=0)
    assert rejected == []
    assert stx.tx.receiver == town.layout.escrow["town-shard0"].public_hex
    town.drain()
    (payment,) = town.layout.payments
    assert payment.status == "committed"
    assert _balance(town, "town-shard0", town.key(0, 1)) == WALLET - 1_234
    assert _balance(town, "town-shard2", town.key(2, 0)) == WALLET + 1_234
    credit = [s for b in town.layout.chains["town-shard2"].blocks for s in b.transactions]
    assert [s.tx.kind for s in credit] == [CREDIT_KIND]
    assert credit[0].tx.payload["lock_tx"] == stx.tx_hash
    town.layout.export(tmp_path)
    report = verify_run(tmp_path)
    assert report.ok, report.problems
    assert report.layout["cross_committed"] == 1


def test_full_sharding_is_slower_than_partial_by_the_two_phase_exchange():
    latency = {}
    for cross in ("full", "partial"):
        town = make_town("sharded", cross=cross)
        town.pay((0, 0), (1, 0), 10, at_ms=0)
        town.drain()
        (payment,) = town.layout.payments
        latency[cross] = payment.decided_ms - payment.submitted_ms
    # full: lock at slot 1 (2 s + PoA propagation), 3 messages of 50 ms + 200 B at
    # 100 Mbit/s, credit at the next 2 s slot; partial: both legs in slot 1.
    assert latency["partial"] < latency["full"]
    assert latency["full"] >= 4_000 > latency["partial"] >= 2_000


def test_full_sharding_aborts_and_refunds_when_the_payee_shard_votes_no(tmp_path):
    town = make_town("sharded", cross="full", cross_reserve_coins=0.0)
    stx, rejected = town.pay((1, 0), (0, 2), 5_000, at_ms=0)
    assert rejected == []
    town.drain()
    (payment,) = town.layout.payments
    assert payment.status == "aborted"
    assert payment.credit_tx == "" and payment.refund_tx
    assert _balance(town, "town-shard1", town.key(1, 0)) == WALLET
    assert _balance(town, "town-shard0", town.key(0, 2)) == WALLET
    kinds = [s.tx.kind for b in town.layout.chains["town-shard1"].blocks for s in b.transactions]
    assert kinds == ["p2p_payment", REFUND_KIND]
    town.layout.export(tmp_path)
    report = verify_run(tmp_path)
    assert report.ok, report.problems
    assert report.layout["cross_aborted"] == 1


def test_partial_sharding_refunds_at_once_when_the_payee_shard_cannot_pay():
    town = make_town("sharded", cross="partial", cross_reserve_coins=0.0)
    town.pay((1, 0), (0, 2), 5_000, at_ms=0)
    town.pay((1, 0), (1, 1), 7, at_ms=0)  # the payer's next nonce still works
    town.drain()
    (payment,) = town.layout.payments
    assert payment.status == "aborted" and payment.credit_tx == ""
    kinds = [s.tx.kind for b in town.layout.chains["town-shard1"].blocks for s in b.transactions]
    assert kinds == ["p2p_payment", "p2p_payment", REFUND_KIND]
    assert not town.layout.chains["town-shard0"].blocks
    assert _balance(town, "town-shard1", town.key(1, 0)) == WALLET - 7
    assert town.layout.metrics()["cross_aborted"] == 1


def test_escrow_reservations_stop_overcommitting_the_reserve():
    town = make_town("sharded", cross="full", cross_reserve_coins=0.01)  # 10,000 micro
    for i in range(3):
        town.pay((0, i), (1, 0), 4_000, at_ms=0)
    town.drain()
    assert [p.status for p in town.layout.payments] == ["committed", "committed", "aborted"]
    escrow = town.layout.escrow["town-shard1"].public_hex
    assert _balance(town, "town-shard1", escrow) == 2_000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cross=st.sampled_from(["full", "partial"]),
    reserve_micro=st.integers(0, 30_000),
    payments=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 2), st.integers(1, 9_000)),
        min_size=1,
        max_size=8,
    ),
)
def test_every_cross_payment_is_in_both_shards_or_in_neither(cross, reserve_micro, payments):
    town = make_town(
        "sharded", cross=cross, users_per_area=2, cross_reserve_coins=reserve_micro / 1e6
    )
    expected = {(a, i): WALLET for a in range(3) for i in range(2)}
    for t, (a, i, b, amount) in enumerate(payments):
        town.pay((a, i), (b, (i + 1) % 2), amount, at_ms=t * 700)
    town.drain(start_ms=len(payments) * 700)
    by_trade = {p.trade_id: p for p in town.layout.payments}
    for t, (a, i, b, amount) in enumerate(payments):
        payee = (b, (i + 1) % 2)
        if a == b:
            expected[(a, i)] -= amount
            expected[payee] += amount
            continue
        status = by_trade[t].status
        assert status in ("committed", "aborted")
        if status == "committed":
            expected[(a, i)] -= amount
            expected[payee] += amount
    for (a, i), micro in expected.items():
        assert town.layout.balance_of(town.key(a, i)) == micro
    for chain in town.layout.chains.values():
        assert chain.ledger.total_supply() == chain.genesis.total_supply


def test_cross_node_selection_reruns_every_reselect_every_blocks():
    town = make_town("sharded", cross="partial", reselect_every=2, users_per_area=4)
    nodes = town.layout.cross_nodes
    assert nodes.current == [0, 0, 0]  # equal credit: lowest index
    # Users 1 and 3 of area 0 are served by node 1; give them the best credit.
    town.layout.set_credit(0, np.array([60.0, 130.0, 60.0, 130.0]))
    for t in range(3):
        town.pay((0, 0), (0, 1), 1, at_ms=t * 2_000)
        town.drain(start_ms=(t + 1) * 2_000)
    assert town.layout.chains["town-shard0"].ledger.height == 3
    assert nodes.current[0] == 1
    assert [(s.area, s.shard_height, s.node) for s in nodes.history] == [
        (0, 0, 0),
        (1, 0, 0),
        (2, 0, 0),
        (0, 2, 1),
    ]
    assert town.layout.manifest()["cross_node_selections"][-1] == {
        "area": 0,
        "shard_height": 2,
        "node": 1,
    }


def test_set_credit_rejects_wrong_shapes():
    town = make_town("sharded")
    with pytest.raises(ValueError, match="credit must hold 3 finite values"):
        town.layout.set_credit(0, np.array([1.0, 2.0]))


def test_dual_routes_by_chain_tag_and_splits_wallets(tmp_path):
    town = make_town("dual", dual_block_period_s=60.0)
    layout = town.layout
    assert _balance(town, "town-letb", town.key(0, 0)) == WALLET // 2
    assert _balance(town, "town-retb", town.key(0, 0)) == WALLET // 2
    assert _balance(town, "town-letb", town.operator.public_hex) == 9_000_000
    town.pay((0, 0), (1, 1), 100, at_ms=0, tag=1)
    town.pay((0, 0), (1, 1), 200, at_ms=0, tag=0)
    town.drain(step_ms=60_000)
    retb = [s.tx.amount for b in layout.chains["town-retb"].blocks for s in b.transactions]
    letb = [s.tx.amount for b in layout.chains["town-letb"].blocks for s in b.transactions]
    assert (retb, letb) == ([100], [200])
    assert [b.header.timestamp_ms for b in layout.chains["town-retb"].blocks] == [60_000]
    layout.export(tmp_path)
    assert verify_run(tmp_path).ok


@pytest.mark.parametrize(
    "consensus",
    [Pbft(n_validators=4), Central(), Hybrid(n_validators=4), ProofOfWork(n_validators=2)],
    ids=["pbft", "central", "hybrid", "pow"],
)
@pytest.mark.parametrize("layout", ["sharded", "two_layer", "dual"])
def test_every_consensus_runs_every_layout(consensus, layout, tmp_path):
    town = make_town(layout, consensus=consensus, cross="full", dual_block_period_s=10.0)
    town.pay((0, 0), (1, 0), 700, at_ms=0)
    town.pay((2, 1), (2, 2), 300, at_ms=0)
    town.drain(step_ms=5_000, max_rounds=400)
    layout_ = town.layout
    assert layout_.balance_of(town.key(1, 0)) == WALLET + 700
    layout_.export(tmp_path)
    report = verify_run(tmp_path)
    assert report.ok, report.problems


def test_layout_config_rejects_bad_values():
    with pytest.raises(ValueError, match="^layout must be one of single, sharded"):
        LayoutConfig(layout="mesh")
    with pytest.raises(ValueError, match="^cross must be one of full, partial"):
        LayoutConfig(cross="none")
    with pytest.raises(ValueError, match="^reselect_every must be an int >= 1"):
        LayoutConfig(reselect_every=True)
    with pytest.raises(ValueError, match="^dual_block_period_s must be > 0"):
        LayoutConfig(dual_block_period_s=0.0005)


@pytest.mark.parametrize("layout", ["sharded", "two_layer"])
def test_a_pickled_layout_resumes_mid_exchange_with_the_same_heads(layout):
    import pickle

    town = make_town(layout, cross="full")
    town.pay((0, 0), (1, 0), 100, at_ms=0)
    town.layout.advance_to(3_000)  # the lock committed, the two-phase exchange is under way
    assert town.layout.pending
    copy = pickle.loads(pickle.dumps(town.layout))
    town.drain()
    heads = [c.head_hash for c in town.layout.chains.values()]
    town.layout = copy
    town.drain()
    assert copy.payments[0].status == "committed"
    assert [c.head_hash for c in copy.chains.values()] == heads
