"""Grid settlement of residuals and the grid-only baseline."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from market import (
    BUY,
    GRID_AREA,
    GRID_ORDER,
    MECHANISMS,
    SELL,
    GridOnly,
    MarketContext,
    OrderBook,
    SortedPairing,
    settle_with_grid,
)

from .helpers import traded_per_order
from .strategies import books, contexts

GRID = -7
CTX = MarketContext(step=5, tariff=30.0, feed_in_tariff=10.0)


def _book() -> OrderBook:
    return OrderBook.from_columns(
        agent=[1, 2, 3, 4, 5, 6],
        side=[SELL, BUY, SELL, BUY, SELL, BUY],
        quantity_wh=[100, 200, 300, 50, 70, 0],
        limit_price=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        area=[10, 11, 12, 13, 14, 15],
        dispatchable=[False, False, True, True, False, False],
    )


def test_settle_hand_example() -> None:
    residual = np.array([40, 200, 300, 0, 70, 0])
    t = settle_with_grid(_book(), residual, CTX, GRID)
    # rows 0 (export), 1 (import), 4 (export); row 2 dispatchable, rows 3 & 5 nothing left
    np.testing.assert_array_equal(t.buyer, [GRID, 2, GRID])
    np.testing.assert_array_equal(t.seller, [1, GRID, 5])
    np.testing.assert_array_equal(t.buyer_order, [GRID_ORDER, 1, GRID_ORDER])
    np.testing.assert_array_equal(t.seller_order, [0, GRID_ORDER, 4])
    np.testing.assert_array_equal(t.buyer_area, [GRID_AREA, 11, GRID_AREA])
    np.testing.assert_array_equal(t.seller_area, [10, GRID_AREA, 14])
    np.testing.assert_array_equal(t.quantity_wh, [40, 200, 70])
    np.testing.assert_array_equal(t.price, [10.0, 30.0, 10.0])
    np.testing.assert_allclose(t.value_coins(), [0.4, 6.0, 0.7])
    assert t.buyer_area.dtype == np.int32 and t.price.dtype == np.float64


def test_settle_nothing_left() -> None:
    t = settle_with_grid(_book(), np.zeros(6, dtype=np.int64), CTX, GRID)
    assert len(t) == 0
    assert len(settle_with_grid(OrderBook.empty(), [], CTX, GRID)) == 0


def test_settle_rejects_bad_residuals() -> None:
    with pytest.raises(ValueError, match="residual_wh"):
        settle_with_grid(_book(), [0, 0], CTX, GRID)
    with pytest.raises(ValueError, match="residual_wh"):
        settle_with_grid(_book(), [101, 0, 0, 0, 0, 0], CTX, GRID)
    with pytest.raises(ValueError, match="residual_wh"):
        settle_with_grid(_book(), [-1, 0, 0, 0, 0, 0], CTX, GRID)


def test_grid_only_baseline() -> None:
    book = _book()
    result = GridOnly().clear(book, CTX)
    assert GridOnly.name == "grid_only" and MECHANISMS["grid_only"] is GridOnly
    assert len(result.trades) == 0
    np.testing.assert_array_equal(result.residual_wh, book.quantity_wh)
    assert result.diagnostics["matched_wh"] == 0.0
    assert result.diagnostics["n_buy_orders"] == 3.0
    t = settle_with_grid(book, result.residual_wh, CTX, GRID)
    np.testing.assert_array_equal(t.quantity_wh, [100, 200, 50, 70])


@given(books(), contexts(), st.sampled_from(["sorted_pairing", "grid_only"]))
def test_settlement_conserves_quantities(book, ctx, name) -> None:
    mechanism = MECHANISMS[name]()
    result = mechanism.clear(book, ctx)
    grid = settle_with_grid(book, result.residual_wh, ctx, GRID)
    peer = traded_per_order(book, result.trades)
    on_grid = traded_per_order(book, grid)
    dropped = (book.side == SELL) & book.dispatchable
    np.testing.assert_array_equal(
        peer + on_grid + np.where(dropped, result.residual_wh, 0), book.quantity_wh
    )
    assert np.all(on_grid[dropped] == 0)
    # Exactly one side of every grid trade is the grid, at the right price.
    imports = grid.seller == GRID
    assert np.all(imports != (grid.buyer == GRID))
    assert np.all(grid.price[imports] == ctx.tariff)
    assert np.all(grid.price[~imports] == ctx.feed_in_tariff)
    assert np.all(book.side[grid.buyer_order[imports]] == BUY)
    assert np.all(book.side[grid.seller_order[~imports]] == SELL)
    assert np.all(grid.seller_order[imports] == GRID_ORDER)
    assert np.all(grid.buyer_area[~imports] == GRID_AREA)
    rows = np.where(imports, grid.buyer_order, grid.seller_order)
    assert np.all(np.diff(rows) > 0)  # book row order
    assert np.all(grid.quantity_wh == result.residual_wh[rows])


@given(books(), contexts())
def test_sorted_pairing_never_worse_than_grid_for_traders(book, ctx) -> None:
    """Limits within [feed-in, tariff] give peer prices within [feed-in, tariff]."""
    result = SortedPairing().clear(book, ctx)
    t = result.trades
    inside = (book.limit_price[t.buyer_order] <= ctx.tariff) & (
        book.limit_price[t.seller_order] >= ctx.feed_in_tariff
    )
    assert np.all(t.price[inside] <= ctx.tariff)
    assert np.all(t.price[inside] >= ctx.feed_in_tariff)
