"""Batch signing on threads: same signatures in the same order for any thread count."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import dataclasses

import pytest

from agents import signing
from agents.signing import BatchSigner
from chain.keys import Identity
from chain.transaction import Transaction, sign_transaction

ALICE, BOB = Identity.derive(1, "alice"), Identity.derive(1, "bob")


def _txs(n: int) -> list[Transaction]:
    return [
        Transaction("main", ALICE.public_hex, BOB.public_hex, k, k, "t", {"k": k}, 0)
        for k in range(n)
    ]


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_any_thread_count_gives_the_serial_signatures_in_order(threads):
    txs = _txs(7)
    got = BatchSigner([ALICE] * 7, txs, threads).result()
    assert got == [sign_transaction(ALICE, tx) for tx in txs]
    assert all(stx.verify_signature() for stx in got)


def test_empty_batch():
    assert BatchSigner([], [], 4).result() == []


def test_a_signature_that_does_not_verify_comes_back_as_none(monkeypatch):
    def bad_for_nonce_2(identity, tx):
        stx = sign_transaction(identity, tx)
        if tx.nonce != 2:
            return stx
        flipped = bytearray(bytes.fromhex(stx.signature))
        flipped[5] ^= 0x10
        return dataclasses.replace(stx, signature=flipped.hex())

    monkeypatch.setattr(signing, "sign_transaction", bad_for_nonce_2)
    got = BatchSigner([ALICE] * 4, _txs(4), 2).result()
    assert [stx is None for stx in got] == [False, False, True, False]


def test_a_signer_that_is_not_the_sender_is_refused():
    with pytest.raises(ValueError, match="cannot sign"):
        BatchSigner([BOB], _txs(1), 2).result()


def test_the_thread_pool_is_kept_between_batches():
    BatchSigner([ALICE] * 4, _txs(4), 2).result()
    pool = signing._pool(2)
    BatchSigner([ALICE] * 4, _txs(4), 2).result()
    assert signing._pool(2) is pool


def test_gc_pauses_nest_and_restore_the_collector():
    import gc

    assert gc.isenabled()
    with signing.gc_paused():
        assert not gc.isenabled()
        with signing.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with signing.gc_paused():
            pass
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()


def test_gc_pause_ends_when_the_body_raises():
    import gc

    with pytest.raises(RuntimeError), signing.gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
