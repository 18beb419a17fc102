"""Small checks shared by the market tests."""

from __future__ import annotations

import numpy as np

from market import BUY, SELL, OrderBook, Trades


def traded_per_order(book: OrderBook, trades: Trades) -> np.ndarray:
    """Sum the quantity of every peer trade onto the buy and sell orders involved."""
    traded = np.zeros(len(book), dtype=np.int64)
    np.add.at(
        traded,
        trades.buyer_order[trades.buyer_order >= 0],
        trades.quantity_wh[trades.buyer_order >= 0],
    )
    np.add.at(
        traded,
        trades.seller_order[trades.seller_order >= 0],
        trades.quantity_wh[trades.seller_order >= 0],
    )
    return traded


def assert_no_crossing(book: OrderBook, residual_wh: np.ndarray) -> None:
    """Assert max residual bid < min residual ask (the matching is maximal)."""
    left = residual_wh > 0
    bids = book.limit_price[left & (book.side == BUY)]
    asks = book.limit_price[left & (book.side == SELL)]
    if bids.size and asks.size:
        assert bids.max() < asks.min(), (bids.max(), asks.min())


def assert_trades_equal(a: Trades, b: Trades) -> None:
    """Assert two trade tables are identical column by column (dtype included)."""
    ca, cb = a.to_columns(), b.to_columns()
    assert list(ca) == list(cb)
    for name in ca:
        assert ca[name].dtype == cb[name].dtype, name
        np.testing.assert_array_equal(ca[name], cb[name], err_msg=name)
