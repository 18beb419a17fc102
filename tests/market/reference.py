"""Plain-Python reference implementation of sorted pairing, for equivalence tests.

Deliberately written as the textbook two-pointer walk of seed 004 (CE-SDT),
§3.3, independent of the vectorised code in ``market.sorted_pairing``.
"""

from __future__ import annotations

from dataclasses import dataclass

from market import BUY, SELL, OrderBook


@dataclass(frozen=True)
class RefTrade:
    """One trade of the reference walk (order rows, Wh, coins/kWh)."""

    buyer_order: int
    seller_order: int
    quantity_wh: int
    price: float


def reference_clear(book: OrderBook, price_rule: str) -> tuple[list[RefTrade], list[int]]:
    """Return (trades in walk order, residual per order) by an explicit loop."""
    n = len(book)
    side = [int(x) for x in book.side]
    qty = [int(x) for x in book.quantity_wh]
    price = [float(x) for x in book.limit_price]
    sellers = sorted(
        (i for i in range(n) if side[i] == SELL and qty[i] > 0), key=lambda i: (price[i], i)
    )
    buyers = sorted(
        (i for i in range(n) if side[i] == BUY and qty[i] > 0), key=lambda i: (-price[i], i)
    )
    remaining = list(qty)
    trades: list[RefTrade] = []
    b = s = 0
    while b < len(buyers) and s < len(sellers):
        buyer, seller = buyers[b], sellers[s]
        bid, ask = price[buyer], price[seller]
        if bid < ask:
            break
        x = min(remaining[buyer], remaining[seller])
        p = (bid + ask) / 2 if price_rule == "midpoint" else bid
        trades.append(RefTrade(buyer, seller, x, p))
        remaining[buyer] -= x
        remaining[seller] -= x
        if remaining[buyer] == 0:
            b += 1
        if remaining[seller] == 0:
            s += 1
    return trades, remaining
