"""Sorted pairing on hand-computed books (seed 004, CE-SDT, §3.3)."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest

from market import (
    BUY,
    MECHANISMS,
    SELL,
    MarketContext,
    OrderBook,
    SortedPairing,
    clear_sorted_pairing,
)

from .helpers import assert_trades_equal

CTX = MarketContext(step=0, tariff=25.0, feed_in_tariff=10.0)


def _book(rows: list[tuple[int, int, int, float]], areas: list[int] | None = None) -> OrderBook:
    agent, side, qty, price = zip(*rows, strict=True) if rows else ([], [], [], [])
    return OrderBook.from_columns(
        agent=list(agent),
        side=list(side),
        quantity_wh=list(qty),
        limit_price=list(price),
        area=areas,
    )


def _pairs(result) -> list[tuple[int, int, int, float]]:
    t = result.trades
    return list(
        zip(
            t.buyer_order.tolist(),
            t.seller_order.tolist(),
            t.quantity_wh.tolist(),
            t.price.tolist(),
            strict=True,
        )
    )


# Three sellers (asks 5, 7, 9) and three buyers (bids 12, 8, 6), rows interleaved.
#   walk: B12 x S5 100 Wh; B12 x S7 50 Wh; B8 x S7 150 Wh; B8 x S9 -> 8 < 9, stop.
THREE_BY_THREE = [
    (104, BUY, 250, 8.0),  # row 0
    (101, SELL, 100, 5.0),  # row 1
    (103, BUY, 150, 12.0),  # row 2
    (102, SELL, 200, 7.0),  # row 3
    (105, BUY, 100, 6.0),  # row 4
    (106, SELL, 300, 9.0),  # row 5
]


def test_three_by_three_midpoint() -> None:
    book = _book(THREE_BY_THREE, areas=[0, 1, 2, 3, 4, 5])
    result = SortedPairing().clear(book, CTX)
    assert _pairs(result) == [(2, 1, 100, 8.5), (2, 3, 50, 9.5), (0, 3, 150, 7.5)]
    np.testing.assert_array_equal(result.trades.buyer, [103, 103, 104])
    np.testing.assert_array_equal(result.trades.seller, [101, 102, 102])
    np.testing.assert_array_equal(result.trades.buyer_area, [2, 2, 0])
    np.testing.assert_array_equal(result.trades.seller_area, [1, 3, 3])
    np.testing.assert_array_equal(result.residual_wh, [100, 0, 0, 0, 100, 300])
    assert result.diagnostics == {
        "matched_wh": 300.0,
        "n_trades": 3.0,
        "mean_price": pytest.approx((100 * 8.5 + 50 * 9.5 + 150 * 7.5) / 300),
        "n_buy_orders": 3.0,
        "n_sell_orders": 3.0,
    }
    np.testing.assert_allclose(result.trades.value_coins(), [0.85, 0.475, 1.125])


def test_three_by_three_pay_as_bid() -> None:
    result = clear_sorted_pairing(_book(THREE_BY_THREE), "pay_as_bid")
    assert _pairs(result) == [(2, 1, 100, 12.0), (2, 3, 50, 12.0), (0, 3, 150, 8.0)]
    assert result.diagnostics["mean_price"] == pytest.approx((150 * 12.0 + 150 * 8.0) / 300)


def test_partial_fill_spans_several_sellers() -> None:
    book = _book(
        [
            (1, BUY, 1000, 20.0),
            (2, SELL, 200, 5.0),
            (3, SELL, 300, 6.0),
            (4, SELL, 400, 7.0),
            (5, SELL, 500, 25.0),  # too expensive: never reached
        ]
    )
    result = clear_sorted_pairing(book)
    assert _pairs(result) == [(0, 1, 200, 12.5), (0, 2, 300, 13.0), (0, 3, 400, 13.5)]
    np.testing.assert_array_equal(result.residual_wh, [100, 0, 0, 0, 500])


def test_partial_fill_spans_several_buyers() -> None:
    book = _book(
        [
            (1, SELL, 900, 4.0),
            (2, BUY, 200, 9.0),
            (3, BUY, 300, 10.0),
            (4, BUY, 1000, 5.0),
        ]
    )
    result = clear_sorted_pairing(book, "pay_as_bid")
    assert _pairs(result) == [(2, 0, 300, 10.0), (1, 0, 200, 9.0), (3, 0, 400, 5.0)]
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 0, 600])


def test_equal_prices_trade_and_equal_quantities_advance_both() -> None:
    book = _book([(1, BUY, 100, 7.0), (2, SELL, 100, 7.0), (3, BUY, 50, 7.0), (4, SELL, 50, 7.0)])
    result = clear_sorted_pairing(book)
    assert _pairs(result) == [(0, 1, 100, 7.0), (2, 3, 50, 7.0)]
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 0, 0])


def test_seller_ties_broken_by_row_index() -> None:
    rows = [(1, SELL, 100, 5.0), (2, BUY, 150, 9.0), (3, SELL, 100, 5.0)]
    result = clear_sorted_pairing(_book(rows))
    assert _pairs(result) == [(1, 0, 100, 7.0), (1, 2, 50, 7.0)]
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 50])
    # Swapping the rows swaps who is served first.
    swapped = clear_sorted_pairing(_book([rows[2], rows[1], rows[0]]))
    assert _pairs(swapped) == [(1, 0, 100, 7.0), (1, 2, 50, 7.0)]
    np.testing.assert_array_equal(swapped.trades.seller, [3, 1])


def test_buyer_ties_broken_by_row_index() -> None:
    rows = [(1, BUY, 80, 9.0), (2, BUY, 80, 9.0), (3, SELL, 100, 1.0), (4, BUY, 80, 9.0)]
    result = clear_sorted_pairing(_book(rows))
    assert _pairs(result) == [(0, 2, 80, 5.0), (1, 2, 20, 5.0)]
    np.testing.assert_array_equal(result.residual_wh, [0, 60, 0, 80])


def test_signed_zero_prices_tie() -> None:
    rows = [(1, SELL, 10, 0.0), (2, SELL, 10, -0.0), (3, BUY, 10, 0.0)]
    result = clear_sorted_pairing(_book(rows))
    assert _pairs(result)[0][:3] == (2, 0, 10)


def test_negative_prices() -> None:
    rows = [(1, SELL, 10, -3.0), (2, BUY, 10, -1.0), (3, BUY, 10, -4.0)]
    result = clear_sorted_pairing(_book(rows))
    assert _pairs(result) == [(1, 0, 10, -2.0)]


def test_no_crossing_prices() -> None:
    book = _book([(1, BUY, 100, 6.0), (2, SELL, 100, 6.5), (3, BUY, 10, 1.0)])
    result = clear_sorted_pairing(book)
    assert len(result.trades) == 0
    np.testing.assert_array_equal(result.residual_wh, [100, 100, 10])
    assert result.diagnostics["mean_price"] == 0.0
    assert result.diagnostics["matched_wh"] == 0.0


@pytest.mark.parametrize("side", [BUY, SELL])
def test_one_sided_book(side: int) -> None:
    book = _book([(1, side, 100, 6.0), (2, side, 0, 9.0), (3, side, 7, 1.0)])
    result = clear_sorted_pairing(book)
    assert len(result.trades) == 0
    np.testing.assert_array_equal(result.residual_wh, [100, 0, 7])
    assert result.diagnostics["n_trades"] == 0.0


def test_empty_book() -> None:
    result = SortedPairing("pay_as_bid").clear(OrderBook.empty(), CTX)
    assert len(result.trades) == 0
    assert result.residual_wh.shape == (0,) and result.residual_wh.dtype == np.int64
    assert result.diagnostics == {
        "matched_wh": 0.0,
        "n_trades": 0.0,
        "mean_price": 0.0,
        "n_buy_orders": 0.0,
        "n_sell_orders": 0.0,
    }


def test_zero_quantity_orders_are_skipped() -> None:
    book = _book(
        [
            (1, SELL, 0, 1.0),  # best ask but empty
            (2, BUY, 0, 50.0),  # best bid but empty
            (3, SELL, 40, 4.0),
            (4, BUY, 30, 6.0),
            (5, BUY, 0, 5.0),
            (6, BUY, 30, 4.0),
        ]
    )
    result = clear_sorted_pairing(book)
    assert _pairs(result) == [(3, 2, 30, 5.0), (5, 2, 10, 4.0)]
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 0, 0, 0, 20])
    assert result.diagnostics["n_buy_orders"] == 4.0
    assert result.diagnostics["n_sell_orders"] == 2.0


def test_clearing_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    n = 500
    book = OrderBook.from_columns(
        agent=rng.integers(0, 50, n),
        side=rng.choice([BUY, SELL], n),
        quantity_wh=rng.integers(0, 100, n),
        limit_price=rng.integers(0, 5, n).astype(float),
    )
    first = clear_sorted_pairing(book)
    again = clear_sorted_pairing(book)
    rebuilt = clear_sorted_pairing(OrderBook.from_columns(**book.columns()))
    for other in (again, rebuilt):
        assert_trades_equal(first.trades, other.trades)
        np.testing.assert_array_equal(first.residual_wh, other.residual_wh)
        assert first.diagnostics == other.diagnostics


def test_clearing_does_not_modify_book() -> None:
    book = _book(THREE_BY_THREE)
    before = {k: v.copy() for k, v in book.columns().items()}
    clear_sorted_pairing(book)
    for name, col in book.columns().items():
        np.testing.assert_array_equal(col, before[name])


def test_price_rule_validation() -> None:
    with pytest.raises(ValueError) as err:
        SortedPairing("x")
    assert str(err.value) == "price_rule must be one of 'midpoint', 'pay_as_bid' (got 'x')"
    with pytest.raises(ValueError, match="price_rule"):
        clear_sorted_pairing(OrderBook.empty(), "uniform")


def test_registry_and_name() -> None:
    assert SortedPairing.name == "sorted_pairing"
    assert MECHANISMS["sorted_pairing"] is SortedPairing
    assert SortedPairing().price_rule == "midpoint"


def test_side_total_overflow_is_rejected() -> None:
    book = _book([(1, BUY, 2**61, 5.0), (2, BUY, 2**61, 5.0), (3, SELL, 1, 1.0)])
    with pytest.raises(ValueError, match="too large"):
        clear_sorted_pairing(book)


@pytest.mark.parametrize("short_side", [BUY, SELL])
def test_many_ties_served_in_row_order(short_side: int) -> None:
    # 2,000 one-Wh orders in random row order, two price levels per side; the
    # short side (300 Wh) is all matched, and on the long side the best price
    # level is served first and, within it, the earliest rows.
    rng = np.random.default_rng(3)
    n = 2000
    side = np.full(n, -short_side)
    side[rng.choice(n, 300, replace=False)] = short_side
    level = rng.integers(0, 2, n)
    price = np.where(side == SELL, 5.0 + level, 9.0 - level)  # level 0 is the better price
    book = OrderBook.from_columns(
        agent=np.arange(n), side=side, quantity_wh=np.ones(n, dtype=np.int64), limit_price=price
    )
    long_rows = np.flatnonzero(side == -short_side)
    expected_long = np.concatenate(
        [long_rows[level[long_rows] == 0], long_rows[level[long_rows] == 1]]
    )[:300]
    short_rows = np.flatnonzero(side == short_side)
    expected_short = np.concatenate(
        [short_rows[level[short_rows] == 0], short_rows[level[short_rows] == 1]]
    )
    result = clear_sorted_pairing(book)
    buyers, sellers = result.trades.buyer_order, result.trades.seller_order
    long_served, short_served = (sellers, buyers) if short_side == BUY else (buyers, sellers)
    np.testing.assert_array_equal(long_served, expected_long)
    np.testing.assert_array_equal(short_served, expected_short)


def test_large_random_book_matches_reference() -> None:
    from .reference import reference_clear

    rng = np.random.default_rng(2024)
    n = 3000
    book = OrderBook.from_columns(
        agent=rng.integers(0, 300, n),
        side=rng.choice([BUY, SELL], n),
        quantity_wh=rng.integers(0, 50, n),
        limit_price=rng.integers(0, 8, n) / 4,
    )
    for rule in ("midpoint", "pay_as_bid"):
        result = clear_sorted_pairing(book, rule)
        ref_trades, ref_residual = reference_clear(book, rule)
        assert len(ref_trades) > 100
        assert result.trades.buyer_order.tolist() == [t.buyer_order for t in ref_trades]
        assert result.trades.seller_order.tolist() == [t.seller_order for t in ref_trades]
        assert result.trades.quantity_wh.tolist() == [t.quantity_wh for t in ref_trades]
        assert result.trades.price.tolist() == [t.price for t in ref_trades]
        assert result.residual_wh.tolist() == ref_residual
