"""Signed consensus votes and the certificates that prove a block was agreed.

A *vote* is a validator's Ed25519 signature over the canonical bytes of::

    {"block_hash": H, "chain_id": C, "height": h, "phase": P, "view": v}

PBFT replicas sign ``"prepare"`` and ``"commit"`` votes (and ``"pre-prepare"``
for the primary's proposal); proof-of-work miners sign an ``"agree"`` vote
after auditing the winner's block (seed 000, Algorithm 2: every miner must
agree). A :class:`Certificate` bundles the votes that committed one block; it
is exported next to the block (``certificates.parquet``) so that a third
party can check it (``docs/ledger-format.md`` section 9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chain.encoding import canonical_bytes_unchecked, require_int, require_str
from chain.keys import PUBLIC_KEY_HEX_CHARS, SIGNATURE_BYTES, Identity, verify_signature_hex

#: Phases a vote may carry; only ``commit`` and ``agree`` votes form certificates.
VOTE_PHASES = ("pre-prepare", "prepare", "commit", "agree", "view-change", "new-view")
CERTIFICATE_PHASES = ("commit", "agree")


def vote_bytes(chain_id: str, height: int, block_hash: str, phase: str, view: int) -> bytes:
    """Canonical bytes a validator signs to vote for ``block_hash`` at ``height``.

    Args:
        chain_id: The chain.
        height: Height of the block voted on.
        block_hash: Hash of the block (or of whatever the voter believes is the
            block: a Byzantine voter may name a different one).
        phase: One of :data:`VOTE_PHASES`.
        view: PBFT view number (0 for proof of work).
    """
    return canonical_bytes_unchecked(
        {
            "block_hash": block_hash,
            "chain_id": chain_id,
            "height": height,
            "phase": phase,
            "view": view,
        }
    )


@dataclass(frozen=True)
class Vote:
    """One signed vote inside a certificate.

    Attributes:
        signer: Validator public key hex.
        signature: Ed25519 signature (128 hex chars) of :func:`vote_bytes`.
    """

    signer: str
    signature: str

    @property
    def size_bytes(self) -> int:
        """Wire size: raw key and signature."""
        return PUBLIC_KEY_HEX_CHARS // 2 + SIGNATURE_BYTES


@dataclass(frozen=True)
class Certificate:
    """The votes that committed one block.

    Attributes:
        chain_id: The chain.
        height: The block's height.
        block_hash: The block's hash.
        phase: ``"commit"`` (PBFT, hybrid) or ``"agree"`` (proof of work).
        view: PBFT view in which the block committed (0 for proof of work).
        votes: Votes ordered by the signers' validator index.
    """

    chain_id: str
    height: int
    block_hash: str
    phase: str
    view: int
    votes: tuple[Vote, ...]

    def __post_init__(self) -> None:
        require_str("chain_id", self.chain_id)
        require_int("height", self.height, minimum=1)
        require_int("view", self.view)
        if self.phase not in CERTIFICATE_PHASES:
            raise ValueError(f"phase must be one of {CERTIFICATE_PHASES} (got {self.phase!r})")
        object.__setattr__(self, "votes", tuple(self.votes))

    def message(self) -> bytes:
        """The bytes every vote of the certificate signs."""
        return vote_bytes(self.chain_id, self.height, self.block_hash, self.phase, self.view)

    @property
    def signers(self) -> tuple[str, ...]:
        """Public keys of the voters, in vote order."""
        return tuple(vote.signer for vote in self.votes)

    @property
    def size_bytes(self) -> int:
        """Wire size of the votes (the message itself is implied by the block)."""
        return sum(vote.size_bytes for vote in self.votes)

    def invalid_votes(self) -> list[str]:
        """Signers whose signature does not verify over :meth:`message`."""
        message = self.message()
        return [
            vote.signer
            for vote in self.votes
            if not verify_signature_hex(vote.signer, vote.signature, message)
        ]

    def to_rows(self) -> list[dict[str, Any]]:
        """One export row per vote (see ``CERTIFICATES_SCHEMA`` in :mod:`chain.export`)."""
        return [
            {
                "chain_id": self.chain_id,
                "height": self.height,
                "block_hash": self.block_hash,
                "phase": self.phase,
                "view": self.view,
                "signer": vote.signer,
                "signature": vote.signature,
            }
            for vote in self.votes
        ]


def sign_vote(
    identity: Identity, chain_id: str, height: int, block_hash: str, phase: str, view: int
) -> Vote:
    """Sign a vote with ``identity``."""
    message = vote_bytes(chain_id, height, block_hash, phase, view)
    return Vote(identity.public_hex, identity.sign(message).hex())


def make_certificate(
    chain_id: str,
    height: int,
    block_hash: str,
    phase: str,
    view: int,
    votes: Iterable[Vote],
    validator_order: dict[str, int],
) -> Certificate:
    """Build a certificate with its votes sorted by validator index."""
    ordered = sorted(votes, key=lambda vote: validator_order[vote.signer])
    return Certificate(chain_id, height, block_hash, phase, view, tuple(ordered))
