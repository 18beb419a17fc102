"""Proof-of-Authority configuration, round-robin and slots."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pytest

from chain import ProofOfAuthority, SignerTooRecent
from chain.consensus.base import deterministic_uniform
from tests.chain.builders import forge_block, validators
from tests.chain.consensus_helpers import EXACT_NETWORK, consensus_chain, submit_payments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_period_s": -1}, r"^block_period_s must be > 0 \(got -1\)"),
        ({"block_period_s": 0}, r"^block_period_s must be > 0"),
        ({"block_period_s": float("inf")}, r"^block_period_s must be > 0"),
        ({"block_period_s": "2"}, r"^block_period_s must be > 0"),
        ({"block_period_s": 0.0015}, r"^block_period_s must be a whole number of milliseconds"),
        ({"max_block_tx": 0}, r"^max_block_tx must be an int >= 1 \(got 0\)"),
        ({"max_block_tx": 2.5}, r"^max_block_tx must be an int >= 1"),
        ({"n_validators": 0}, r"^n_validators must be an int >= 1"),
        ({"n_validators": True}, r"^n_validators must be an int >= 1"),
        ({"seal_empty_blocks": 1}, r"^seal_empty_blocks must be a bool"),
    ],
)
def test_invalid_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProofOfAuthority(**kwargs)


def test_defaults_and_params() -> None:
    poa = ProofOfAuthority()
    assert poa.name == "poa"
    assert poa.block_period_ms == 2000
    assert poa.params() == {
        "block_period_ms": 2000,
        "max_block_tx": 5000,
        "n_validators": 4,
        "seal_empty_blocks": 0,
    }
    assert all(isinstance(v, int | str) for v in poa.params().values())
    assert ProofOfAuthority(block_period_s=0.25).block_period_ms == 250
    assert ProofOfAuthority(block_period_s=3).block_period_ms == 3000


def test_round_robin_by_height() -> None:
    poa = ProofOfAuthority(n_validators=3)
    assert [poa.proposer_index(h) for h in range(1, 8)] == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError):
        poa.proposer_index(0)


def test_slot_arithmetic() -> None:
    poa = ProofOfAuthority(block_period_s=2.0)
    assert poa.slot_time_ms(3) == 6000
    assert poa.first_slot_after(0) == 1
    assert poa.first_slot_after(1999) == 1
    assert poa.first_slot_after(2000) == 2  # s < T is strict
    assert poa.last_slot_at_or_before(5999) == 2
    assert poa.last_slot_at_or_before(6000) == 3


# --- Clique: out-of-turn sealing and the recent-signers rule -------------------------------


def test_silent_sealer_is_replaced_out_of_turn() -> None:
    chain = consensus_chain(ProofOfAuthority(silent_validators=[1], network=EXACT_NETWORK))
    submit_payments(chain, 8, spacing_ms=2000)
    blocks = chain.advance_to(20_000)
    vals = [v.public_hex for v in validators(4)]
    proposers = [vals.index(b.header.proposer) for b in blocks]
    assert 1 not in proposers and len(blocks) == 8
    # In turn except at heights whose in-turn sealer (1) is silent or sealed recently.
    for height, sealer in enumerate(proposers, start=1):
        in_turn = (height - 1) % 4
        window = proposers[max(height - 3, 0) : height - 1]  # floor(4/2) previous blocks
        assert sealer not in window
        if in_turn != 1 and in_turn not in window:
            assert sealer == in_turn
    metrics = chain.metrics()
    assert metrics["out_of_turn_blocks"] >= 2
    assert metrics["in_turn_blocks"] + metrics["out_of_turn_blocks"] == 8


def test_out_of_turn_blocks_commit_after_the_wiggle() -> None:
    chain = consensus_chain(ProofOfAuthority(silent_validators=[0], network=EXACT_NETWORK))
    submit_payments(chain, 1)
    [block] = chain.advance_to(2000)
    assert block.header.timestamp_ms == 2000  # the header keeps the slot time
    window = (4 // 2 + 1) * 500
    wiggles = {i: deterministic_uniform(chain.seed, "poa-wiggle", 1, i) * window for i in (1, 2, 3)}
    sealer = min(wiggles, key=lambda i: (wiggles[i], i))
    assert block.header.proposer == validators(4)[sealer].public_hex
    expected = 2000 + wiggles[sealer] + 10 + block.size_bytes / 1000
    assert chain.metrics()["commit_latency_mean_ms"] == pytest.approx(expected)


def test_too_few_live_sealers_stall_the_chain() -> None:
    chain = consensus_chain(ProofOfAuthority(silent_validators=[1, 2]))
    submit_payments(chain, 6, spacing_ms=2000)
    chain.advance_to(60_000)
    metrics = chain.metrics()
    # Sealers 0 and 3 may each seal one block in any three: two blocks, then nobody.
    assert metrics["blocks"] == 2 and metrics["stalled"] == 1
    assert metrics["mempool_size"] == 6 - metrics["committed_tx"]


def test_recent_signer_rule_rejects_a_repeat_sealer() -> None:
    chain = consensus_chain(ProofOfAuthority())
    submit_payments(chain, 1)
    [block] = chain.advance_to(2000)
    ledger = chain.ledger
    vals = validators(4)
    again = forge_block(ledger, [], vals[0], timestamp_ms=4000)
    with pytest.raises(SignerTooRecent, match="last 2 blocks"):
        ledger.apply_block(again)
    ledger.apply_block(forge_block(ledger, [], vals[2], timestamp_ms=4000))  # out of turn is fine
    assert ledger.height == 2 and block.height == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"silent_validators": [4]}, r"^silent_validators must hold validator indices in \[0, 4\)"),
        ({"silent_validators": [1, 1]}, r"^silent_validators must not repeat"),
        ({"wiggle_ms": -1}, r"^wiggle_ms must be an int >= 0"),
    ],
)
def test_invalid_clique_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProofOfAuthority(**kwargs)
