"""Property tests of sorted pairing on random books."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from market import BUY, SELL, clear_sorted_pairing, residual_book

from .helpers import assert_no_crossing, traded_per_order
from .reference import reference_clear
from .strategies import books

price_rules = st.sampled_from(["midpoint", "pay_as_bid"])


@given(books(), price_rules)
def test_trades_respect_limits_and_sides(book, rule) -> None:
    t = clear_sorted_pairing(book, rule).trades
    bid = book.limit_price[t.buyer_order]
    ask = book.limit_price[t.seller_order]
    assert np.all(t.price <= bid)
    assert np.all(t.price >= ask)
    if rule == "pay_as_bid":
        np.testing.assert_array_equal(t.price, bid)
    assert np.all(book.side[t.buyer_order] == BUY)
    assert np.all(book.side[t.seller_order] == SELL)
    np.testing.assert_array_equal(t.buyer, book.agent[t.buyer_order])
    np.testing.assert_array_equal(t.seller, book.agent[t.seller_order])
    np.testing.assert_array_equal(t.buyer_area, book.area[t.buyer_order])
    np.testing.assert_array_equal(t.seller_area, book.area[t.seller_order])
    assert np.all(t.quantity_wh > 0)
    # One row per matched pair.
    pairs = set(zip(t.buyer_order.tolist(), t.seller_order.tolist(), strict=True))
    assert len(pairs) == len(t)


@given(books(), price_rules)
def test_quantities_conserved_per_order(book, rule) -> None:
    result = clear_sorted_pairing(book, rule)
    assert result.residual_wh.dtype == np.int64
    assert np.all(result.residual_wh >= 0)
    np.testing.assert_array_equal(
        traded_per_order(book, result.trades) + result.residual_wh, book.quantity_wh
    )


@given(books(), price_rules)
def test_matching_is_maximal(book, rule) -> None:
    result = clear_sorted_pairing(book, rule)
    assert_no_crossing(book, result.residual_wh)
    # Clearing the residual book again finds nothing more.
    again = clear_sorted_pairing(residual_book(book, result), rule)
    assert len(again.trades) == 0


@given(books(), price_rules)
def test_volume_and_budget_balance(book, rule) -> None:
    result = clear_sorted_pairing(book, rule)
    traded = traded_per_order(book, result.trades)
    bought = traded[book.side == BUY].sum()
    sold = traded[book.side == SELL].sum()
    assert bought == sold == result.diagnostics["matched_wh"]
    value = result.trades.value_coins()
    paid = np.bincount(result.trades.buyer_order, weights=value, minlength=len(book))
    received = np.bincount(result.trades.seller_order, weights=value, minlength=len(book))
    assert paid[book.side == SELL].sum() == 0 and received[book.side == BUY].sum() == 0
    np.testing.assert_allclose(paid.sum(), received.sum(), rtol=1e-12, atol=1e-9)


@given(books(), price_rules)
def test_diagnostics(book, rule) -> None:
    result = clear_sorted_pairing(book, rule)
    d = result.diagnostics
    t = result.trades
    assert set(d) == {"matched_wh", "n_trades", "mean_price", "n_buy_orders", "n_sell_orders"}
    assert all(np.isfinite(v) for v in d.values())
    assert d["n_trades"] == len(t)
    assert d["n_buy_orders"] == np.count_nonzero(book.side == BUY)
    assert d["n_sell_orders"] == np.count_nonzero(book.side == SELL)
    if len(t):
        expected = float(np.sum(t.quantity_wh * t.price) / t.quantity_wh.sum())
        np.testing.assert_allclose(d["mean_price"], expected, rtol=1e-9, atol=1e-9)
    else:
        assert d["mean_price"] == 0.0


@settings(max_examples=300)
@given(books(max_orders=60), price_rules)
def test_equivalent_to_reference_two_pointer_loop(book, rule) -> None:
    result = clear_sorted_pairing(book, rule)
    ref_trades, ref_residual = reference_clear(book, rule)
    t = result.trades
    assert t.buyer_order.tolist() == [r.buyer_order for r in ref_trades]
    assert t.seller_order.tolist() == [r.seller_order for r in ref_trades]
    assert t.quantity_wh.tolist() == [r.quantity_wh for r in ref_trades]
    np.testing.assert_allclose(t.price, [r.price for r in ref_trades], rtol=1e-12, atol=1e-300)
    assert result.residual_wh.tolist() == ref_residual


@given(books(), price_rules)
def test_pairing_does_not_depend_on_price_rule(book, rule) -> None:
    a = clear_sorted_pairing(book, "midpoint")
    b = clear_sorted_pairing(book, "pay_as_bid")
    np.testing.assert_array_equal(a.trades.buyer_order, b.trades.buyer_order)
    np.testing.assert_array_equal(a.trades.seller_order, b.trades.seller_order)
    np.testing.assert_array_equal(a.trades.quantity_wh, b.trades.quantity_wh)
    np.testing.assert_array_equal(a.residual_wh, b.residual_wh)


@given(books(), st.randoms(use_true_random=False))
def test_matched_volume_invariant_under_row_permutation(book, rnd) -> None:
    perm = list(range(len(book)))
    rnd.shuffle(perm)
    a = clear_sorted_pairing(book)
    b = clear_sorted_pairing(book.take(np.array(perm, dtype=np.int64)))
    assert a.diagnostics["matched_wh"] == b.diagnostics["matched_wh"]


@given(books())
def test_trades_follow_walk_order(book) -> None:
    t = clear_sorted_pairing(book).trades
    bid = book.limit_price[t.buyer_order]
    ask = book.limit_price[t.seller_order]
    assert np.all(np.diff(bid) <= 0)
    assert np.all(np.diff(ask) >= 0)
