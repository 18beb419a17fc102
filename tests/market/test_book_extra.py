"""Mechanism-specific per-order columns travel with every derived book."""

from __future__ import annotations

import numpy as np
import pytest

from market import (
    BUY,
    SELL,
    ClearingResult,
    MissingColumnError,
    OrderBook,
    Trades,
    concat_books,
    residual_book,
)


def _book() -> OrderBook:
    return OrderBook.from_columns(
        agent=[10, 11, 12],
        side=[BUY, SELL, BUY],
        quantity_wh=[100, 200, 300],
        limit_price=[0.3, 0.1, 0.2],
        extra={"soc": [0.5, 0.0, 0.25], "credit": [100, 52, 48], "is_ev": [True, False, True]},
    )


def test_extra_columns_are_typed_read_only_copies():
    soc = np.array([0.5, 0.0, 0.25])
    book = OrderBook.from_columns(
        agent=[1, 2, 3], side=[1, -1, 1], quantity_wh=[1, 2, 3], limit_price=[1, 2, 3],
        extra={"soc": soc, "credit": [1, 2, 3], "is_ev": [True, False, True]},
    )  # fmt: skip
    soc[0] = 9.0
    assert book.extra["soc"][0] == 0.5
    assert book.extra["soc"].dtype == np.float64
    assert book.extra["credit"].dtype == np.int64
    assert book.extra["is_ev"].dtype == np.bool_
    with pytest.raises(ValueError):
        book.extra["soc"][0] = 1.0
    with pytest.raises(TypeError):
        book.extra["new"] = np.zeros(3)  # type: ignore[index]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"soc": [0.1, 0.2]}, "'soc' has length 2, expected 3"),
        ({"soc": [0.1, np.nan, 0.2]}, "'soc' must hold finite numbers"),
        ({"soc": ["a", "b", "c"]}, "'soc' must be boolean or numeric"),
        ({"quantity_wh": [1, 2, 3]}, "clashes with a core column"),
        ({"not an id": [1, 2, 3]}, "must be an identifier"),
        ({"soc": [[1], [2], [3]]}, "one-dimensional"),
    ],
)
def test_bad_extra_columns_are_rejected_by_name(extra, message):
    with pytest.raises(ValueError, match=message):
        OrderBook.from_columns(
            agent=[1, 2, 3], side=[1, -1, 1], quantity_wh=[1, 2, 3], limit_price=[1, 2, 3],
            extra=extra,
        )  # fmt: skip


def test_take_with_quantities_and_residual_book_carry_extras():
    book = _book()
    sub = book.take([2, 0])
    np.testing.assert_array_equal(sub.extra["soc"], [0.25, 0.5])
    np.testing.assert_array_equal(sub.extra["credit"], [48, 100])
    q = book.with_quantities([1, 2, 3])
    np.testing.assert_array_equal(q.extra["credit"], [100, 52, 48])
    result = ClearingResult(Trades.empty(), [0, 200, 10])
    rest = residual_book(book, result)
    np.testing.assert_array_equal(rest.quantity_wh, [200, 10])
    np.testing.assert_array_equal(rest.extra["is_ev"], [False, True])


def test_concat_joins_extras_and_ignores_empty_books():
    book = _book()
    joined = concat_books([book, OrderBook.empty(), book.take([1])])
    assert len(joined) == 4
    np.testing.assert_array_equal(joined.extra["credit"], [100, 52, 48, 52])
    assert set(concat_books([OrderBook.empty(), OrderBook.empty()]).extra) == set()


def test_concat_rejects_books_with_different_extras():
    other = OrderBook.from_columns(agent=[1], side=[SELL], quantity_wh=[5], limit_price=[0.1])
    with pytest.raises(ValueError, match="different extra columns"):
        concat_books([_book(), other])


def test_require_names_the_missing_column_and_the_present_ones():
    book = _book()
    cols = book.require("demo", soc="state of charge")
    np.testing.assert_array_equal(cols["soc"], book.extra["soc"])
    with pytest.raises(MissingColumnError) as err:
        book.require("double_auction", soc="ok", e_min_wh="minimum battery energy (Wh)")
    assert err.value.column == "e_min_wh" and err.value.mechanism == "double_auction"
    text = str(err.value)
    assert "double_auction needs the per-order column 'e_min_wh'" in text
    assert "credit, is_ev, soc" in text
    assert isinstance(err.value, ValueError)
    assert OrderBook.empty().require("x", soc="y")["soc"].shape == (0,)


def test_with_extra_and_column_or():
    book = _book().with_extra(reputation=[0.1, 0.9, 0.5])
    assert book.has("reputation") and book.has("soc")
    np.testing.assert_array_equal(book.column_or("reputation", 0.0), [0.1, 0.9, 0.5])
    np.testing.assert_array_equal(book.column_or("lmp", 0.25), [0.25, 0.25, 0.25])


def test_clearing_result_validates_order_and_trade_columns():
    with pytest.raises(ValueError, match="order_columns\\['x'\\] has length 1, expected 2"):
        ClearingResult(Trades.empty(), [1, 2], order_columns={"x": [1.0]})
    result = ClearingResult(Trades.empty(), [1, 2], {"n": 3}, order_columns={"x": [1.0, 2.0]})
    assert result.diagnostics == {"n": 3.0} and isinstance(result.diagnostics["n"], float)
    with pytest.raises(TypeError):
        result.order_columns["y"] = np.zeros(2)  # type: ignore[index]


def test_books_and_results_pickle_with_their_extras():
    import pickle

    book = _book()
    back = pickle.loads(pickle.dumps(book))
    np.testing.assert_array_equal(back.extra["soc"], book.extra["soc"])
    np.testing.assert_array_equal(back.quantity_wh, book.quantity_wh)
    with pytest.raises(ValueError):
        back.extra["soc"][0] = 1.0
    assert pickle.loads(pickle.dumps(OrderBook.empty())).extra == {}
    result = ClearingResult(Trades.empty(), [1, 2, 3], {"n": 1}, order_columns={"x": [1, 2, 3]})
    again = pickle.loads(pickle.dumps(result))
    np.testing.assert_array_equal(again.order_columns["x"], [1, 2, 3])
    assert again.diagnostics == {"n": 1.0}
