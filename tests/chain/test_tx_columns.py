"""Signed transactions packed as columns round-trip exactly (chain.tx_columns)."""

from __future__ import annotations

import pickle

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

from chain.keys import Identity
from chain.transaction import SignedTransaction, Transaction, sign_transaction
from chain.tx_columns import SignedColumns, pack, unpack

IDS = [Identity.derive(7, f"agent-{i}") for i in range(4)]

payloads = st.dictionaries(
    st.sampled_from(["trade_id", "step", "energy_wh", "leg", "trades_sha256", "window"]),
    st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=8)),
    max_size=4,
)


@st.composite
def signed_lists(draw):
    out = []
    for _ in range(draw(st.integers(0, 6))):
        sender, receiver = draw(st.sampled_from(IDS)), draw(st.sampled_from(IDS))
        tx = Transaction(
            chain_id=draw(st.sampled_from(["main", "shard-1", "ré"])),
            sender=sender.public_hex,
            receiver=receiver.public_hex,
            amount=draw(st.integers(0, 2**62)),
            nonce=draw(st.integers(0, 10**6)),
            kind=draw(st.sampled_from(["trade_settlement", "net_payment"])),
            payload=draw(payloads),
            timestamp_ms=draw(st.integers(0, 10**12)),
        )
        out.append(sign_transaction(sender, tx))
    return out


@settings(max_examples=60, deadline=None)
@given(signed_lists())
def test_pack_then_unpack_gives_equal_transactions_through_pickle(signed):
    packed = pickle.loads(pickle.dumps(pack(signed)))
    assert isinstance(packed, SignedColumns)
    back = unpack(packed)
    assert back == signed
    assert [s.tx.canonical() for s in back] == [s.tx.canonical() for s in signed]
    assert all(s.verify_signature() for s in back)


def test_records_columns_cannot_carry_travel_as_the_list():
    good = sign_transaction(
        IDS[0], Transaction("main", IDS[0].public_hex, IDS[1].public_hex, 5, 0, "k", {}, 0)
    )
    tampered = SignedTransaction(good.tx, good.tx_hash, "zz")  # not hex: kept as is
    assert pack([good, tampered]) == [good, tampered]
    short = SignedTransaction(good.tx, good.tx_hash[:10], good.signature)
    assert isinstance(pack([short]), list)
    assert isinstance(pack([]), SignedColumns) and unpack(pack([])) == []


def test_unpack_rebuilds_the_hash_instead_of_trusting_it():
    stx = sign_transaction(
        IDS[0], Transaction("main", IDS[0].public_hex, IDS[1].public_hex, 5, 0, "k", {"a": 1}, 0)
    )
    packed = pack([stx])
    # Change the amount in transit: the rebuilt transaction's hash no longer matches
    # the claimed one, so the chain's admission would refuse it.
    packed.amount[0] = 6
    (back,) = packed.unpack()
    assert back.tx.amount == 6 and not back.hash_matches() and not back.verify_signature()
    assert np.array_equal(packed.tx_hash[0], np.frombuffer(bytes.fromhex(stx.tx_hash), np.uint8))


def test_a_batch_the_columns_do_not_vouch_for_goes_through_the_checking_constructor():
    stx = sign_transaction(
        IDS[0], Transaction("main", IDS[0].public_hex, IDS[1].public_hex, 5, 0, "k", {"a": 1}, 0)
    )
    packed = pack([stx])
    packed.nonce[0] = -1  # int64 allows it, a transaction does not
    with pytest.raises(ValueError, match="nonce must be in"):
        packed.unpack()
    packed = pack([stx])
    packed.payloads[0] = {1: 2}  # a non-string key
    with pytest.raises(TypeError, match="non-string key"):
        packed.unpack()
