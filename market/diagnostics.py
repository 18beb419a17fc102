"""Scalar diagnostics of a peer-to-peer clearing."""

from __future__ import annotations

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.result import Trades


def clearing_diagnostics(book: OrderBook, trades: Trades) -> dict[str, float]:
    """Summarise a peer clearing of ``book`` that produced ``trades``.

    Args:
        book: The cleared book.
        trades: The peer-to-peer trades of the clearing (no grid trades).

    Returns:
        ``matched_wh`` (total traded), ``n_trades``, ``mean_price``
        (volume-weighted coins/kWh, 0 when nothing traded), ``n_buy_orders``
        and ``n_sell_orders`` (orders of each side in the book).
    """
    matched_wh = int(trades.quantity_wh.sum())
    mean_price = (
        float(np.dot(trades.quantity_wh.astype(np.float64), trades.price) / matched_wh)
        if matched_wh > 0
        else 0.0
    )
    return {
        "matched_wh": float(matched_wh),
        "n_trades": float(len(trades)),
        "mean_price": mean_price,
        "n_buy_orders": float(np.count_nonzero(book.side == BUY)),
        "n_sell_orders": float(np.count_nonzero(book.side == SELL)),
    }
