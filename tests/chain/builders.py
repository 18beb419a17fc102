"""Builders for the chain tests: identities, chains, signed payments and forged blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chain import (
    Block,
    BlockHeader,
    Certificate,
    Chain,
    Identity,
    Ledger,
    ProofOfAuthority,
    SignedTransaction,
    Transaction,
    make_genesis,
    merkle_root,
    sign_transaction,
)
from chain.certificate import make_certificate, sign_vote

SEED = 20240611
CHAIN_ID = "grid-a"
COIN = 1_000_000
N_USERS = 6


def users(n: int = N_USERS, seed: int = SEED) -> list[Identity]:
    """Deterministic user identities."""
    return [Identity.derive(seed, f"user/{i}") for i in range(n)]


def validators(n: int = 4, seed: int = SEED) -> list[Identity]:
    """Deterministic validator identities."""
    return [Identity.derive(seed, f"validator/{i}") for i in range(n)]


def new_chain(
    consensus: ProofOfAuthority | None = None,
    *,
    chain_id: str = CHAIN_ID,
    balance: int = 10 * COIN,
    n_users: int = N_USERS,
) -> Chain:
    """A PoA chain where every test user starts with ``balance`` micro-coins."""
    consensus = consensus or ProofOfAuthority(block_period_s=2.0, n_validators=4)
    vals = validators(consensus.n_validators)
    balances = {user.public_hex: balance for user in users(n_users)}
    return Chain(make_genesis(chain_id, consensus, balances, vals), consensus, vals)


def pay(
    sender: Identity,
    receiver: Identity,
    amount: int,
    nonce: int,
    *,
    timestamp_ms: int = 0,
    chain_id: str = CHAIN_ID,
    payload: dict[str, Any] | None = None,
    kind: str = "transfer",
) -> SignedTransaction:
    """A signed payment."""
    tx = Transaction(
        chain_id=chain_id,
        sender=sender.public_hex,
        receiver=receiver.public_hex,
        amount=amount,
        nonce=nonce,
        kind=kind,
        payload=payload if payload is not None else {"trade_id": f"t-{nonce}", "energy_wh": 250},
        timestamp_ms=timestamp_ms,
    )
    return sign_transaction(sender, tx)


def forge_block(
    ledger: Ledger,
    stxs: Sequence[SignedTransaction],
    proposer: Identity,
    *,
    block_hash: str | None = None,
    signer: Identity | None = None,
    **header_fields: Any,
) -> Block:
    """Build a block on top of ``ledger`` bypassing all checks; override any header field."""
    fields: dict[str, Any] = {
        "chain_id": ledger.chain_id,
        "height": ledger.height + 1,
        "prev_hash": ledger.head_hash,
        "merkle_root": merkle_root([stx.tx_hash for stx in stxs]),
        "timestamp_ms": ledger.head_timestamp_ms + 2000,
        "proposer": proposer.public_hex,
        "consensus": ledger.genesis.consensus,
        "nonce": 0,
        "difficulty_bits": 0,
    }
    fields.update(header_fields)
    header = BlockHeader(**fields)
    signature = (signer or proposer).sign(header.canonical()).hex()
    return Block(header, block_hash or header.block_hash, signature, tuple(stxs))


def agree_certificate(block: Block, signers: Sequence[Identity], view: int = 0) -> Certificate:
    """A proof-of-work ``agree`` certificate of ``block`` signed by ``signers``."""
    order = {identity.public_hex: i for i, identity in enumerate(signers)}
    votes = [
        sign_vote(s, block.header.chain_id, block.height, block.block_hash, "agree", view)
        for s in signers
    ]
    return make_certificate(
        block.header.chain_id, block.height, block.block_hash, "agree", view, votes, order
    )


def two_chain_run() -> list[Chain]:
    """A small deterministic run: chain "grid-a" skips idle slots, "grid-b" seals empty ones."""
    people = users(4)
    chain_a = new_chain(
        ProofOfAuthority(block_period_s=1.0, max_block_tx=4, n_validators=3),
        chain_id="grid-a",
        n_users=4,
    )
    chain_b = new_chain(
        ProofOfAuthority(block_period_s=2.0, n_validators=2, seal_empty_blocks=True),
        chain_id="grid-b",
        n_users=4,
    )
    nonces_a = [0] * 4
    for k in range(18):
        sender, receiver = k % 4, (k * 3 + 1) % 4
        payload = {"trade_id": f"A-{k}", "energy_wh": 100 + k, "site": "Zürich", "ok": k % 2 == 0}
        chain_a.submit(
            [pay(people[sender], people[receiver], 1000 * (k + 1), nonces_a[sender],
                 timestamp_ms=400 * k, chain_id="grid-a", payload=payload)]
        )  # fmt: skip
        nonces_a[sender] += 1
    for k in range(6):
        chain_b.submit(
            [pay(people[0], people[1 + k % 3], 5 * COIN // 10, k, timestamp_ms=1500 * k,
                 chain_id="grid-b", payload={"leg": [k, "x"]})]
        )  # fmt: skip
    chain_a.advance_to(12_000)
    chain_b.advance_to(12_000)
    return [chain_a, chain_b]
