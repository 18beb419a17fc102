"""Merkle root over a block's transaction hashes.

Rule (Bitcoin-style duplication): leaves are the raw 32-byte tx hashes in
block order; while more than one node remains, duplicate the last node if the
count is odd, then replace each adjacent pair by ``SHA-256(left || right)``.
An empty block has the all-zero root; a single transaction's hash is the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

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


def merkle_root_of_digests(leaves: list[bytes]) -> str:
    """:func:`merkle_root` of leaves given as raw 32-byte digests (the list is consumed).

    Returns:
        The root as 64 lowercase hex chars (the all-zero root for no leaves).
    """
    if not leaves:
        return EMPTY_MERKLE_ROOT
    level = leaves
    sha256 = hashlib.sha256
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()
