"""Merkle root over a block's transaction hashes.

Rule (Bitcoin-style duplication): leaves are the raw 32-byte tx hashes in
block order; while more than one node remains, duplicate the last node if the
count is odd, then replace each adjacent pair by ``SHA-256(left || right)``.
An empty block has the all-zero root; a single transaction's hash is the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

EMPTY_MERKLE_ROOT = "00" * 32


def merkle_root(tx_hashes: Sequence[str]) -> str:
    """Compute the Merkle root of transaction hashes.

    Args:
        tx_hashes: Transaction hashes in block order, 64 hex chars each.

    Returns:
        The root as 64 lowercase hex chars.

    Raises:
        ValueError: If a hash is not 32 bytes of hex.
    """
    if not tx_hashes:
        return EMPTY_MERKLE_ROOT
    tx_hashes = tuple(tx_hashes)
    if set(map(type, tx_hashes)) == {str}:
        return _merkle_root_memo(tx_hashes)
    return _merkle_root(tx_hashes)


def _merkle_root(tx_hashes: tuple[str, ...]) -> str:
    """:func:`merkle_root` of a non-empty tuple."""
    n = len(tx_hashes)
    # Fast path: every hash a 64-char str and the joined text exactly 32 bytes of hex
    # per hash (``bytes.fromhex`` skips whitespace, which would shorten it).
    if set(map(type, tx_hashes)) == {str} and set(map(len, tx_hashes)) == {64}:
        try:
            raw = bytes.fromhex("".join(tx_hashes))
        except ValueError:
            raw = b""
        if len(raw) == 32 * n:
            return _root_of_joined(raw, n)
    level = []
    for position, tx_hash in enumerate(tx_hashes):
        try:
            leaf = bytes.fromhex(tx_hash)
        except (TypeError, ValueError):
            leaf = b""
        if len(leaf) != 32:
            raise ValueError(f"tx hash at index {position} is not 32 bytes of hex: {tx_hash!r}")
        level.append(leaf)
    return merkle_root_of_digests(level)


# A chain computes each block's root twice, when its sealer drafts the header and when
# the ledger checks the block against it; the check finds the draft's result under the
# full tuple of hashes (equal tuples of str: same input, same root), so it costs one
# tuple hash and comparison instead of the tree. Errors are not cached.
_merkle_root_memo = lru_cache(maxsize=8)(_merkle_root)


def merkle_root_of_digests(leaves: list[bytes]) -> str:
    """:func:`merkle_root` of leaves given as raw 32-byte digests.

    Returns:
        The root as 64 lowercase hex chars (the all-zero root for no leaves).

    Raises:
        ValueError: If a leaf is not 32 bytes long.
    """
    if not leaves:
        return EMPTY_MERKLE_ROOT
    if set(map(len, leaves)) != {32}:
        raise ValueError("Merkle leaves must be 32-byte digests")
    return _root_of_joined(b"".join(leaves), len(leaves))


def _root_of_joined(level: bytes, n: int) -> str:
    """The root over ``n`` 32-byte nodes stored back to back in ``level``.

    Stored this way, the pair ``left || right`` that a parent hashes is simply the
    next 64-byte slice, so each level is one pass of slices and SHA-256 calls and one
    ``join``; an odd level gets its last node appended once (the duplication rule).
    """
    sha256 = hashlib.sha256
    while n > 1:
        if n % 2:
            level += level[-32:]
            n += 1
        level = b"".join([sha256(level[i : i + 64]).digest() for i in range(0, 32 * n, 64)])
        n //= 2
    return level.hex()
