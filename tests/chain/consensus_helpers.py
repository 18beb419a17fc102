"""Builders for consensus tests: chains of any protocol with a simple, exact network."""

from __future__ import annotations

from typing import Any

from chain import Chain, NetworkModel, make_genesis
from tests.chain.builders import CHAIN_ID, COIN, pay, users, validators

#: 10 ms links at 8 Mbit/s: a message of b bytes takes 10 + b / 1000 ms.
EXACT_NETWORK = NetworkModel(latency_ms=10.0, bandwidth_mbps=8.0)
PEOPLE = users(4)


def consensus_chain(consensus: Any, *, chain_id: str = CHAIN_ID) -> Chain:
    """A chain of ``consensus`` whose four test users hold 10 coins each."""
    vals = validators(consensus.n_validators)
    balances = {person.public_hex: 10 * COIN for person in PEOPLE}
    return Chain(make_genesis(chain_id, consensus, balances, vals), consensus, vals)


def submit_payments(chain: Chain, count: int, *, spacing_ms: int = 500, start_ms: int = 0) -> None:
    """``count`` small payments around the four users, ``spacing_ms`` apart."""
    for k in range(count):
        sender = PEOPLE[k % 4]
        nonce = chain.mempool.pending_nonce(sender.public_hex)
        stx = pay(sender, PEOPLE[(k + 1) % 4], 1000 + k, nonce,
                  timestamp_ms=start_ms + spacing_ms * k, chain_id=chain.chain_id)  # fmt: skip
        assert chain.submit([stx]) == []
