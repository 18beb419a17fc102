"""Mempool admission against committed + pending state, and FIFO take."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

from dataclasses import replace

import pytest

from chain import (
    FutureNonce,
    Genesis,
    InvalidSignature,
    InvalidTransaction,
    Ledger,
    Mempool,
    Overdraft,
    StaleNonce,
)
from tests.chain.builders import CHAIN_ID, COIN, forge_block, pay, users, validators

ALICE, BOB, CAROL = users(3)
V0 = validators(1)[0]


@pytest.fixture
def ledger() -> Ledger:
    balances = {ALICE.public_hex: 10 * COIN, BOB.public_hex: 1 * COIN}
    return Ledger(Genesis(CHAIN_ID, "poa", balances, (V0.public_hex,), {}))


@pytest.fixture
def pool(ledger: Ledger) -> Mempool:
    return Mempool(ledger)


def test_admission_counts_pending_nonces(pool: Mempool) -> None:
    pool.add(pay(ALICE, BOB, 1, 0))
    pool.add(pay(ALICE, BOB, 1, 1))
    assert pool.pending_nonce(ALICE.public_hex) == 2
    with pytest.raises(StaleNonce, match="nonce 1 .* expected 2"):
        pool.add(pay(ALICE, BOB, 1, 1, timestamp_ms=9))
    with pytest.raises(FutureNonce, match="nonce 3 .* expected 2"):
        pool.add(pay(ALICE, BOB, 1, 3))
    assert len(pool) == 2


def test_duplicate_submission_is_stale(pool: Mempool) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    pool.add(stx)
    with pytest.raises(StaleNonce):
        pool.add(stx)


def test_admission_counts_pending_debits_and_credits(pool: Mempool) -> None:
    pool.add(pay(ALICE, BOB, 6 * COIN, 0))
    with pytest.raises(Overdraft, match="balance is 4000000"):
        pool.add(pay(ALICE, CAROL, 5 * COIN, 1))
    # Bob may spend the pending incoming 6 coins, Carol may then spend hers.
    pool.add(pay(BOB, CAROL, 7 * COIN, 0))
    pool.add(pay(CAROL, ALICE, 7 * COIN, 0))
    assert pool.pending_balance(ALICE.public_hex) == 11 * COIN
    assert pool.pending_balance(CAROL.public_hex) == 0


def test_invalid_transactions_do_not_enter(pool: Mempool, ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    with pytest.raises(InvalidSignature):
        pool.add(replace(stx, signature="00" * 64))
    with pytest.raises(InvalidTransaction, match="chain"):
        pool.add(pay(ALICE, BOB, 1, 0, chain_id="other"))
    with pytest.raises(InvalidTransaction, match="hash"):
        pool.add(replace(stx, tx_hash="ab" * 32))
    assert len(pool) == 0 and pool.pending_nonce(ALICE.public_hex) == 0
    assert ledger.verified_signatures == {}


def test_admitted_signatures_are_cached_until_committed(pool: Mempool, ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    pool.add(stx)
    assert ledger.verified_signatures == {stx.tx_hash: stx.signature}
    taken = pool.take(10, 10**9)
    ledger.apply_block(forge_block(ledger, taken, V0))
    assert ledger.verified_signatures == {}
    assert pool.pending_nonce(ALICE.public_hex) == 1
    assert pool.pending_balance(ALICE.public_hex) == 10 * COIN - 1


def test_take_is_a_fifo_prefix_that_stops_at_the_first_new_tx(pool: Mempool) -> None:
    stxs = [
        pay(ALICE, BOB, 1, 0, timestamp_ms=100),
        pay(ALICE, BOB, 1, 1, timestamp_ms=500),
        pay(BOB, CAROL, 1, 0, timestamp_ms=50),
        pay(ALICE, BOB, 1, 2, timestamp_ms=200),
    ]
    for stx in stxs:
        pool.add(stx)
    assert pool.take(10, 499) == stxs[:1]
    assert pool.peek() == stxs[1]
    assert pool.take(2, 500) == stxs[1:3]
    assert pool.take(10, 10**6) == stxs[3:]
    assert pool.take(10, 10**6) == [] and pool.peek() is None


def test_take_respects_max_n_and_restore_puts_back(pool: Mempool) -> None:
    stxs = [pay(ALICE, BOB, 1, n) for n in range(5)]
    for stx in stxs:
        pool.add(stx)
    taken = pool.take(3, 0)
    assert taken == stxs[:3]
    assert pool.pending_nonce(ALICE.public_hex) == 2  # ledger 0 + 2 still pending
    pool.restore(taken)
    assert list(pool) == stxs
    assert pool.pending_nonce(ALICE.public_hex) == 5
    assert pool.pending_balance(BOB.public_hex) == 1 * COIN + 5


# ---------------------------------------------------------------- pre-verified admission
def _forged(stx):
    """The same transaction with one bit of its signature flipped."""
    bad = bytearray(bytes.fromhex(stx.signature))
    bad[0] ^= 1
    return replace(stx, signature=bad.hex())


def test_forged_signature_is_rejected_without_the_verified_flag(pool: Mempool) -> None:
    with pytest.raises(InvalidSignature):
        pool.add(_forged(pay(ALICE, BOB, 1, 0)))
    assert len(pool) == 0


def test_verified_admission_skips_only_the_signature_check(pool: Mempool, ledger: Ledger) -> None:
    # The caller vouches for the signature: the Ed25519 check is skipped (that is the
    # trust the flag expresses) and the signature is recorded like any admitted one.
    stx = pay(ALICE, BOB, 1, 0)
    pool.add(stx, verified=True)
    assert ledger.verified_signatures[stx.tx_hash] == stx.signature
    # Every other rule still applies.
    with pytest.raises(StaleNonce):
        pool.add(pay(ALICE, BOB, 1, 0, timestamp_ms=5), verified=True)
    with pytest.raises(FutureNonce):
        pool.add(pay(ALICE, BOB, 1, 5), verified=True)
    with pytest.raises(Overdraft):
        pool.add(pay(BOB, ALICE, 2 * COIN, 0), verified=True)
    with pytest.raises(InvalidTransaction, match="chain"):
        pool.add(pay(ALICE, BOB, 1, 1, chain_id="other"), verified=True)
    with pytest.raises(InvalidTransaction, match="does not match"):
        pool.add(replace(pay(ALICE, BOB, 1, 1), tx_hash="00" * 32), verified=True)
    assert len(pool) == 1
