"""Primitives of the independent verifier: hex, integers, hashing, Ed25519, canonical JSON.

Part of :mod:`chain.verify`; like it, this module uses no other gridledger code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEX_DIGITS = frozenset("0123456789abcdef")
#: Block hash functions a genesis may declare, with the length of their hex digest.
BLOCK_HASH_HEX_CHARS = {"sha256": 64, "sha1": 40}
# The format's canonical JSON. Floats are kept out by the callers: JSON text is
# parsed with _reject_float, and row fields are type-checked.
_encode_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class Problems:
    """The problems found so far: the first ``limit`` messages and the total count."""

    limit: int
    items: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, message: str) -> None:
        """Record one problem."""
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(message)


def is_hex(value: object, n_chars: int) -> bool:
    """Whether ``value`` is exactly ``n_chars`` lowercase hex digits."""
    return isinstance(value, str) and len(value) == n_chars and HEX_DIGITS.issuperset(value)


def is_uint(value: object) -> bool:
    """An int (not bool) in [0, 2**63): every integer field fits Parquet int64."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def is_name(value: object) -> bool:
    """A non-empty string."""
    return isinstance(value, str) and value != ""


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1 << 16)
def public_key(public_hex: str) -> Ed25519PublicKey | None:
    """Parsed Ed25519 public key, or None if malformed (cached)."""
    if not is_hex(public_hex, 64):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    except ValueError:
        return None


def signature_ok(public_hex: str, signature_hex: object, message: bytes) -> bool:
    """Whether a 128-hex Ed25519 signature of ``message`` verifies for the key."""
    key = public_key(public_hex) if isinstance(public_hex, str) else None
    if key is None or not is_hex(signature_hex, 128):
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message)  # type: ignore[arg-type]
    except InvalidSignature:
        return False
    return True


def merkle_root(tx_hashes: list[object]) -> str | None:
    """Merkle root per the format spec, or None if a hash is not 32 bytes of hex."""
    if not tx_hashes:
        return "00" * 32
    if not all(is_hex(h, 64) for h in tx_hashes):
        return None
    level = [bytes.fromhex(h) for h in tx_hashes]  # type: ignore[arg-type]
    while len(level) > 1:
        if len(level) % 2 == 1:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def leading_zero_bits(hash_hex: str) -> int:
    """Leading zero bits of a hex digest of any length."""
    return 4 * len(hash_hex) - int(hash_hex, 16).bit_length()


def digest_hex(hash_function: str, data: bytes) -> str:
    """Hex digest with a block hash function named in a genesis (``sha256`` or ``sha1``)."""
    return hashlib.new(hash_function, data).hexdigest()


def _reject_float(text: str) -> Any:
    raise ValueError(f"float {text} in signed data")


_decode_json = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_float).decode


def parse_json(text: Any) -> Any:
    """Parse JSON text, rejecting floats, NaN and infinities; None if invalid."""
    if not isinstance(text, str):
        return None
    try:
        return _decode_json(text)
    except ValueError:
        return None


def has_float(obj: Any) -> bool:
    """Whether a parsed JSON value holds a float anywhere."""
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        return any(has_float(value) for value in obj.values())
    if isinstance(obj, list):
        return any(has_float(value) for value in obj)
    return False


def canonical_or_none(obj: Any) -> bytes | None:
    """Canonical bytes, or None if not encodable (e.g. a lone surrogate)."""
    try:
        return _encode_json(obj).encode("utf-8")
    except (TypeError, ValueError):
        return None


def read_rows(path: Path, columns: tuple[str, ...], problems: Problems) -> list[dict] | None:
    """Rows of a Parquet file as dicts of ``columns``; None (and a problem) if unusable."""
    try:
        table = pq.read_table(path)
    except Exception as err:  # any Arrow/IO failure means the file is unusable
        problems.add(f"{path.name}: not a readable Parquet file ({err})")
        return None
    missing = [name for name in columns if name not in table.column_names]
    if missing:
        problems.add(f"{path.name}: missing columns {missing}")
        return None
    data = {name: table.column(name).to_pylist() for name in columns}
    return [dict(zip(columns, values, strict=True)) for values in zip(*data.values(), strict=True)]


def split_by_chain(rows: list[dict]) -> dict[Any, list[dict]]:
    """Rows per chain id, each list in file order."""
    by_chain: dict[Any, list[dict]] = {}
    for row in rows:
        by_chain.setdefault(row["chain_id"], []).append(row)
    return by_chain
