"""Trades, ClearingResult and residual books."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest

from market import (
    BUY,
    SELL,
    ClearingResult,
    OrderBook,
    Trades,
    concat_trades,
    remap_orders,
    residual_book,
    residual_order_ids,
    traded_wh,
)


def _trades() -> Trades:
    return Trades(
        buyer=[1, 2],
        seller=[3, 4],
        buyer_order=[0, 1],
        seller_order=[2, -1],
        buyer_area=[0, 0],
        seller_area=[1, -1],
        quantity_wh=[1500, 250],
        price=[10.0, 20.0],
    )


def test_trades_columns_and_value() -> None:
    t = _trades()
    assert len(t) == 2
    cols = t.to_columns()
    assert list(cols) == [
        "buyer",
        "seller",
        "buyer_order",
        "seller_order",
        "buyer_area",
        "seller_area",
        "quantity_wh",
        "price",
    ]
    assert cols["buyer_area"].dtype == np.int32 and cols["quantity_wh"].dtype == np.int64
    np.testing.assert_allclose(t.value_coins(), [15.0, 5.0])


def test_trades_validation() -> None:
    good = _trades().to_columns()
    with pytest.raises(ValueError, match="quantity_wh"):
        Trades(**{**good, "quantity_wh": np.array([0, 1])})
    with pytest.raises(ValueError, match="price"):
        Trades(**{**good, "price": np.array([1.0])})
    with pytest.raises(ValueError, match="seller_order"):
        Trades(**{**good, "seller_order": np.array([-2, 0])})


def test_empty_and_concat() -> None:
    e = Trades.empty()
    assert len(e) == 0 and e.price.dtype == np.float64
    assert e.value_coins().shape == (0,)
    joined = concat_trades([_trades(), e, _trades()])
    np.testing.assert_array_equal(joined.quantity_wh, [1500, 250, 1500, 250])
    assert len(concat_trades([])) == 0
    assert len(Trades.concat([_trades()])) == 2


def test_take() -> None:
    t = _trades()
    np.testing.assert_array_equal(t.take([1]).buyer, [2])
    np.testing.assert_array_equal(t.take(np.array([True, False])).seller, [3])
    assert len(t.take(np.zeros(0, dtype=np.int64))) == 0


def test_remap_orders_keeps_grid() -> None:
    t = remap_orders(_trades(), [7, 8, 9])
    np.testing.assert_array_equal(t.buyer_order, [7, 8])
    np.testing.assert_array_equal(t.seller_order, [9, -1])
    with pytest.raises(IndexError):
        remap_orders(_trades(), [7, 8])


def _book() -> OrderBook:
    return OrderBook.from_columns(
        agent=[1, 2, 3, 4],
        side=[BUY, SELL, BUY, SELL],
        quantity_wh=[10, 20, 30, 0],
        limit_price=[5.0, 4.0, 3.0, 2.0],
        area=[0, 1, 2, 3],
    )


def test_residual_book() -> None:
    book = _book()
    result = ClearingResult(Trades.empty(), np.array([0, 5, 30, 0]), {})
    rest = residual_book(book, result)
    np.testing.assert_array_equal(residual_order_ids(result), [1, 2])
    np.testing.assert_array_equal(rest.agent, [2, 3])
    np.testing.assert_array_equal(rest.quantity_wh, [5, 30])
    np.testing.assert_array_equal(rest.area, [1, 2])
    np.testing.assert_array_equal(traded_wh(book, result), [10, 15, 0, 0])


def test_residual_book_rejects_foreign_result() -> None:
    book = _book()
    with pytest.raises(ValueError):
        residual_book(book, ClearingResult(Trades.empty(), np.array([0, 0]), {}))
    with pytest.raises(ValueError):
        residual_book(book, ClearingResult(Trades.empty(), np.array([11, 0, 0, 0]), {}))


def test_clearing_result_validates_residual() -> None:
    with pytest.raises(ValueError, match="residual_wh"):
        ClearingResult(Trades.empty(), np.array([-1]), {})
