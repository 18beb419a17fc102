"""Signed orders: what an agent sends its area's aggregator each step.

An order's signed message is a short, unambiguous byte string (orders never reach
the ledger, so they need no JSON canonical form); prices are whole micro-coins per
kWh so the signed value is exactly the value in the book.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chain.keys import Identity, verify_signature


def order_messages(
    area: int,
    step: int,
    agent: np.ndarray,
    side: np.ndarray,
    quantity_wh: np.ndarray,
    price_micro: np.ndarray,
) -> list[bytes]:
    """The bytes each order's agent signs."""
    return [
        b"gridledger-order/1|%d|%d|%d|%d|%d|%d" % (area, step, a, s, q, p)
        for a, s, q, p in zip(
            agent.tolist(), side.tolist(), quantity_wh.tolist(), price_micro.tolist(), strict=True
        )
    ]


def sign_orders(signers: Sequence[Identity], messages: Sequence[bytes]) -> list[bytes]:
    """Each order signed by its agent's key."""
    return [signer.sign(message) for signer, message in zip(signers, messages, strict=True)]


def verify_orders(
    public_keys: Sequence[str], messages: Sequence[bytes], signatures: Sequence[bytes]
) -> np.ndarray:
    """Boolean mask of the orders whose signature verifies."""
    return np.fromiter(
        (
            verify_signature(key, sig, msg)
            for key, msg, sig in zip(public_keys, messages, signatures, strict=True)
        ),
        dtype=bool,
        count=len(messages),
    )
