"""OrderBook: construction, validation and derived books."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest

from market import BUY, SELL, OrderBook, concat_books


def _book() -> OrderBook:
    return OrderBook.from_columns(
        agent=[10, 11, 12, 13],
        side=[BUY, SELL, BUY, SELL],
        quantity_wh=[100, 200, 0, 50],
        limit_price=[12.5, 8.0, 11.0, 9.0],
        area=[1, 1, 2, 2],
        dispatchable=[False, True, False, False],
    )


def test_constants() -> None:
    assert (BUY, SELL) == (1, -1)


def test_from_columns_coerces_dtypes() -> None:
    book = OrderBook.from_columns(
        agent=[1.0, 2.0],
        side=np.array([1, -1], dtype=np.int64),
        quantity_wh=[3.0, 4],
        limit_price=[1, 2],
        area=[0, 7],
        dispatchable=[0, 1],
    )
    assert book.agent.dtype == np.int64
    assert book.side.dtype == np.int8
    assert book.quantity_wh.dtype == np.int64
    assert book.limit_price.dtype == np.float64
    assert book.area.dtype == np.int32
    assert book.dispatchable.dtype == np.bool_
    np.testing.assert_array_equal(book.dispatchable, [False, True])
    np.testing.assert_array_equal(book.quantity_wh, [3, 4])


def test_optional_columns_default() -> None:
    book = OrderBook.from_columns(
        agent=[1, 2], side=[1, -1], quantity_wh=[1, 2], limit_price=[1.0, 2.0]
    )
    np.testing.assert_array_equal(book.area, [0, 0])
    np.testing.assert_array_equal(book.dispatchable, [False, False])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("quantity_wh", [1, -1]),
        ("quantity_wh", [1.5, 2]),
        ("quantity_wh", [1, 2, 3]),
        ("limit_price", [1.0, np.nan]),
        ("limit_price", [np.inf, 1.0]),
        ("limit_price", ["a", "b"]),
        ("side", [1, 0]),
        ("side", [1, 2]),
        ("agent", [1]),
        ("area", [0, 2**40]),
        ("dispatchable", [0, 2]),
    ],
)
def test_from_columns_rejects_bad_column_and_names_it(column: str, value: list) -> None:
    cols = {
        "agent": [1, 2],
        "side": [1, -1],
        "quantity_wh": [1, 2],
        "limit_price": [1.0, 2.0],
        "area": [0, 0],
        "dispatchable": [False, False],
    }
    cols[column] = value
    with pytest.raises(ValueError, match=column):
        OrderBook.from_columns(**cols)


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ValueError, match="quantity_wh"):
        OrderBook(
            agent=[1], side=[1], quantity_wh=[-5], limit_price=[1.0], area=[0], dispatchable=[False]
        )


def test_empty() -> None:
    book = OrderBook.empty()
    assert len(book) == 0 and book.len() == 0
    assert book.quantity_wh.dtype == np.int64 and book.side.dtype == np.int8


def test_columns_are_read_only_copies() -> None:
    q = np.array([5, 6])
    book = OrderBook.from_columns(agent=[1, 2], side=[1, -1], quantity_wh=q, limit_price=[1.0, 2.0])
    q[0] = 99  # the caller's array is not shared
    assert book.quantity_wh[0] == 5
    assert q.flags.writeable
    with pytest.raises(ValueError):
        book.quantity_wh[0] = 1


def test_masks() -> None:
    book = _book()
    np.testing.assert_array_equal(book.buys(), [True, False, True, False])
    np.testing.assert_array_equal(book.sells(), [False, True, False, True])


def test_take_by_mask_and_indices() -> None:
    book = _book()
    sells = book.take(book.sells())
    np.testing.assert_array_equal(sells.agent, [11, 13])
    np.testing.assert_array_equal(sells.dispatchable, [True, False])
    picked = book.take([3, 0])
    np.testing.assert_array_equal(picked.agent, [13, 10])
    np.testing.assert_array_equal(picked.limit_price, [9.0, 12.5])
    assert len(book.take(np.array([], dtype=np.int64))) == 0
    with pytest.raises(ValueError):
        book.take(np.array([True, False]))
    with pytest.raises(IndexError):
        book.take([4])


def test_concat_preserves_order() -> None:
    book = _book()
    joined = concat_books([book.take([2, 3]), book.take([0]), OrderBook.empty()])
    np.testing.assert_array_equal(joined.agent, [12, 13, 10])
    np.testing.assert_array_equal(joined.area, [2, 2, 1])
    assert len(concat_books([])) == 0
    assert len(OrderBook.concat([book, book])) == 8


def test_with_quantities() -> None:
    book = _book()
    smaller = book.with_quantities([1, 2, 3, 4])
    np.testing.assert_array_equal(smaller.quantity_wh, [1, 2, 3, 4])
    np.testing.assert_array_equal(book.quantity_wh, [100, 200, 0, 50])
    np.testing.assert_array_equal(smaller.limit_price, book.limit_price)
    with pytest.raises(ValueError, match="quantity_wh"):
        book.with_quantities([1, 2, 3])
    with pytest.raises(ValueError, match="quantity_wh"):
        book.with_quantities([1, 2, 3, -4])
