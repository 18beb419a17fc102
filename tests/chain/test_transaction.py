"""Transactions: field validation, canonical bytes, hashing, signing, pickling."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain import SignedTransaction, Transaction, sign_transaction, sign_transactions
from chain.encoding import canonical_bytes_unchecked, sha256_hex
from chain.transaction import _canonical_fast
from tests.chain.builders import CHAIN_ID, users

ALICE, BOB, CAROL = users(3)


def make_tx(**overrides: Any) -> Transaction:
    fields: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "sender": ALICE.public_hex,
        "receiver": BOB.public_hex,
        "amount": 1_500_000,
        "nonce": 0,
        "kind": "trade_settlement",
        "payload": {"trade_id": "T-1", "energy_wh": 1200, "price_ucoin_per_kwh": 1250},
        "timestamp_ms": 60_000,
    }
    fields.update(overrides)
    return Transaction(**fields)


def test_canonical_bytes_and_hash_follow_the_spec() -> None:
    tx = make_tx()
    body = tx.body()
    assert list(body) == [
        "chain_id", "sender", "receiver", "amount", "nonce", "kind", "payload", "timestamp_ms",
    ]  # fmt: skip
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert tx.canonical() == expected.encode("utf-8")
    assert tx.tx_hash == sha256_hex(tx.canonical())


def test_body_is_a_plain_copy() -> None:
    tx = make_tx(payload={"a": [1, 2]})
    body = tx.body()
    body["payload"]["a"].append(3)
    assert tx.payload == {"a": (1, 2)}
    assert type(body["payload"]) is dict


def test_payload_is_frozen_and_detached_from_the_caller() -> None:
    payload = {"trade_id": "T-9", "legs": [1, 2]}
    tx = make_tx(payload=payload)
    before = tx.tx_hash
    payload["trade_id"] = "T-10"
    payload["legs"].append(3)
    with pytest.raises(TypeError):
        tx.payload["trade_id"] = "x"  # type: ignore[index]
    assert make_tx(payload={"trade_id": "T-9", "legs": [1, 2]}).tx_hash == before == tx.tx_hash


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("amount", -1, ValueError),
        ("amount", 1.0, TypeError),
        ("amount", True, TypeError),
        ("amount", 2**63, ValueError),
        ("nonce", -1, ValueError),
        ("timestamp_ms", 1.5, TypeError),
        ("sender", "AB" * 32, ValueError),
        ("receiver", "ab" * 31, ValueError),
        ("chain_id", "", ValueError),
        ("kind", None, TypeError),
        ("payload", {"price": 0.25}, TypeError),
        ("payload", {"nested": [{"x": 1e3}]}, TypeError),
        ("payload", ["not", "a", "mapping"], TypeError),
    ],
)
def test_invalid_fields_are_rejected(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        make_tx(**{field: value})


def test_equal_transactions_hash_alike() -> None:
    assert make_tx() == make_tx()
    assert hash(make_tx()) == hash(make_tx())
    assert make_tx(nonce=1) != make_tx()


def test_pickle_round_trip_rebuilds_the_caches() -> None:
    stx = sign_transaction(ALICE, make_tx())
    clone = pickle.loads(pickle.dumps(stx))
    assert clone == stx
    assert clone.tx.canonical() == stx.tx.canonical()
    assert clone.verify_signature()


def test_sign_and_verify() -> None:
    tx = make_tx()
    stx = sign_transaction(ALICE, tx)
    assert stx.tx_hash == tx.tx_hash
    assert len(stx.signature) == 128
    assert stx.verify_signature()
    assert sign_transaction(ALICE, tx) == stx  # RFC 8032 signatures are deterministic


def test_tampering_breaks_verification() -> None:
    stx = sign_transaction(ALICE, make_tx())
    other = make_tx(amount=9)
    assert not SignedTransaction(other, stx.tx_hash, stx.signature).verify_signature()
    assert not SignedTransaction(other, other.tx_hash, stx.signature).verify_signature()
    flipped = ("0" if stx.signature[0] != "0" else "1") + stx.signature[1:]
    assert not replace(stx, signature=flipped).verify_signature()


def test_only_the_sender_can_sign() -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        sign_transaction(BOB, make_tx())


def test_sign_transactions_batch_keeps_order() -> None:
    pairs = [(ALICE, make_tx(nonce=0)), (BOB, make_tx(sender=BOB.public_hex, nonce=0))]
    signed = sign_transactions(pairs)
    assert [s.tx for s in signed] == [tx for _, tx in pairs]
    assert all(s.verify_signature() for s in signed)


def test_signed_transaction_type_checks() -> None:
    with pytest.raises(TypeError):
        SignedTransaction("tx", "h", "s")  # type: ignore[arg-type]


# ---------------------------------------------------------------- fast canonical encoding


_TEXT = st.text(min_size=1, max_size=12)  # any unicode: quotes, controls, non-ASCII
_INT = st.integers(min_value=0, max_value=2**63 - 1)


@given(
    chain_id=_TEXT,
    kind=_TEXT,
    amount=_INT,
    nonce=_INT,
    timestamp_ms=_INT,
    payload=st.dictionaries(
        st.text(max_size=8),
        st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=70),
        max_size=5,
    ),
)
def test_fast_canonical_bytes_equal_the_json_encoding(
    chain_id, kind, amount, nonce, timestamp_ms, payload
):
    alice, bob = users(2)
    try:
        tx = Transaction(
            chain_id, alice.public_hex, bob.public_hex, amount, nonce, kind, payload, timestamp_ms
        )
    except ValueError:  # a lone surrogate cannot be UTF-8 encoded, either way
        return
    assert _canonical_fast(tx) == canonical_bytes_unchecked(tx._frozen_body())
    assert tx.canonical() == canonical_bytes_unchecked(tx._frozen_body())


def test_payloads_that_are_not_string_to_int_take_the_general_encoder():
    alice, bob = users(2)
    for payload in ({"ok": True}, {"a": [1, 2]}, {"a": {"b": 1}}, {"s": "x", "n": None}):
        tx = Transaction(CHAIN_ID, alice.public_hex, bob.public_hex, 1, 0, "t", payload, 0)
        assert _canonical_fast(tx) is None
        assert (
            tx.canonical()
            == json.dumps(
                tx.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        )


def test_flat_payloads_with_hex_strings_take_the_fast_encoder():
    alice, bob = users(2)
    digest = sha256_hex(b"1,2,3")
    payload = {"trades_sha256": digest, "leg": 0, "tag": 'q"\\\u00e9\n'}
    tx = Transaction(CHAIN_ID, alice.public_hex, bob.public_hex, 7, 3, "net_payment", payload, 9)
    assert _canonical_fast(tx) == canonical_bytes_unchecked(tx._frozen_body())
    assert f'"trades_sha256":"{digest}"'.encode() in tx.canonical()


# ---------------------------------------------------------------- trusted constructor

_HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_FLAT = st.dictionaries(
    st.text(max_size=8), st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=70)
)
_ANY_PAYLOAD = _FLAT | st.dictionaries(
    st.text(max_size=4), st.booleans() | st.none() | st.lists(st.integers(), max_size=3)
)


@given(
    chain_id=_TEXT,
    sender=_HEX64,
    receiver=_HEX64,
    amount=_INT,
    nonce=_INT,
    kind=_TEXT,
    payload=_ANY_PAYLOAD,
    timestamp_ms=_INT,
)
def test_trusted_constructor_equals_the_checking_one(
    chain_id, sender, receiver, amount, nonce, kind, payload, timestamp_ms
):
    fields = (chain_id, sender, receiver, amount, nonce, kind, payload, timestamp_ms)
    try:
        checked = Transaction(*fields)
    except ValueError:  # a lone surrogate cannot be UTF-8 encoded, either way
        with pytest.raises(ValueError):
            Transaction.trusted(*fields)
        return
    fast = Transaction.trusted(*fields)
    assert fast == checked
    assert fast.canonical() == checked.canonical()
    assert fast.tx_hash == checked.tx_hash == sha256_hex(checked.canonical())
    assert fast.body() == checked.body()
    assert type(fast.payload) is type(checked.payload)
    assert pickle.loads(pickle.dumps(fast)) == checked


def test_trusted_payload_is_frozen_and_detached_from_the_callers_dict():
    payload = {"trade_id": 1, "h": "ab"}
    tx = Transaction.trusted(CHAIN_ID, ALICE.public_hex, BOB.public_hex, 1, 0, "t", payload, 0)
    payload["trade_id"] = 2
    assert tx.payload == {"trade_id": 1, "h": "ab"}
    with pytest.raises(TypeError):
        tx.payload["trade_id"] = 3  # type: ignore[index]


def test_trusted_nested_payload_goes_through_the_checks():
    with pytest.raises(TypeError, match="float"):
        Transaction.trusted(CHAIN_ID, ALICE.public_hex, BOB.public_hex, 1, 0, "t", {"a": [1.5]}, 0)


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("sender", "AB" * 32, ValueError),
        ("receiver", "ab" * 31, ValueError),
        ("amount", -1, ValueError),
        ("amount", True, TypeError),
        ("nonce", 1.0, TypeError),
        ("kind", "", ValueError),
        ("timestamp_ms", 2**63, ValueError),
    ],
)
def test_the_checking_constructor_still_rejects_bad_fields(field, value, error):
    with pytest.raises(error, match=field):
        make_tx(**{field: value})


def test_unpickling_a_trusted_transaction_rechecks_its_fields():
    bad = Transaction.trusted(CHAIN_ID, "XY" * 32, BOB.public_hex, 1, 0, "t", {"a": 1}, 0)
    with pytest.raises(ValueError, match="sender"):
        pickle.loads(pickle.dumps(bad))
