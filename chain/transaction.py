"""Transactions and their signatures.

A :class:`Transaction` validates its fields and computes its canonical bytes
and hash once, at construction; everything downstream (mempool, ledger,
Merkle tree, export) reuses them. Records hold only plain data so they pickle
cheaply across Ray process boundaries; unpickling re-runs validation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode_str
from typing import Any

from chain.encoding import (
    FrozenDict,
    canonical_bytes_unchecked,
    freeze,
    require_hex,
    require_int,
    require_str,
    sha256_hex,
    thaw,
)
from chain.keys import (
    PUBLIC_KEY_HEX_CHARS,
    SIGNATURE_BYTES,
    Identity,
    verify_signature_hex,
)

TX_FIELDS = (
    "chain_id",
    "sender",
    "receiver",
    "amount",
    "nonce",
    "kind",
    "payload",
    "timestamp_ms",
)


@dataclass(frozen=True)
class Transaction:
    """An unsigned transfer (possibly zero-amount) with a domain payload.

    Attributes:
        chain_id: Chain the transaction is valid on (prevents cross-chain replay).
        sender: Sender public key, 64 lowercase hex chars.
        receiver: Receiver public key, 64 lowercase hex chars.
        amount: Micro-coins moved from sender to receiver, ``>= 0``.
        nonce: Per-sender, per-chain sequence number: 0, 1, 2, ...
        kind: Transaction type, e.g. ``"trade_settlement"``.
        payload: JSON-like mapping (ints, strings, bools, lists, dicts; no
            floats), frozen on construction.
        timestamp_ms: Simulated creation time in milliseconds.
    """

    chain_id: str
    sender: str
    receiver: str
    amount: int
    nonce: int
    kind: str
    payload: Mapping[str, Any]
    timestamp_ms: int

    def __post_init__(self) -> None:
        require_str("chain_id", self.chain_id)
        require_hex("sender", self.sender, PUBLIC_KEY_HEX_CHARS)
        require_hex("receiver", self.receiver, PUBLIC_KEY_HEX_CHARS)
        require_int("amount", self.amount)
        require_int("nonce", self.nonce)
        require_str("kind", self.kind)
        require_int("timestamp_ms", self.timestamp_ms)
        if not isinstance(self.payload, Mapping):
            raise TypeError(f"payload must be a mapping (got {type(self.payload).__name__})")
        object.__setattr__(self, "payload", freeze(self.payload, "payload"))
        canonical = _canonical_fast(self)
        if canonical is None:
            canonical = canonical_bytes_unchecked(self._frozen_body())
        object.__setattr__(self, "_canonical", canonical)
        object.__setattr__(self, "_tx_hash", sha256_hex(canonical))

    def _frozen_body(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "amount": self.amount,
            "nonce": self.nonce,
            "kind": self.kind,
            "payload": self.payload,
            "timestamp_ms": self.timestamp_ms,
        }

    def body(self) -> dict[str, Any]:
        """The signed object: the eight fields, payload as a plain dict."""
        body = self._frozen_body()
        body["payload"] = thaw(self.payload)
        return body

    def canonical(self) -> bytes:
        """Canonical bytes of :meth:`body` (what is hashed and signed)."""
        return self._canonical  # type: ignore[attr-defined,no-any-return]

    @property
    def tx_hash(self) -> str:
        """SHA-256 hex of the canonical bytes."""
        return self._tx_hash  # type: ignore[attr-defined,no-any-return]

    def __hash__(self) -> int:
        return hash(self._tx_hash)  # type: ignore[attr-defined]

    @classmethod
    def trusted(
        cls,
        chain_id: str,
        sender: str,
        receiver: str,
        amount: int,
        nonce: int,
        kind: str,
        payload: Mapping[str, Any],
        timestamp_ms: int,
    ) -> Transaction:
        """Build a transaction from fields the simulator produced itself, unchecked.

        Equal (fields, canonical bytes, hash) to ``Transaction(...)`` with the same
        arguments, at a fraction of the cost. Skipped: the ``require_*`` field checks
        (``chain_id`` and ``kind`` non-empty strings; ``sender`` and ``receiver`` 64
        lowercase hex chars; ``amount``, ``nonce``, ``timestamp_ms`` ints in
        ``[0, 2**63)``) and the generic :func:`chain.encoding.freeze` walk of the
        payload (a flat payload is copied into a ``FrozenDict`` directly).

        Safe for the model's settlement payments because every field comes from the
        simulator, not from outside: keys are the key ring's hex strings, amounts,
        nonces, ids and times are Python ints from ``ndarray.tolist()`` or counters,
        kinds and chain ids are constants of the run. Nothing downstream relies on the
        skipped checks alone: the canonical bytes and hash are still computed here (so
        the signature covers exactly these fields); the chain still checks at admission
        everything it checks today (registered keys, nonces, balances, amounts); and a
        transaction that crosses a process boundary (the Ray driver unpickling an
        area's payments) is rebuilt by :meth:`__reduce__` through the checking
        constructor, so a bad field fails there.

        A payload that is not flat (string keys to plain ``int``/``str`` values) goes
        through the checking constructor instead, so nested values are always frozen
        and type-checked.

        Args:
            chain_id: Chain id (a non-empty str).
            sender: Sender public key, 64 lowercase hex chars.
            receiver: Receiver public key, 64 lowercase hex chars.
            amount: Micro-coins, a plain ``int`` in ``[0, 2**63)``.
            nonce: Sender's next nonce, a plain ``int``.
            kind: Transaction type (a non-empty str).
            payload: Flat mapping of str to plain ``int`` or ``str``.
            timestamp_ms: Simulated time, a plain ``int``.
        """
        tx = _new_transaction(cls)
        values = tx.__dict__
        values["chain_id"] = chain_id
        values["sender"] = sender
        values["receiver"] = receiver
        values["amount"] = amount
        values["nonce"] = nonce
        values["kind"] = kind
        values["payload"] = payload if type(payload) is FrozenDict else FrozenDict(payload)
        values["timestamp_ms"] = timestamp_ms
        canonical = _canonical_fast(tx)
        if canonical is None:
            return cls(chain_id, sender, receiver, amount, nonce, kind, payload, timestamp_ms)
        values["_canonical"] = canonical
        values["_tx_hash"] = _sha256(canonical).hexdigest()
        return tx

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild through __init__ so caches are recomputed, never trusted.
        return (
            Transaction,
            (
                self.chain_id,
                self.sender,
                self.receiver,
                self.amount,
                self.nonce,
                self.kind,
                self.payload,
                self.timestamp_ms,
            ),
        )


@dataclass(frozen=True)
class SignedTransaction:
    """A transaction with its claimed hash and the sender's signature.

    Construction does not check the hash or signature: a tampered record must
    be representable so that the ledger can reject it with a typed error.

    Attributes:
        tx: The signed transaction.
        tx_hash: Claimed SHA-256 hex of ``tx.canonical()``.
        signature: Sender's Ed25519 signature of ``tx.canonical()``, 128 hex chars.
    """

    tx: Transaction
    tx_hash: str
    signature: str

    def __post_init__(self) -> None:
        if not isinstance(self.tx, Transaction):
            raise TypeError(f"tx must be a Transaction (got {type(self.tx).__name__})")
        if not isinstance(self.tx_hash, str) or not isinstance(self.signature, str):
            raise TypeError("tx_hash and signature must be hex strings")

    def hash_matches(self) -> bool:
        """Whether the claimed ``tx_hash`` is the hash of the transaction."""
        return self.tx_hash == self.tx.tx_hash

    def verify_signature(self) -> bool:
        """Whether the hash matches and the signature verifies against the sender."""
        return self.hash_matches() and verify_signature_hex(
            self.tx.sender, self.signature, self.tx.canonical()
        )

    @property
    def size_bytes(self) -> int:
        """Wire size estimate: canonical bytes plus the raw signature."""
        return len(self.tx.canonical()) + SIGNATURE_BYTES


_new_transaction = object.__new__
_sha256 = hashlib.sha256

_QUOTED: dict[str, str] = {}


def _quoted(text: str) -> str:
    """``text`` as a JSON string (memoised: chain ids, kinds and payload keys repeat)."""
    quoted = _QUOTED.get(text)
    if quoted is None:
        quoted = _encode_str(text)
        if len(_QUOTED) < 4096:
            _QUOTED[text] = quoted
    return quoted


def _canonical_fast(tx: Transaction) -> bytes | None:
    """The canonical bytes of a transaction whose payload is flat: string keys, int or str values.

    Byte for byte what :func:`chain.encoding.canonical_bytes_unchecked` gives for
    :meth:`Transaction.body` (keys sorted, no whitespace, strings JSON-escaped by the
    same C encoder ``json`` uses with ``ensure_ascii=False``), without walking the body
    through the ``json`` encoder: most of a transaction's construction cost for the
    model's payments. The keys of the body are fixed and already in sorted order; hex
    keys need no escaping. String values (``kind``-like tags, hex digests such as net
    settlement's ``trades_sha256``) are escaped like the chain id; they are not memoised,
    as digests rarely repeat. None for any other payload (bools, None, nested values:
    the caller falls back to the general encoder).
    """
    payload = tx.payload
    items = []
    for key in sorted(payload):
        value = payload[key]
        kind = type(value)
        if kind is int:
            items.append(f"{_quoted(key)}:{value}")
        elif kind is str:
            items.append(f"{_quoted(key)}:{_encode_str(value)}")
        else:  # bools, None, nested values, subclasses: general encoder
            return None
    # int(): the plain decimal json writes, also for an int subclass.
    return (
        f'{{"amount":{int(tx.amount)},"chain_id":{_quoted(tx.chain_id)},'
        f'"kind":{_quoted(tx.kind)},"nonce":{int(tx.nonce)},'
        f'"payload":{{{",".join(items)}}},"receiver":"{tx.receiver}",'
        f'"sender":"{tx.sender}","timestamp_ms":{int(tx.timestamp_ms)}}}'
    ).encode()


def sign_transaction(identity: Identity, tx: Transaction) -> SignedTransaction:
    """Sign a transaction with its sender's identity.

    Raises:
        ValueError: If ``identity`` is not the transaction's sender.
    """
    if identity.public_hex != tx.sender:
        raise ValueError(
            f"identity {identity.public_hex[:12]}… cannot sign for sender {tx.sender[:12]}…"
        )
    return SignedTransaction(tx, tx.tx_hash, identity.sign(tx.canonical()).hex())


def sign_transactions(pairs: Iterable[tuple[Identity, Transaction]]) -> list[SignedTransaction]:
    """Sign a batch of ``(identity, transaction)`` pairs, preserving order.

    Raises:
        ValueError: If any identity is not its transaction's sender.
    """
    return [sign_transaction(identity, tx) for identity, tx in pairs]
