"""Typed ledger errors.

Every rejection of a transaction or block raises a subclass of
:class:`LedgerError`, so callers can count rejections by type and tests can
assert on the exact rule that fired. Messages state the offending values.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class for all rule violations detected by the ledger or mempool."""


class InvalidTransaction(LedgerError):
    """A transaction is malformed: bad fields, amount, chain id or hash."""


class InvalidSignature(LedgerError):
    """A transaction signature does not verify against its sender key."""


class StaleNonce(LedgerError):
    """A transaction nonce was already used (or is already pending)."""


class FutureNonce(LedgerError):
    """A transaction nonce skips ahead of the next expected nonce."""


class Overdraft(LedgerError):
    """A transaction spends more than the sender's available balance."""


class UnregisteredSender(LedgerError):
    """The sender holds no certificate of the chain's authority (``chain.authority``)."""


class InvalidBlock(LedgerError):
    """A block violates a header or consensus rule."""


class BadHeight(InvalidBlock):
    """The block height is not the ledger height + 1."""


class BadPrevHash(InvalidBlock):
    """The block does not link to the current head."""


class BadBlockHash(InvalidBlock):
    """The stated block hash is not the hash of the header."""


class BadMerkleRoot(InvalidBlock):
    """The header Merkle root does not match the block's transactions."""


class BadProposerSignature(InvalidBlock):
    """The proposer signature does not verify over the header."""


class NotAValidator(InvalidBlock):
    """The proposer is not in the validator set of a permissioned chain."""


class TimestampRegression(InvalidBlock):
    """The block timestamp is earlier than its parent's."""


class InsufficientWork(InvalidBlock):
    """The block hash has fewer leading zero bits than ``difficulty_bits``."""


def short_hex(value: str, n_chars: int = 12) -> str:
    """Abbreviate a long hex string for error messages."""
    return value if len(value) <= n_chars else value[:n_chars] + "…"


class BadCertificate(InvalidBlock):
    """A block's consensus certificate is missing, too small or badly signed."""


class SignerTooRecent(InvalidBlock):
    """A PoA sealer signed again within ``floor(n / 2) + 1`` blocks (Clique's rule)."""


class BlockTooEarly(InvalidBlock):
    """A block's timestamp breaks the consensus timing rule (period, or a tx from its future)."""


class ConsensusHalted(LedgerError):
    """The simulated consensus cannot continue (e.g. PBFT honest replicas disagreed)."""
