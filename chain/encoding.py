r"""Canonical encoding of signed records.

Every hash and signature in gridledger covers the *canonical bytes* of a JSON
object: keys sorted, no whitespace, UTF-8 without ``\u`` escapes. Floats are
forbidden anywhere in signed data because their decimal rendering is not
portable across languages; quantities are integers in domain units (Wh,
micro-coins, milliseconds).

This module also provides ``FrozenDict`` and ``freeze``: records cache their
canonical bytes, so the nested payload they hold must not change afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

HEX_DIGITS = frozenset("0123456789abcdef")
_HEX_RUN = re.compile(r"[0-9a-f]*").fullmatch

_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


class FrozenDict(dict):
    """A read-only ``dict`` used for payloads and balances inside records.

    It stays a real ``dict`` subclass so that ``json`` encodes it natively and
    comparisons with plain dicts work; only mutation is blocked.
    """

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("FrozenDict is read-only")

    __setitem__ = __delitem__ = _readonly  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(_dumps(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default dict pickling replays __setitem__, which is blocked.
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def freeze(value: Any, path: str = "value") -> Any:
    """Return an immutable, type-checked copy of a JSON-like value.

    Mappings become ``FrozenDict`` and lists/tuples become tuples (JSON encodes
    both as arrays, so the canonical bytes are unchanged).

    Args:
        value: ``None``, bool, int, str, or nested mappings/lists of them.
        path: Where the value sits, used in error messages.

    Returns:
        The frozen copy.

    Raises:
        TypeError: On floats, non-string mapping keys or unsupported types.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if type(value) in _FLAT_MAPPINGS and all(
        type(key) is str and type(item) in _SCALARS for key, item in value.items()
    ):
        # The common case (payloads of plain ints and strings), without the recursion.
        return value if type(value) is FrozenDict else FrozenDict(value)
    if isinstance(value, float):
        raise TypeError(
            f"{path} is a float ({value!r}); signed data must use integers in domain units"
        )
    if isinstance(value, Mapping):
        frozen = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a non-string key {key!r}")
            frozen[key] = freeze(item, f"{path}.{key}")
        return FrozenDict(frozen)
    if isinstance(value, list | tuple):
        return tuple(freeze(item, f"{path}[{i}]") for i, item in enumerate(value))
    raise TypeError(f"{path} has unsupported type {type(value).__name__}")


_FLAT_MAPPINGS = (dict, FrozenDict)
_SCALARS = frozenset((int, str, bool, type(None)))


def thaw(value: Any) -> Any:
    """Return a plain ``dict``/``list`` deep copy of a frozen value."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value


def canonical_bytes(obj: Any) -> bytes:
    """Encode a JSON-like object as gridledger canonical bytes.

    Equivalent to ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode("utf-8")`` after checking that no float occurs.

    Args:
        obj: ``None``, bool, int, str, or nested mappings (string keys) and
            lists of them.

    Returns:
        The UTF-8 encoded canonical JSON.

    Raises:
        TypeError: If the object holds a float or an unsupported type.
        ValueError: If a string holds a lone surrogate (not encodable as UTF-8).
    """
    return _dumps(freeze(obj, "object")).encode("utf-8")


def canonical_bytes_unchecked(obj: Any) -> bytes:
    """Encode an object already known to be float-free (e.g. frozen by ``freeze``).

    Skips the type walk of :func:`canonical_bytes`; used by records that
    validated their fields at construction.
    """
    return _dumps(obj).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


#: Block hash functions a genesis may declare (``params.block_hash_function``), with
#: the length of their hex digest. SHA-1 reproduces the 160-bit digest of seed 000
#: (SSG, Algorithm 2); everything else in gridledger stays SHA-256.
BLOCK_HASH_HEX_CHARS = {"sha256": 64, "sha1": 40}
DEFAULT_BLOCK_HASH = "sha256"


def block_digest_hex(hash_function: str, data: bytes) -> str:
    """Hex digest of ``data`` with a block hash function of :data:`BLOCK_HASH_HEX_CHARS`.

    Raises:
        ValueError: If the function is not one of them.
    """
    if hash_function == "sha256":
        return hashlib.sha256(data).hexdigest()
    if hash_function == "sha1":
        return hashlib.sha1(data, usedforsecurity=False).hexdigest()
    raise ValueError(
        f"block_hash_function must be one of {sorted(BLOCK_HASH_HEX_CHARS)} (got {hash_function!r})"
    )


def is_hex(value: object, n_chars: int) -> bool:
    """Whether ``value`` is a string of exactly ``n_chars`` lowercase hex digits."""
    # A compiled regex is about twice as fast as a set walk over the characters.
    return isinstance(value, str) and len(value) == n_chars and _HEX_RUN(value) is not None


def require_int(name: str, value: object, *, minimum: int = 0) -> int:
    """Check a signed integer field: a real int (not bool), in ``[minimum, 2**63)``.

    The upper bound keeps every record representable in Parquet ``int64``.

    Raises:
        TypeError: If ``value`` is not an int (floats and bools included).
        ValueError: If it is out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (got {type(value).__name__} {value!r})")
    if not minimum <= value < 2**63:
        raise ValueError(f"{name} must be in [{minimum}, 2**63) (got {value})")
    return value


def require_hex(name: str, value: object, n_chars: int) -> str:
    """Check that ``value`` is ``n_chars`` lowercase hex digits.

    Raises:
        ValueError: If it is not.
    """
    if not is_hex(value, n_chars):
        raise ValueError(f"{name} must be {n_chars} lowercase hex chars (got {value!r})")
    return value  # type: ignore[return-value]


def require_block_hash(name: str, value: object) -> str:
    """Check a block or genesis hash: 64 (SHA-256) or 40 (SHA-1) lowercase hex chars.

    Raises:
        ValueError: If it is neither.
    """
    if not (is_hex(value, 64) or is_hex(value, 40)):
        raise ValueError(f"{name} must be 64 or 40 lowercase hex chars (got {value!r})")
    return value  # type: ignore[return-value]


def require_str(name: str, value: object) -> str:
    """Check that ``value`` is a non-empty string.

    Raises:
        TypeError: If it is not a string.
        ValueError: If it is empty.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str (got {type(value).__name__})")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value
