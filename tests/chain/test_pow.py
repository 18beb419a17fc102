"""Proof of work (seed 000): real hashing, simulated races, unanimous agreement, finality."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from chain import ProofOfWork
from chain.block import leading_zero_bits
from chain.consensus.pow import mine
from chain.encoding import canonical_bytes
from tests.chain.builders import validators
from tests.chain.consensus_helpers import EXACT_NETWORK, consensus_chain, submit_payments

HEADER = {
    "chain_id": "grid-a", "height": 1, "prev_hash": "11" * 32, "merkle_root": "00" * 32,
    "timestamp_ms": 2000, "proposer": "22" * 32, "consensus": "pow", "nonce": 0,
    "difficulty_bits": 12,
}  # fmt: skip


@pytest.mark.parametrize("hash_function", ["sha256", "sha1"])
def test_mine_finds_the_smallest_nonce_with_enough_zero_bits(hash_function: str) -> None:
    nonce, hashes = mine(HEADER, hash_function, 12)
    assert hashes == nonce + 1

    def digest(n: int) -> str:
        return hashlib.new(hash_function, canonical_bytes({**HEADER, "nonce": n})).hexdigest()

    assert leading_zero_bits(digest(nonce)) >= 12
    assert all(leading_zero_bits(digest(n)) < 12 for n in range(nonce))
    assert len(digest(nonce)) == (40 if hash_function == "sha1" else 64)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hash": "md5"}, r"^hash must be one of sha1, sha256"),
        ({"difficulty_bits": 40}, r"^difficulty_bits must be <= 32"),
        (
            {"simulated_difficulty_bits": 161, "hash": "sha1"},
            r"^simulated_difficulty_bits must be <= 160",
        ),
        ({"hash_rates_hps": [1, 2]}, r"^hash_rates_hps must give one rate per miner \(4\)"),
        ({"hash_rates_hps": [1, 2, 0, 1]}, r"^hash_rates_hps must hold ints >= 1"),
        ({"confirmations": 0}, r"^confirmations must be an int >= 1"),
        ({"faulty_miners": {0: "lazy"}}, r"^faulty_miners\[0\] must be one of veto, forge"),
    ],
)
def test_invalid_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProofOfWork(**kwargs)


def test_params_record_both_difficulties_and_the_hash() -> None:
    pow_ = ProofOfWork(hash="sha1", hash_rates_hps=[4, 3, 2, 1])
    assert pow_.params() == {
        "difficulty_bits": 8, "simulated_difficulty_bits": 24, "block_hash_function": "sha1",
        "confirmations": 6, "max_block_tx": 5000, "n_validators": 4, "hash_rates_hps": "4,3,2,1",
    }  # fmt: skip
    assert ProofOfWork().expected_block_interval_ms == pytest.approx(2**24 / 400_000 * 1000)
    assert ProofOfWork().block_period_s == pytest.approx(2**24 / 400_000)


@pytest.mark.parametrize("hash_function", ["sha256", "sha1"])
def test_blocks_carry_real_work_and_unanimous_certificates(hash_function: str) -> None:
    chain = consensus_chain(ProofOfWork(hash=hash_function, difficulty_bits=10))
    submit_payments(chain, 10)
    chain.advance_to(3_600_000)
    assert chain.ledger.height >= 6
    keys = {v.public_hex for v in validators(4)}
    for block, certificate in zip(chain.blocks, chain.certificates, strict=True):
        assert len(block.block_hash) == (40 if hash_function == "sha1" else 64)
        assert block.header.difficulty_bits == 10
        assert leading_zero_bits(block.block_hash) >= 10
        assert set(certificate.signers) == keys and certificate.phase == "agree"
    metrics = chain.metrics()
    assert metrics["committed_tx"] == 10
    assert metrics["difficulty_bits"] == 10 and metrics["simulated_difficulty_bits"] == 24
    assert metrics["hashes_computed"] >= chain.ledger.height
    assert metrics["simulated_hashes"] == 2**24 * chain.ledger.height


def test_race_follows_the_hash_rates_and_is_deterministic() -> None:
    rates = [800_000, 100_000, 50_000, 50_000]

    def proposers() -> list[str]:
        chain = consensus_chain(ProofOfWork(hash_rates_hps=rates, confirmations=40))
        submit_payments(chain, 1)
        chain.advance_to(3_600_000)
        return [b.header.proposer for b in chain.blocks]

    first = proposers()
    assert first == proposers()
    fastest = validators(4)[0].public_hex
    share = first.count(fastest) / len(first)
    assert len(first) == 40 and 0.6 < share <= 1.0  # expected 0.8


def test_block_intervals_are_exponential_with_the_expected_mean() -> None:
    pow_ = ProofOfWork(confirmations=200, simulated_difficulty_bits=20)
    chain = consensus_chain(pow_)
    submit_payments(chain, 1)
    chain.advance_to(100_000_000)
    stamps = np.array([b.header.timestamp_ms for b in chain.blocks], dtype=float)
    gaps = np.diff(stamps)
    assert len(gaps) == 199
    # Each gap is a solve time (mean 2^20 / 4e5 s) plus an agreement round of ~0.2 s.
    assert gaps.mean() == pytest.approx(pow_.expected_block_interval_ms + 200, rel=0.2)


def test_confirmations_separate_final_from_unfinal_transactions() -> None:
    chain = consensus_chain(ProofOfWork(confirmations=3, network=EXACT_NETWORK))
    submit_payments(chain, 4)
    chain.advance_to(1)  # nothing solved yet
    found = []
    while chain.ledger.height < 2:
        found += chain.advance_to(chain.now_ms + 1000)
    metrics = chain.metrics()
    assert metrics["confirmed_tx"] == 0 and metrics["unconfirmed_tx"] == metrics["committed_tx"]
    chain.advance_to(chain.now_ms + 3_600_000)
    metrics = chain.metrics()
    # Miners kept mining (empty blocks) until the last payment had 3 confirmations, then idled.
    assert metrics["confirmed_tx"] == 4 and metrics["unconfirmed_tx"] == 0
    last_tx_height = max(b.height for b in chain.blocks if b.n_tx)
    assert chain.ledger.height == last_tx_height + 2
    assert metrics["confirmation_latency_mean_ms"] > metrics["commit_latency_mean_ms"]


def test_a_veto_drops_every_block() -> None:
    chain = consensus_chain(ProofOfWork(faulty_miners={3: "veto"}))
    submit_payments(chain, 3)
    assert chain.advance_to(3_600_000) == []
    metrics = chain.metrics()
    assert metrics["blocks"] == 0 and metrics["mempool_size"] == 3
    assert metrics["blocks_dropped"] > 10


def test_forged_blocks_are_refused_and_counted() -> None:
    chain = consensus_chain(ProofOfWork(faulty_miners={0: "forge"}, confirmations=12))
    submit_payments(chain, 6)
    chain.advance_to(7_200_000)
    metrics = chain.metrics()
    assert metrics["committed_tx"] == 6 and metrics["blocks_dropped"] >= 1
    forger = validators(4)[0].public_hex
    assert all(b.header.proposer != forger for b in chain.blocks)


def test_messages_per_block() -> None:
    chain = consensus_chain(ProofOfWork(confirmations=1, network=EXACT_NETWORK))
    submit_payments(chain, 1)
    chain.advance_to(3_600_000)
    metrics = chain.metrics()
    assert metrics["blocks"] == 1
    # broadcast, agreement votes back, notification: (n - 1) each.
    assert metrics["messages_block"] == metrics["messages_agree"] == metrics["messages_notify"] == 3
