"""Block headers, sealed blocks and sealing.

Like transactions, a :class:`BlockHeader` validates its fields and computes
its canonical bytes and hash once, at construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter, methodcaller
from typing import Any

from chain.encoding import (
    BLOCK_HASH_HEX_CHARS,
    DEFAULT_BLOCK_HASH,
    block_digest_hex,
    canonical_bytes_unchecked,
    require_block_hash,
    require_hex,
    require_int,
    require_str,
)
from chain.keys import PUBLIC_KEY_HEX_CHARS, SIGNATURE_BYTES, Identity
from chain.transaction import SignedTransaction

HEADER_FIELDS = (
    "chain_id",
    "height",
    "prev_hash",
    "merkle_root",
    "timestamp_ms",
    "proposer",
    "consensus",
    "nonce",
    "difficulty_bits",
)


@dataclass(frozen=True)
class BlockHeader:
    """The signed part of a block.

    The block hash is SHA-256 of the canonical bytes unless the chain's genesis
    declares another ``block_hash_function`` (only proof of work may, see
    ``docs/ledger-format.md``); ``hash_function`` is not part of the signed body.

    Attributes:
        chain_id: Chain the block belongs to.
        height: Block number, the first block is 1.
        prev_hash: Hash of the parent block, or the genesis hash at height 1.
        merkle_root: Merkle root of the block's transaction hashes.
        timestamp_ms: Simulated sealing time (the slot time) in milliseconds.
        proposer: Proposer public key, 64 lowercase hex chars.
        consensus: Consensus name, e.g. ``"poa"``.
        nonce: Proof-of-work nonce (0 for other consensus).
        difficulty_bits: Required leading zero bits of the block hash (0 unless PoW).
        hash_function: Block hash function, ``"sha256"`` (default) or ``"sha1"``.
    """

    chain_id: str
    height: int
    prev_hash: str
    merkle_root: str
    timestamp_ms: int
    proposer: str
    consensus: str
    nonce: int
    difficulty_bits: int
    hash_function: str = DEFAULT_BLOCK_HASH

    def __post_init__(self) -> None:
        require_str("chain_id", self.chain_id)
        require_int("height", self.height, minimum=1)
        require_block_hash("prev_hash", self.prev_hash)
        require_hex("merkle_root", self.merkle_root, 64)
        require_int("timestamp_ms", self.timestamp_ms)
        require_hex("proposer", self.proposer, PUBLIC_KEY_HEX_CHARS)
        require_str("consensus", self.consensus)
        require_int("nonce", self.nonce)
        require_int("difficulty_bits", self.difficulty_bits)
        if self.hash_function not in BLOCK_HASH_HEX_CHARS:
            raise ValueError(
                f"hash_function must be one of {sorted(BLOCK_HASH_HEX_CHARS)} "
                f"(got {self.hash_function!r})"
            )
        max_bits = 4 * BLOCK_HASH_HEX_CHARS[self.hash_function]
        if self.difficulty_bits > max_bits:
            raise ValueError(
                f"difficulty_bits must be in [0, {max_bits}] (got {self.difficulty_bits})"
            )
        canonical = canonical_bytes_unchecked(self.body())
        object.__setattr__(self, "_canonical", canonical)
        object.__setattr__(self, "_block_hash", block_digest_hex(self.hash_function, canonical))

    def body(self) -> dict[str, Any]:
        """The signed object: exactly the nine header fields."""
        return {name: getattr(self, name) for name in HEADER_FIELDS}

    def canonical(self) -> bytes:
        """Canonical bytes of :meth:`body` (what is hashed and signed)."""
        return self._canonical  # type: ignore[attr-defined,no-any-return]

    @property
    def block_hash(self) -> str:
        """Hex digest of the canonical bytes with :attr:`hash_function`."""
        return self._block_hash  # type: ignore[attr-defined,no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        fields = tuple(getattr(self, name) for name in HEADER_FIELDS)
        return (BlockHeader, (*fields, self.hash_function))


@dataclass(frozen=True)
class Block:
    """A header with its claimed hash, proposer signature and transactions.

    Construction checks types only; the ledger checks the claims.

    Attributes:
        header: The block header.
        block_hash: Claimed hash of the header.
        proposer_signature: Proposer's Ed25519 signature of the header's
            canonical bytes, 128 hex chars.
        transactions: Signed transactions in block order.
    """

    header: BlockHeader
    block_hash: str
    proposer_signature: str
    transactions: tuple[SignedTransaction, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.header, BlockHeader):
            raise TypeError(f"header must be a BlockHeader (got {type(self.header).__name__})")
        if not isinstance(self.block_hash, str) or not isinstance(self.proposer_signature, str):
            raise TypeError("block_hash and proposer_signature must be hex strings")
        transactions = tuple(self.transactions)
        for stx in transactions:
            if not isinstance(stx, SignedTransaction):
                raise TypeError(
                    f"transactions must be SignedTransaction (got {type(stx).__name__})"
                )
        object.__setattr__(self, "transactions", transactions)

    @property
    def height(self) -> int:
        """The header's height."""
        return self.header.height

    @property
    def n_tx(self) -> int:
        """Number of transactions."""
        return len(self.transactions)

    @property
    def size_bytes(self) -> int:
        """Wire size estimate: header and transactions as canonical bytes plus raw signatures.

        Hashes are not counted because receivers recompute them. Computed once per
        block (every field it depends on is immutable) and kept with the block.
        """
        size = self.__dict__.get("_size_bytes")
        if size is None:
            transactions = self.transactions
            canonical = map(methodcaller("canonical"), map(attrgetter("tx"), transactions))
            size = (
                len(self.header.canonical())
                + SIGNATURE_BYTES * (1 + len(transactions))
                + sum(map(len, canonical))
            )
            object.__setattr__(self, "_size_bytes", size)
        return size  # type: ignore[no-any-return]


def leading_zero_bits(hash_hex: str) -> int:
    """Number of leading zero bits of a hex digest (4 x its length when all zero)."""
    value = int(hash_hex, 16)
    return 4 * len(hash_hex) - value.bit_length()


def seal_block(
    header: BlockHeader,
    proposer: Identity,
    transactions: Iterable[SignedTransaction],
) -> Block:
    """Sign a header and bundle it with its transactions.

    The Merkle root is not recomputed here (the caller just computed it to
    build the header); ``Ledger.apply_block`` checks it with the other rules.

    Args:
        header: A header whose ``merkle_root`` covers ``transactions``.
        proposer: The identity named in ``header.proposer``.
        transactions: Signed transactions in block order.

    Returns:
        The sealed block.

    Raises:
        ValueError: If ``proposer`` is not the header's proposer (a caller bug).
    """
    if proposer.public_hex != header.proposer:
        raise ValueError(
            f"identity {proposer.public_hex[:12]}… cannot seal a header proposed by "
            f"{header.proposer[:12]}…"
        )
    return Block(
        header, header.block_hash, proposer.sign(header.canonical()).hex(), tuple(transactions)
    )
