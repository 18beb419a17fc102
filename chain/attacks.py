"""Attacks on a simulated chain, and what each is expected to run into.

Each builder returns an attack object that a node should refuse: transactions for
:meth:`chain.node.Chain.submit`, blocks for :meth:`chain.ledger.Ledger.apply_block`,
DR messages for :meth:`chain.dr_protocol.DrProtocol.validate`.
:class:`AttackLedger` counts attempts and rejections per attack kind and per typed
error; an attack that is *accepted* is counted too (``accepted``), and the tests
require it to stay zero.

Attack kinds (``docs/security.md``):

* ``double_spend``: a second payment with the nonce of the attacker's last admitted
  payment, to another receiver (the same coins spent twice) -> ``StaleNonce``.
* ``replay``: an exact copy of a payment the attacker *received*, resubmitted to be
  paid twice -> ``StaleNonce``.
* ``forge``: a payment from a victim to the attacker signed with the attacker's key
  -> ``InvalidSignature``.
* ``overdraft``: a payment of more than the attacker's balance -> ``Overdraft``.
* ``unregistered``: a payment from a key the authority never certified ->
  ``UnregisteredSender`` (``Overdraft`` on an open chain: the key holds nothing).
* ``tampered_block``: a validator seals a well-formed block holding a forged payment
  to itself -> a typed transaction error (or ``BadCertificate`` where a quorum
  certificate is required, which a lone rogue validator cannot produce).
* ``rogue_sealer``: a key outside the authority set seals a block -> ``NotAValidator``.
* ``too_frequent_sealer`` (proof of authority): the last block's sealer seals again
  within ``floor(n/2)`` blocks (Clique's recent-signer rule) -> ``SignerTooRecent``.
* ``dr_forged_token`` / ``dr_replay`` / ``dr_stale_token``: demand-response
  messages with a token signed by the EV instead of its SP, reused, or expired.

The proof-of-work private fork is analysed by :func:`private_fork_success_probability`
and :func:`simulate_private_fork` (the engine keeps one agreed chain and models no
reorganisation, so the race is computed, not run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chain.block import Block, BlockHeader, seal_block
from chain.consensus.pow import mine
from chain.dr_protocol import DrMessage, DrProtocol, DrRejected, token_bytes
from chain.errors import LedgerError
from chain.keys import Identity
from chain.merkle import merkle_root
from chain.transaction import SignedTransaction, Transaction, sign_transaction

TX_ATTACKS = ("double_spend", "replay", "forge", "overdraft", "unregistered")
BLOCK_ATTACKS = ("tampered_block", "rogue_sealer", "too_frequent_sealer")
DR_ATTACKS = ("dr_forged_token", "dr_replay", "dr_stale_token")
REGISTRATION_ATTACKS = ("sybil",)
ATTACK_KINDS = (*TX_ATTACKS, *REGISTRATION_ATTACKS, *BLOCK_ATTACKS, *DR_ATTACKS)


@dataclass
class AttackLedger:
    """Attempted / rejected / accepted attacks per kind, and rejections per error type."""

    attempted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)

    def record(self, kind: str, error: BaseException | str | None) -> None:
        """Count one attempt of ``kind``: rejected with ``error``, or accepted (None)."""
        self.attempted[kind] = self.attempted.get(kind, 0) + 1
        if error is None:
            self.accepted[kind] = self.accepted.get(kind, 0) + 1
            return
        name = error if isinstance(error, str) else type(error).__name__
        self.rejected[kind] = self.rejected.get(kind, 0) + 1
        by_error = self.errors.setdefault(kind, {})
        by_error[name] = by_error.get(name, 0) + 1

    def summary(self, kinds: tuple[str, ...] = ATTACK_KINDS) -> dict[str, dict[str, Any]]:
        """``{kind: {attempted, rejected, accepted, errors}}`` for the given kinds."""
        return {
            kind: {
                "attempted": self.attempted.get(kind, 0),
                "rejected": self.rejected.get(kind, 0),
                "accepted": self.accepted.get(kind, 0),
                "errors": dict(sorted(self.errors.get(kind, {}).items())),
            }
            for kind in kinds
        }


# ---------------------------------------------------------------------- transactions
def make_tx(
    chain_id: str, sender: str, receiver: str, amount: int, nonce: int, now_ms: int,
    kind: str = "p2p_payment",
) -> Transaction:  # fmt: skip
    """An unsigned attack payment (payload ``{"attack": 1}``)."""
    return Transaction(
        chain_id=chain_id, sender=sender, receiver=receiver, amount=int(amount),
        nonce=int(nonce), kind=kind, payload={"attack": 1}, timestamp_ms=int(now_ms),
    )  # fmt: skip


def double_spend(
    attacker: Identity, spent: SignedTransaction, receiver: str, now_ms: int
) -> SignedTransaction:
    """Re-spend the coins of ``spent`` (the attacker's admitted payment) to ``receiver``."""
    tx = spent.tx
    return sign_transaction(
        attacker, make_tx(tx.chain_id, tx.sender, receiver, tx.amount, tx.nonce, now_ms, tx.kind)
    )


def replay(received: SignedTransaction) -> SignedTransaction:
    """An exact copy of an already admitted transaction."""
    return SignedTransaction(received.tx, received.tx_hash, received.signature)


def forge(
    attacker: Identity, chain_id: str, victim: str, nonce: int, amount: int, now_ms: int
) -> SignedTransaction:
    """A payment from ``victim`` to the attacker, signed with the attacker's key."""
    tx = make_tx(chain_id, victim, attacker.public_hex, amount, nonce, now_ms)
    return SignedTransaction(tx, tx.tx_hash, attacker.sign(tx.canonical()).hex())


def overdraft(
    attacker: Identity, chain_id: str, receiver: str, nonce: int, balance: int, now_ms: int
) -> SignedTransaction:
    """A correctly signed payment of one micro-coin more than the attacker holds."""
    return sign_transaction(
        attacker, make_tx(chain_id, attacker.public_hex, receiver, balance + 1, nonce, now_ms)
    )


def unregistered(
    outsider: Identity, chain_id: str, receiver: str, now_ms: int
) -> SignedTransaction:
    """A payment signed by a key the authority never certified."""
    tx = make_tx(chain_id, outsider.public_hex, receiver, 1, 0, now_ms)
    return sign_transaction(outsider, tx)


def submit_attacks(
    chain: Any, attacks: Sequence[tuple[str, SignedTransaction]], ledger: AttackLedger
) -> list[SignedTransaction]:
    """Offer attack transactions to ``chain`` in one batch and count the outcomes.

    Returns:
        The attack transactions the mempool admitted (none, for a sound chain).
    """
    rejected = chain.submit([stx for _, stx in attacks])
    errors: dict[int, LedgerError] = {id(stx): err for stx, err in rejected}
    admitted = []
    for kind, stx in attacks:
        error = errors.get(id(stx))
        ledger.record(kind, error)
        if error is None:
            admitted.append(stx)
    return admitted


# ---------------------------------------------------------------------- blocks
def _block(chain: Any, sealer: Identity, transactions: list[SignedTransaction]) -> Block:
    """A block on ``chain``'s head sealed by ``sealer``, meeting the timing rules."""
    ledger = chain.ledger
    params = ledger.genesis.params
    period = int(params.get("block_period_ms", 0))
    stamp = max(chain.now_ms, ledger.head_timestamp_ms + period)
    stamp = max([stamp, *(stx.tx.timestamp_ms for stx in transactions)])
    bits = int(params.get("difficulty_bits", 0)) if ledger.genesis.consensus == "pow" else 0
    fields = {
        "chain_id": chain.chain_id,
        "height": ledger.height + 1,
        "prev_hash": ledger.head_hash,
        "merkle_root": merkle_root([stx.tx_hash for stx in transactions]),
        "timestamp_ms": int(stamp),
        "proposer": sealer.public_hex,
        "consensus": ledger.genesis.consensus,
        "nonce": 0,
        "difficulty_bits": bits,
    }
    if bits:
        fields["nonce"], _ = mine(fields, ledger.hash_function, bits)
    header = BlockHeader(**fields, hash_function=ledger.hash_function)
    return seal_block(header, sealer, transactions)


def eligible_sealer(chain: Any) -> int:
    """A validator index the consensus rules let seal the next block (Clique-aware)."""
    genesis = chain.ledger.genesis
    n = len(genesis.validators)
    if genesis.consensus == "central":
        return 0
    recent = {b.header.proposer for b in chain.ledger.blocks[-(n // 2) :]} if n // 2 else set()
    for index in range(n):
        if genesis.validators[index] not in recent:
            return index
    return 0


def tampered_block(chain: Any, victim: str, now_ms: int) -> Block:
    """A rogue validator's block paying itself from ``victim`` with a forged signature."""
    sealer = chain.validators[eligible_sealer(chain)]
    nonce = chain.mempool.pending_nonce(victim)
    stx = forge(sealer, chain.chain_id, victim, nonce, 1_000_000, now_ms)
    return _block(chain, sealer, [stx])


def rogue_sealer_block(chain: Any, outsider: Identity) -> Block:
    """An empty block sealed by a key outside the validator set."""
    return _block(chain, outsider, [])


def too_frequent_block(chain: Any) -> Block | None:
    """The head's sealer sealing again (None before the first block or with one sealer)."""
    blocks = chain.ledger.blocks
    if not blocks or len(chain.validators) < 2:
        return None
    sealer = chain.validators[chain.validator_index[blocks[-1].header.proposer]]
    return _block(chain, sealer, [])


def try_apply(chain: Any, block: Block) -> LedgerError | None:
    """Offer ``block`` to the validators (no certificate); the error, or None if accepted.

    ``Ledger.apply_block`` validates completely before it changes anything, so a
    rejected block leaves the chain as it was.
    """
    try:
        chain.ledger.apply_block(block)
    except LedgerError as err:
        return err
    return None


# ---------------------------------------------------------------------- DR tokens
def dr_forged(protocol: DrProtocol, message: DrMessage, attacker: Identity) -> DrMessage:
    """The same token with ``SignToken`` made by the attacker instead of the SP."""
    forged = attacker.sign(token_bytes(message.token)).hex()
    return DrMessage(
        message.token, message.ev_id, message.wallet, message.request_signature, forged,
        message.dr_signature, message.broadcast_signature,
    )  # fmt: skip


def try_dr(
    protocol: DrProtocol,
    message: DrMessage,
    payment: SignedTransaction,
    *,
    credit: int,
    pre_record: str,
    now_ms: int,
) -> DrRejected | None:
    """Validate a DR message as the validators would; the error, or None if accepted."""
    try:
        protocol.validate(message, payment, credit=credit, pre_record=pre_record, now_ms=now_ms)
    except DrRejected as err:
        return err
    return None


# ---------------------------------------------------------------------- PoW private fork
def private_fork_success_probability(attacker_share: float, confirmations: int) -> float:
    """Probability that a private fork overtakes a payment buried under ``confirmations`` blocks.

    The attacker (hash share ``q``, honest ``p = 1 - q``) mines in secret from the
    payment block's parent while the honest miners bury the payment under
    ``k = confirmations`` blocks (the payment block included). The attacker's
    blocks in that time follow a negative binomial law,
    ``P(X = x) = C(x + k - 1, x) p^k q^x``; from a deficit ``z = k - x`` it
    overtakes (gets one block ahead and publishes) with probability
    ``(q/p)^(z + 1)`` (gambler's ruin), at once if already ahead. With ``q >= 1/2``
    it always wins eventually. (The classic analysis of Nakamoto 2008 §11 and
    Rosenfeld 2014, re-derived here for our success rule.)

    Raises:
        ValueError: If the share is outside [0, 1] or ``confirmations < 1``.
    """
    q, k = float(attacker_share), int(confirmations)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"attacker_share must be in [0, 1] (got {attacker_share!r})")
    if k < 1:
        raise ValueError(f"confirmations must be >= 1 (got {confirmations!r})")
    if q >= 0.5:
        return 1.0
    if q == 0.0:
        return 0.0
    p = 1.0 - q
    total = 0.0
    for x in range(k + 200):  # the tail beyond k + 200 is below 1e-12 for q < 1/2
        weight = math.comb(x + k - 1, x) * p**k * q**x
        deficit = k - x
        total += weight * (1.0 if deficit < 0 else (q / p) ** (deficit + 1))
    return min(total, 1.0)


def simulate_private_fork(
    attacker_share: float,
    confirmations: int,
    trials: int,
    rng: np.random.Generator,
    horizon_blocks: int = 200,
) -> float:
    """Monte Carlo estimate of :func:`private_fork_success_probability`.

    Each trial draws who finds each next block (attacker with probability ``q``)
    until the payment has ``confirmations`` honest blocks, then lets the race run
    until the attacker is one block ahead (success), falls ``horizon_blocks``
    behind (failure) or ``horizon_blocks`` more blocks were found (failure: with
    ``q = 1/2`` the catch-up is certain but can take arbitrarily long).

    Returns:
        The fraction of successful trials.
    """
    q, k = float(attacker_share), int(confirmations)
    wins = 0
    for _ in range(int(trials)):
        honest = attacker = 0
        found = 0
        while honest < k:
            if rng.random() < q:
                attacker += 1
            else:
                honest += 1
        while attacker <= honest and honest - attacker < horizon_blocks and found < horizon_blocks:
            if rng.random() < q:
                attacker += 1
            else:
                honest += 1
            found += 1
        wins += attacker > honest
    return wins / max(int(trials), 1)


def fork_table(
    shares: tuple[float, ...], confirmations: tuple[int, ...], trials: int, seed: int
) -> list[dict[str, float]]:
    """Success (analytic and simulated) for each attacker share and ``k``."""
    rng = np.random.default_rng(seed)
    return [
        {
            "attacker_share": q,
            "confirmations": k,
            "success_analytic": private_fork_success_probability(q, k),
            "success_simulated": simulate_private_fork(q, k, trials, rng),
        }
        for q in shares
        for k in confirmations
    ]
