"""Two-round clearing: each area alone, then all residuals together."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
from hypothesis import given

from market import (
    OrderBook,
    clear_sorted_pairing,
    concat_books,
    concat_trades,
    remap_orders,
    residual_book,
    residual_order_ids,
)

from .helpers import assert_no_crossing, traded_per_order
from .strategies import books


def _two_rounds(book: OrderBook):
    areas = np.unique(book.area)
    rows_by_area = [np.flatnonzero(book.area == a) for a in areas]
    first_trades, leftover_books, leftover_rows = [], [], []
    for rows in rows_by_area:
        sub = book.take(rows)
        result = clear_sorted_pairing(sub)
        first_trades.append(remap_orders(result.trades, rows))
        leftover_books.append(residual_book(sub, result))
        leftover_rows.append(rows[residual_order_ids(result)])
    leftover = concat_books(leftover_books)
    parent_rows = np.concatenate(leftover_rows) if leftover_rows else np.zeros(0, dtype=np.int64)
    second = clear_sorted_pairing(leftover)
    trades = concat_trades([*first_trades, remap_orders(second.trades, parent_rows)])
    residual = book.quantity_wh.copy()
    residual[parent_rows] = second.residual_wh
    residual[np.setdiff1d(np.arange(len(book)), parent_rows)] = 0
    n_first = sum(len(t) for t in first_trades)
    return trades, residual, leftover, parent_rows, n_first


def test_hand_example_cross_area() -> None:
    book = OrderBook.from_columns(
        agent=[1, 2, 3, 4],
        side=[1, -1, 1, -1],
        quantity_wh=[100, 60, 50, 100],
        limit_price=[10.0, 4.0, 3.0, 6.0],
        area=[0, 0, 1, 1],
    )
    trades, residual, leftover, _, n_first = _two_rounds(book)
    assert n_first == 1
    # Area 0: 60 Wh at 7.  Area 1: bid 3 < ask 6, no trade.
    # Round 2: buyer 1 (40 Wh left) x seller 4 (ask 6) at 8.
    np.testing.assert_array_equal(leftover.agent, [1, 3, 4])
    np.testing.assert_array_equal(leftover.quantity_wh, [40, 50, 100])
    np.testing.assert_array_equal(trades.buyer_order, [0, 0])
    np.testing.assert_array_equal(trades.seller_order, [1, 3])
    np.testing.assert_array_equal(trades.seller_area, [0, 1])
    np.testing.assert_array_equal(trades.quantity_wh, [60, 40])
    np.testing.assert_array_equal(trades.price, [7.0, 8.0])
    np.testing.assert_array_equal(residual, [0, 0, 50, 60])


@given(books(max_orders=50))
def test_two_rounds_conserve_and_end_maximal(book) -> None:
    trades, residual, leftover, parent_rows, n_first = _two_rounds(book)
    # The leftover book holds exactly what round one left, row for row.
    first_traded = traded_per_order(book, trades.take(np.arange(n_first)))
    left_after_first = book.quantity_wh - first_traded
    np.testing.assert_array_equal(np.sort(parent_rows), np.flatnonzero(left_after_first > 0))
    np.testing.assert_array_equal(leftover.quantity_wh, left_after_first[parent_rows])
    np.testing.assert_array_equal(leftover.agent, book.agent[parent_rows])
    # Round one trades stay inside an area.
    first = slice(0, n_first)
    np.testing.assert_array_equal(trades.buyer_area[first], trades.seller_area[first])
    # Both rounds together conserve every order and leave no crossing pair anywhere.
    np.testing.assert_array_equal(traded_per_order(book, trades) + residual, book.quantity_wh)
    assert np.all(residual >= 0)
    assert_no_crossing(book, residual)
