"""Proof-of-Authority configuration, round-robin and slots."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pytest

from chain import ProofOfAuthority


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
