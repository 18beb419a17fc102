"""Signed transactions packed as columns, to move between processes cheaply.

Under ``runtime=ray`` every area returns the payments it signed to the driver. Pickled
one by one, each :class:`~chain.transaction.SignedTransaction` costs the unpickler about
a dozen Python objects (hex strings, the payload, two dataclasses) and then a rebuild
through the constructor. :class:`SignedColumns` carries the same list as a few numpy
arrays (keys, hashes and signatures as raw bytes, amounts, nonces and timestamps as
int64, chain ids and kinds as small codes) plus the list of payloads, so that pickling
is mostly memory copies.

Nothing is trusted on arrival: :meth:`SignedColumns.unpack` checks the batch and
recomputes every transaction's canonical bytes and hash, as unpickling a
``SignedTransaction`` does; the
claimed hash and the signature travel unchanged and are checked by whoever checks them
(the chain's admission compares the claimed hash with the recomputed one). A list that
cannot be represented exactly (a field that is not 32-byte hex, an amount outside
int64) is carried as the plain list instead (:func:`pack`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chain.encoding import thaw
from chain.transaction import SignedTransaction, Transaction

KEY_BYTES = 32
HASH_BYTES = 32
SIGNATURE_BYTES = 64


@dataclass(frozen=True)
class SignedColumns:
    """A list of signed transactions as columns (see the module docstring).

    Attributes:
        chain_ids: Distinct chain ids; ``chain_code[i]`` indexes it.
        kinds: Distinct kinds; ``kind_code[i]`` indexes it.
        sender: ``(n, 32)`` uint8, raw public keys.
        receiver: ``(n, 32)`` uint8, raw public keys.
        amount: int64 micro-coins.
        nonce: int64.
        timestamp_ms: int64.
        payloads: One plain payload mapping per transaction.
        tx_hash: ``(n, 32)`` uint8, the claimed hashes.
        signature: ``(n, 64)`` uint8, the signatures.
    """

    chain_ids: tuple[str, ...]
    chain_code: np.ndarray
    kinds: tuple[str, ...]
    kind_code: np.ndarray
    sender: np.ndarray
    receiver: np.ndarray
    amount: np.ndarray
    nonce: np.ndarray
    timestamp_ms: np.ndarray
    payloads: list[Any]
    tx_hash: np.ndarray
    signature: np.ndarray

    def __len__(self) -> int:
        return len(self.amount)

    def unpack(self) -> list[SignedTransaction]:
        """The signed transactions, each rebuilt with its canonical bytes and hash.

        The columns themselves guarantee most of what the ``Transaction`` constructor
        checks: keys are 64 lowercase hex characters because they are made from raw
        bytes here, amounts, nonces and timestamps are ints because they come from
        int64 columns. What the columns do not guarantee (non-negative ints, non-empty
        chain ids and kinds, string payload keys) is checked on the whole batch first;
        then the transactions are built with :meth:`Transaction.trusted`, which still
        computes the canonical bytes and hash (and takes the checking constructor for
        any payload that is not flat). If a check fails, every transaction goes
        through the checking constructor, which raises the usual error.
        """
        n = len(self)
        checked = (
            all(self.chain_ids)
            and all(self.kinds)
            and all(bool((column >= 0).all()) for column in self._ints())
            and all(type(key) is str for payload in self.payloads for key in payload)
        )
        build = Transaction.trusted if checked else Transaction
        chain_ids = [self.chain_ids[c] for c in self.chain_code.tolist()]
        kinds = [self.kinds[k] for k in self.kind_code.tolist()]
        senders = _hex_rows(self.sender, n)
        receivers = _hex_rows(self.receiver, n)
        hashes = _hex_rows(self.tx_hash, n)
        signatures = _hex_rows(self.signature, n)
        return [
            SignedTransaction(build(*fields), tx_hash, signature)
            for *fields, tx_hash, signature in zip(
                chain_ids,
                senders,
                receivers,
                self.amount.tolist(),
                self.nonce.tolist(),
                kinds,
                self.payloads,
                self.timestamp_ms.tolist(),
                hashes,
                signatures,
                strict=True,
            )
        ]

    def _ints(self) -> tuple[np.ndarray, ...]:
        return (self.amount, self.nonce, self.timestamp_ms)


def pack(signed: Sequence[SignedTransaction]) -> SignedColumns | list[SignedTransaction]:
    """``signed`` as :class:`SignedColumns`, or as a plain list if it cannot be exact.

    Columns need every key and hash to be 64 lowercase hex characters, every signature
    128, and amounts, nonces and timestamps to fit int64; anything else (a record a test
    tampered with, say) travels as the list itself.
    """
    signed = list(signed)
    try:
        txs = [stx.tx for stx in signed]
        amount = _int64([tx.amount for tx in txs])
        nonce = _int64([tx.nonce for tx in txs])
        timestamp = _int64([tx.timestamp_ms for tx in txs])
        sender = _raw_rows([tx.sender for tx in txs], KEY_BYTES)
        receiver = _raw_rows([tx.receiver for tx in txs], KEY_BYTES)
        tx_hash = _raw_rows([stx.tx_hash for stx in signed], HASH_BYTES)
        signature = _raw_rows([stx.signature for stx in signed], SIGNATURE_BYTES)
        chain_ids, chain_code = _codes([tx.chain_id for tx in txs])
        kinds, kind_code = _codes([tx.kind for tx in txs])
    except (ValueError, TypeError, OverflowError):
        return signed
    return SignedColumns(
        chain_ids=chain_ids,
        chain_code=chain_code,
        kinds=kinds,
        kind_code=kind_code,
        sender=sender,
        receiver=receiver,
        amount=amount,
        nonce=nonce,
        timestamp_ms=timestamp,
        payloads=[thaw(tx.payload) for tx in txs],
        tx_hash=tx_hash,
        signature=signature,
    )


def unpack(packed: SignedColumns | list[SignedTransaction]) -> list[SignedTransaction]:
    """The list :func:`pack` was given (rebuilt through the constructors)."""
    return packed.unpack() if isinstance(packed, SignedColumns) else list(packed)


def _int64(values: list[Any]) -> np.ndarray:
    """int64 column (``Transaction`` keeps its ints in ``[0, 2**63)``; else OverflowError)."""
    if any(type(v) is not int for v in values):
        raise TypeError("not an int")
    return np.array(values, dtype=np.int64)


def _raw_rows(texts: list[str], width: int) -> np.ndarray:
    """``(n, width)`` uint8 from hex strings of exactly ``2 * width`` lowercase chars.

    Raises:
        ValueError: If any string is not such hex (the caller falls back to a list).
    """
    if any(type(t) is not str or len(t) != 2 * width or t != t.lower() for t in texts):
        raise ValueError("not canonical hex")
    raw = bytes.fromhex("".join(texts))
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(texts), width)


def _hex_rows(rows: np.ndarray, n: int) -> list[str]:
    text, width = rows.tobytes().hex(), 2 * rows.shape[1]
    return [text[i * width : (i + 1) * width] for i in range(n)]


def _codes(values: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    if any(type(v) is not str for v in values):
        raise TypeError("not a string")
    distinct = tuple(dict.fromkeys(values))
    index = {value: i for i, value in enumerate(distinct)}
    return distinct, np.array([index[v] for v in values], dtype=np.int32)
