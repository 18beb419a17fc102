"""Shared pieces of the greedy, order-by-order mechanisms (``local_re``, ``ev_dr``).

:class:`TradeLog` accumulates trades row by row and turns them into a
:class:`market.result.Trades` table; :func:`take_in_order` fills a demand from
a ranked list of suppliers, the inner step of both mechanisms.
"""

from __future__ import annotations

import numpy as np

from market.book import OrderBook
from market.result import Trades


def take_in_order(demand_wh: int, available_wh: np.ndarray) -> np.ndarray:
    """Quantities taken from each supplier, in the given order, until ``demand_wh`` is met."""
    avail = np.maximum(np.asarray(available_wh, dtype=np.int64), 0)
    before = np.cumsum(avail) - avail
    return np.clip(int(demand_wh) - before, 0, avail).astype(np.int64)


class TradeLog:
    """Trades collected one batch at a time (rows of the cleared book)."""

    def __init__(self) -> None:
        self._buyer: list[np.ndarray] = []
        self._seller: list[np.ndarray] = []
        self._qty: list[np.ndarray] = []
        self._price: list[np.ndarray] = []
        self._tag: list[np.ndarray] = []

    def add(
        self,
        buyer: np.ndarray,
        seller: np.ndarray,
        qty: np.ndarray,
        price: np.ndarray,
        tag: int = 0,
    ) -> None:
        """Record trades ``seller -> buyer`` (book rows), dropping zero quantities."""
        buyer, seller = np.broadcast_arrays(
            np.asarray(buyer, np.int64), np.asarray(seller, np.int64)
        )
        qty = np.broadcast_to(np.asarray(qty, np.int64), buyer.shape)
        price = np.broadcast_to(np.asarray(price, np.float64), buyer.shape)
        keep = qty > 0
        self._buyer.append(buyer[keep])
        self._seller.append(seller[keep])
        self._qty.append(qty[keep])
        self._price.append(price[keep])
        self._tag.append(np.full(int(keep.sum()), tag, dtype=np.int64))

    def trades(self, book: OrderBook) -> tuple[Trades, np.ndarray]:
        """The trades as a table (in recording order) and their tags."""
        if not self._qty:
            return Trades.empty(), np.zeros(0, dtype=np.int64)
        buyer = np.concatenate(self._buyer)
        seller = np.concatenate(self._seller)
        trades = Trades._trusted(
            buyer=book.agent[buyer],
            seller=book.agent[seller],
            buyer_order=buyer,
            seller_order=seller,
            buyer_area=book.area[buyer],
            seller_area=book.area[seller],
            quantity_wh=np.concatenate(self._qty),
            price=np.concatenate(self._price),
        )
        return trades, np.concatenate(self._tag)


def residual_after(book: OrderBook, trades: Trades) -> np.ndarray:
    """Each order's quantity minus what it traded in ``trades``."""
    residual = book.quantity_wh.copy()
    np.subtract.at(residual, trades.buyer_order, trades.quantity_wh)
    np.subtract.at(residual, trades.seller_order, trades.quantity_wh)
    return residual


def cap_group_totals(group: np.ndarray, quantity: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Reduce ``quantity`` (in order within each group) so every group total is <= ``cap[group]``.

    Args:
        group: Group index of each entry (e.g. a book row).
        quantity: Non-negative whole quantities.
        cap: Cap per group index.

    Returns:
        The capped quantities (same order).
    """
    group = np.asarray(group, dtype=np.int64)
    qty = np.asarray(quantity, dtype=np.int64)
    if qty.size == 0:
        return qty.copy()
    order = np.argsort(group, kind="stable")
    g, q = group[order], qty[order]
    cum = np.cumsum(q)
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    base = np.repeat(cum[start] - q[start], np.diff(np.r_[start, len(g)]))
    before = cum - q - base
    capped = np.clip(np.asarray(cap, dtype=np.int64)[g] - before, 0, q)
    out = np.empty_like(qty)
    out[order] = capped
    return out
