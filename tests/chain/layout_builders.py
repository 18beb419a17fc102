"""Small layouts with synthetic users for the layout tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chain.consensus import ProofOfAuthority
from chain.keys import Identity
from chain.layouts import Layout, LayoutConfig, build_layout
from chain.transaction import SignedTransaction, Transaction, sign_transaction

SEED = 7
WALLET = 50_000_000


@dataclass
class Town:
    """A layout plus the users of each area and their nonces."""

    layout: Layout
    users: list[list[Identity]]
    operator: Identity
    nonces: dict[tuple[str, str], int] = field(default_factory=dict)
    next_trade: int = 0

    def key(self, area: int, i: int) -> str:
        return self.users[area][i].public_hex

    def pay(
        self, payer: tuple[int, int], payee: tuple[int, int], amount: int, at_ms: int, tag: int = 0
    ) -> tuple[SignedTransaction, list]:
        """Sign a payment of ``payer`` (area, index) to ``payee`` and submit it."""
        (a, i), (b, j) = payer, payee
        pa, pb = np.array([a]), np.array([b])
        chain_id = self.layout.chain_ids(pa, pb, np.array([tag]))[0]
        receiver = self.layout.receivers(pa, pb, [self.key(b, j)])[0]
        sender = self.users[a][i]
        nonce = self.nonces.get((chain_id, sender.public_hex), 0)
        self.nonces[(chain_id, sender.public_hex)] = nonce + 1
        tx = Transaction(
            chain_id=chain_id,
            sender=sender.public_hex,
            receiver=receiver,
            amount=amount,
            nonce=nonce,
            kind="p2p_payment",
            payload={"trade_id": self.next_trade},
            timestamp_ms=at_ms,
        )
        self.next_trade += 1
        stx = sign_transaction(sender, tx)
        return stx, self.layout.submit([stx], pa, pb, [self.key(b, j)])

    def drain(self, start_ms: int = 0, step_ms: int = 2_000, max_rounds: int = 200) -> None:
        """Advance until nothing is pending."""
        now = max(start_ms, self.layout.now_ms)
        self.layout.advance_to(now)
        for _ in range(max_rounds):
            if not self.layout.pending:
                return
            now += step_ms
            self.layout.advance_to(now)
        raise AssertionError("layout did not drain")


def make_town(
    layout: str = "sharded",
    *,
    consensus=None,
    n_areas: int = 3,
    users_per_area: int = 3,
    wallet: int = WALLET,
    **settings,
) -> Town:
    """A layout over ``n_areas`` areas of ``users_per_area`` users with ``wallet`` micro-coins."""
    users = [
        [Identity.derive(SEED, f"user/{a}/{i}") for i in range(users_per_area)]
        for a in range(n_areas)
    ]
    operator = Identity.derive(SEED, "operator")
    built = build_layout(
        LayoutConfig(layout=layout, **settings),
        consensus or ProofOfAuthority(n_validators=3),
        chain_id="town",
        seed=SEED,
        area_balances=[{u.public_hex: wallet for u in area} for area in users],
        operator_key=operator.public_hex,
        operator_micro=9_000_000,
    )
    return Town(built, users, operator)
