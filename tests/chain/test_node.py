"""The PoA chain driver: sealing schedule, capacity, rejections and metrics."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import Chain, Identity, NetworkModel, ProofOfAuthority, make_genesis
from chain.errors import InvalidSignature, Overdraft, StaleNonce
from tests.chain.builders import CHAIN_ID, COIN, new_chain, pay, users, validators

ALICE, BOB, CAROL = users(3)


def test_constructor_checks_consistency() -> None:
    poa = ProofOfAuthority(n_validators=2)
    vals = validators(2)
    genesis = make_genesis(CHAIN_ID, poa, {}, vals)
    Chain(genesis, poa, vals)
    with pytest.raises(ValueError, match="in order"):
        Chain(genesis, poa, vals[::-1])
    with pytest.raises(ValueError, match="n_validators"):
        three = validators(3)
        Chain(make_genesis(CHAIN_ID, poa, {}, three), poa, three)
    with pytest.raises(ValueError, match="block_period_ms"):
        Chain(genesis, ProofOfAuthority(block_period_s=1.0, n_validators=2), vals)


def test_make_genesis_records_params() -> None:
    poa = ProofOfAuthority(block_period_s=1.5, max_block_tx=10, n_validators=1)
    genesis = make_genesis(CHAIN_ID, poa, {ALICE.public_hex: 5}, validators(1), {"seed": 3})
    assert genesis.consensus == "poa"
    assert genesis.params == {
        "seed": 3, "block_period_ms": 1500, "max_block_tx": 10, "n_validators": 1,
        "seal_empty_blocks": 0,
    }  # fmt: skip


def test_proposers_rotate_round_robin(chain: Chain) -> None:
    vals = validators(4)
    for n in range(6):
        chain.submit([pay(ALICE, BOB, 1, n, timestamp_ms=2000 * n)])
    blocks = chain.advance_to(20_000)
    assert [b.height for b in blocks] == [1, 2, 3, 4, 5, 6]
    assert [b.header.proposer for b in blocks] == [
        vals[(h - 1) % 4].public_hex for h in range(1, 7)
    ]
    assert [b.header.timestamp_ms for b in blocks] == [2000, 4000, 6000, 8000, 10000, 12000]
    assert chain.head_hash == blocks[-1].block_hash == chain.ledger.head_hash
    assert chain.blocks == blocks


def test_tx_enters_only_slots_strictly_after_its_timestamp(chain: Chain) -> None:
    chain.submit(
        [pay(ALICE, BOB, 1, 0, timestamp_ms=1999), pay(BOB, ALICE, 1, 0, timestamp_ms=2000)]
    )
    assert chain.advance_to(1999) == []
    first = chain.advance_to(2000)
    assert [b.n_tx for b in first] == [1] and first[0].header.timestamp_ms == 2000
    assert len(chain.mempool) == 1
    assert chain.advance_to(3999) == []
    second = chain.advance_to(4000)
    assert second[0].header.timestamp_ms == 4000 and second[0].n_tx == 1
    assert chain.now_ms == 4000


def test_idle_slots_are_skipped_without_empty_blocks(chain: Chain) -> None:
    chain.submit([pay(ALICE, BOB, 1, 0, timestamp_ms=9_000)])
    blocks = chain.advance_to(60_000)
    assert [(b.height, b.header.timestamp_ms) for b in blocks] == [(1, 10_000)]
    # A late transaction goes into the first slot after the clock, not a past one.
    chain.submit([pay(ALICE, BOB, 1, 1, timestamp_ms=11_000)])
    blocks = chain.advance_to(62_000)
    assert [(b.height, b.header.timestamp_ms) for b in blocks] == [(2, 62_000)]


def test_seal_empty_blocks_seals_every_slot() -> None:
    chain = new_chain(ProofOfAuthority(block_period_s=1.0, seal_empty_blocks=True))
    chain.submit([pay(ALICE, BOB, 1, 0, timestamp_ms=2500)])
    blocks = chain.advance_to(5_500)
    assert [b.header.timestamp_ms for b in blocks] == [1000, 2000, 3000, 4000, 5000]
    assert [b.n_tx for b in blocks] == [0, 0, 1, 0, 0]
    assert blocks[0].header.merkle_root == "0" * 64
    assert chain.advance_to(5_999) == []
    assert len(chain.advance_to(6_000)) == 1


def test_capacity_overflow_waits_for_the_next_block() -> None:
    chain = new_chain(ProofOfAuthority(block_period_s=2.0, max_block_tx=3))
    stxs = [pay(ALICE, BOB, 1, n, timestamp_ms=100) for n in range(7)]
    assert chain.submit(stxs) == []
    first = chain.advance_to(2000)
    assert [b.n_tx for b in first] == [3] and len(chain.mempool) == 4
    rest = chain.advance_to(6000)
    assert [b.n_tx for b in rest] == [3, 1]
    assert [b.header.timestamp_ms for b in rest] == [4000, 6000]
    committed = [stx for b in chain.blocks for stx in b.transactions]
    assert committed == stxs  # FIFO order preserved across blocks


def test_clock_cannot_go_back(chain: Chain) -> None:
    chain.advance_to(5000)
    with pytest.raises(ValueError, match="before the chain clock"):
        chain.advance_to(4999)
    with pytest.raises(TypeError):
        chain.advance_to(6000.0)  # type: ignore[arg-type]


def test_submit_returns_and_counts_rejections(chain: Chain) -> None:
    good = pay(ALICE, BOB, COIN, 0)
    bad_sig = pay(BOB, ALICE, 1, 0)
    bad_sig = type(bad_sig)(bad_sig.tx, bad_sig.tx_hash, "00" * 64)
    rejected = chain.submit([good, good, bad_sig, pay(CAROL, ALICE, 100 * COIN, 0)])
    assert [type(err) for _, err in rejected] == [StaleNonce, InvalidSignature, Overdraft]
    assert rejected[0][0] is good
    metrics = chain.metrics()
    assert metrics["rejected_tx"] == 3
    assert metrics["rejected_tx_stale_nonce"] == 1
    assert metrics["rejected_tx_invalid_signature"] == 1
    assert metrics["rejected_tx_overdraft"] == 1
    assert metrics["rejected_tx_future_nonce"] == 0
    assert metrics["mempool_size"] == 1


def test_metrics() -> None:
    # 10 ms links at 8 Mbit/s: a block of b bytes reaches every sealer 10 + b / 1000 ms later.
    network = NetworkModel(latency_ms=10.0, bandwidth_mbps=8.0)
    chain = new_chain(
        ProofOfAuthority(block_period_s=2.0, max_block_tx=2, n_validators=3, network=network)
    )
    stamps = [0, 500, 1000, 1500, 4100]
    chain.submit([pay(ALICE, BOB, 10, n, timestamp_ms=t) for n, t in enumerate(stamps)])
    blocks = chain.advance_to(10_000)
    assert [b.n_tx for b in blocks] == [2, 2, 1]
    commit = [b.header.timestamp_ms + 10 + b.size_bytes / 1000 for b in blocks]
    latencies = [commit[0] - 0, commit[0] - 500, commit[1] - 1000, commit[1] - 1500,
                 commit[2] - 4100]  # fmt: skip
    metrics = chain.metrics()
    assert metrics["blocks"] == 3 and metrics["committed_tx"] == 5
    assert metrics["confirmed_tx"] == 5 and metrics["unconfirmed_tx"] == 0
    assert metrics["commit_latency_mean_ms"] == pytest.approx(np.mean(latencies))
    assert metrics["confirmation_latency_mean_ms"] == pytest.approx(np.mean(latencies))
    assert metrics["confirmation_latency_p95_ms"] == pytest.approx(np.percentile(latencies, 95))
    assert metrics["throughput_tx_per_s"] == pytest.approx(5 / 10.0)
    assert metrics["mean_block_tx"] == pytest.approx(5 / 3)
    assert metrics["std_block_tx"] == pytest.approx(np.std([2, 2, 1]))
    sizes = [b.size_bytes for b in blocks]
    assert metrics["mean_block_bytes"] == pytest.approx(np.mean(sizes))
    assert metrics["std_block_bytes"] == pytest.approx(np.std(sizes))
    assert metrics["consensus_messages"] == metrics["messages_block"] == 3 * 2
    assert metrics["consensus_bytes"] == sum(sizes) * 2
    assert metrics["storage_bytes_per_validator"] == sum(sizes)
    assert metrics["storage_bytes_all_validators"] == 3 * sum(sizes)
    assert metrics["mempool_max"] == 5 and metrics["mempool_size"] == 0
    assert metrics["in_turn_blocks"] == 3 and metrics["out_of_turn_blocks"] == 0
    assert metrics["sim_time_ms"] == 10_000
    assert all(isinstance(v, int | float) for v in metrics.values())


def test_metrics_of_an_idle_chain(chain: Chain) -> None:
    metrics = chain.metrics()
    assert metrics["blocks"] == 0 and metrics["throughput_tx_per_s"] == 0.0
    assert metrics["confirmation_latency_p95_ms"] == 0.0


PEOPLE: list[Identity] = users(4)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.integers(0, 3), st.integers(0, 15 * COIN), st.integers(0, 3000)
        ),
        max_size=30,
    ),
    st.integers(1, 4),
)
def test_supply_conserved_through_mempool_and_blocks(
    payments: list[tuple[int, int, int, int]], max_block_tx: int
) -> None:
    chain = new_chain(ProofOfAuthority(block_period_s=1.0, max_block_tx=max_block_tx), n_users=4)
    supply = chain.genesis.total_supply
    now = 0
    for sender_i, receiver_i, amount, step_ms in payments:
        now += step_ms
        sender = PEOPLE[sender_i]
        nonce = chain.mempool.pending_nonce(sender.public_hex)
        rejected = chain.submit([pay(sender, PEOPLE[receiver_i], amount, nonce, timestamp_ms=now)])
        assert all(isinstance(err, Overdraft) for _, err in rejected)
        chain.advance_to(now)
        assert chain.ledger.total_supply() == supply
        assert min(chain.ledger.balances.values()) >= 0
    chain.advance_to(now + 60_000)
    assert len(chain.mempool) == 0
    assert chain.ledger.total_supply() == supply
