"""Transaction validity rules shared by the ledger and the mempool.

Each check raises the typed :mod:`chain.errors` exception for the rule it
enforces. State (expected nonce, spendable balance) is passed in, so the
ledger can check against committed state and the mempool against committed
plus pending state with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from chain.errors import (
    FutureNonce,
    InvalidSignature,
    InvalidTransaction,
    Overdraft,
    StaleNonce,
    UnregisteredSender,
    short_hex,
)
from chain.miner_set import MINER_SET_KIND
from chain.transaction import SignedTransaction


def check_integrity(
    stx: SignedTransaction,
    chain_id: str,
    verified_signatures: Mapping[str, str],
    *,
    signature_verified: bool = False,
) -> None:
    """Check chain id, hash and signature of a signed transaction.

    Args:
        stx: The transaction to check.
        chain_id: The chain it must belong to.
        verified_signatures: ``tx_hash -> signature`` pairs already verified in
            this process; a matching entry skips the Ed25519 verification.
        signature_verified: The caller vouches that this exact signature was
            verified against the sender's key by a party it trusts (the area
            aggregator that signed the model's honest payments); the Ed25519 check
            is skipped, every other check is not. Never for transactions from
            outside the model (attacks, replays, imported blocks).

    Raises:
        InvalidTransaction: Wrong chain id or a hash that does not match.
        InvalidSignature: The signature does not verify.
    """
    if not isinstance(stx, SignedTransaction):
        raise InvalidTransaction(f"expected a SignedTransaction, got {type(stx).__name__}")
    tx = stx.tx
    if tx.chain_id != chain_id:
        raise InvalidTransaction(
            f"tx {short_hex(stx.tx_hash)} is for chain {tx.chain_id!r}, not {chain_id!r}"
        )
    if stx.tx_hash != tx.tx_hash:
        raise InvalidTransaction(
            f"tx hash {short_hex(stx.tx_hash)} does not match its body "
            f"(hash {short_hex(tx.tx_hash)})"
        )
    # The cache is keyed by hash but stores the exact signature that was
    # checked, so a copy of a known transaction with a forged signature is
    # still verified (and rejected).
    if signature_verified or verified_signatures.get(stx.tx_hash) == stx.signature:
        return
    if not stx.verify_signature():
        raise InvalidSignature(
            f"signature of tx {short_hex(stx.tx_hash)} does not verify for sender "
            f"{short_hex(tx.sender)}"
        )


def check_nonce(stx: SignedTransaction, expected_nonce: int) -> None:
    """Check that the transaction nonce is the sender's next expected nonce.

    Raises:
        StaleNonce: The nonce is below the expected one (replay or duplicate).
        FutureNonce: The nonce skips ahead.
    """
    nonce = stx.tx.nonce
    if nonce < expected_nonce:
        raise StaleNonce(
            f"nonce {nonce} for sender {short_hex(stx.tx.sender)} is stale: "
            f"expected {expected_nonce}"
        )
    if nonce > expected_nonce:
        raise FutureNonce(
            f"nonce {nonce} for sender {short_hex(stx.tx.sender)} is in the future: "
            f"expected {expected_nonce}"
        )


def check_funds(stx: SignedTransaction, available: int) -> None:
    """Check that the sender can pay the amount.

    Raises:
        Overdraft: The amount exceeds ``available`` micro-coins.
    """
    if stx.tx.amount > available:
        raise Overdraft(
            f"sender {short_hex(stx.tx.sender)} cannot pay {stx.tx.amount} µcoin: "
            f"balance is {available}"
        )


def check_registered(stx: SignedTransaction, registered: frozenset[str] | None) -> None:
    """Check that the sender holds a certificate (``registered`` None: an open chain).

    Raises:
        UnregisteredSender: The sender key is not in the registry.
    """
    if registered is not None and stx.tx.sender not in registered:
        raise UnregisteredSender(
            f"sender {short_hex(stx.tx.sender)} of tx {short_hex(stx.tx_hash)} holds no "
            "certificate of the chain's authority"
        )


def unregistered_among(
    keys: Iterable[str], registered: AbstractSet[str] | None
) -> AbstractSet[str]:
    """The keys among ``keys`` that :func:`check_registered` would refuse, found in one pass.

    Uses the registry's set difference (``registered.unregistered``) where it has one,
    so that a block or batch pays one C-level operation instead of a membership call
    per transaction. Empty for an open chain (``registered`` None).
    """
    if registered is None:
        return frozenset()
    unregistered = getattr(registered, "unregistered", None)
    if unregistered is not None:
        return unregistered(keys)  # type: ignore[no-any-return]
    return {key for key in set(keys) if key not in registered}


def passes_every_rule(
    stx: SignedTransaction,
    chain_id: str,
    signature_known_good: bool,
    unregistered: AbstractSet[str],
    expected_nonce: int,
    available: int,
) -> bool:
    """Whether ``stx`` passes every rule above, on plain comparisons (the hot path).

    The batch admission (:meth:`chain.mempool.Mempool.add_many`) and block validation
    (``Ledger._simulate``) ask this first and run the rule functions only when it says
    False: to raise the typed error, to verify a signature that is not known good, or
    to parse a miner-set record (always False here, as parsing it is a rule of its own).

    Args:
        stx: A :class:`SignedTransaction`.
        chain_id: The chain's id.
        signature_known_good: The caller verified the signature, or the cache holds it
            for this hash.
        unregistered: Senders :func:`check_registered` would refuse
            (:func:`unregistered_among`).
        expected_nonce: The sender's next nonce.
        available: The sender's balance.
    """
    tx = stx.tx
    return (
        tx.chain_id == chain_id
        and stx.tx_hash == tx.tx_hash
        and signature_known_good
        and tx.sender not in unregistered
        and tx.nonce == expected_nonce
        and tx.amount <= available
        and tx.kind != MINER_SET_KIND
    )
