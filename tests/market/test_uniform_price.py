"""k-double auction and pay-as-bid baselines: exact examples and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market import (
    BUY,
    SELL,
    MarketContext,
    OrderBook,
    PayAsBid,
    UniformPrice,
    clear_sorted_pairing,
    clear_uniform_price,
    make_mechanism,
)
from tests.market.helpers import assert_no_crossing, traded_per_order
from tests.market.strategies import books

CTX = MarketContext(step=0, tariff=0.3, feed_in_tariff=0.1)


def _book() -> OrderBook:
    # Bids 0.30 (2 kWh), 0.25 (1 kWh), 0.12 (1 kWh); asks 0.10 (1 kWh), 0.20 (2 kWh), 0.28.
    return OrderBook.from_columns(
        agent=[1, 2, 3, 4, 5, 6],
        side=[BUY, BUY, BUY, SELL, SELL, SELL],
        quantity_wh=[2000, 1000, 1000, 1000, 2000, 1000],
        limit_price=[0.30, 0.25, 0.12, 0.10, 0.20, 0.28],
    )


def test_k_double_auction_hand_example():
    # Walk: (b0,s3) 1000, (b0,s4) 1000, (b1,s4) 1000; then bid 0.12 < ask 0.28 stops.
    # Marginal bid 0.25, marginal ask 0.20: price = 0.20 + 0.5 * 0.05 = 0.225.
    result = clear_uniform_price(_book(), k=0.5)
    np.testing.assert_array_equal(result.trades.quantity_wh, [1000, 1000, 1000])
    np.testing.assert_array_equal(result.trades.buyer_order, [0, 0, 1])
    np.testing.assert_array_equal(result.trades.seller_order, [3, 4, 4])
    np.testing.assert_allclose(result.trades.price, 0.225)
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 1000, 0, 0, 1000])
    assert result.diagnostics["clearing_price"] == pytest.approx(0.225)
    assert result.diagnostics["marginal_bid"] == 0.25
    assert result.diagnostics["marginal_ask"] == 0.20


@pytest.mark.parametrize(("k", "price"), [(0.0, 0.20), (1.0, 0.25), (0.2, 0.21)])
def test_k_moves_the_price_between_marginal_ask_and_bid(k, price):
    result = UniformPrice(k=k).clear(_book(), CTX)
    np.testing.assert_allclose(result.trades.price, price)


def test_pay_as_bid_prices_each_pair_at_the_bid():
    result = PayAsBid().clear(_book(), CTX)
    np.testing.assert_allclose(result.trades.price, [0.30, 0.30, 0.25])
    assert make_mechanism("pay_as_bid").name == "pay_as_bid"


@pytest.mark.parametrize("k", [-0.1, 1.5, float("nan")])
def test_k_outside_unit_interval_is_rejected(k):
    with pytest.raises(ValueError, match="^k must lie in \\[0, 1\\]"):
        UniformPrice(k=k)


@settings(max_examples=200, deadline=None)
@given(book=books(), k=st.floats(0.0, 1.0))
def test_uniform_price_properties(book, k):
    result = clear_uniform_price(book, k)
    reference = clear_sorted_pairing(book)
    trades = result.trades
    # Same matching as sorted pairing, only the price differs.
    np.testing.assert_array_equal(result.residual_wh, reference.residual_wh)
    np.testing.assert_array_equal(trades.quantity_wh, reference.trades.quantity_wh)
    np.testing.assert_array_equal(
        traded_per_order(book, trades) + result.residual_wh, book.quantity_wh
    )
    assert_no_crossing(book, result.residual_wh)
    if len(trades):
        assert np.unique(trades.price).size == 1
        assert np.all(trades.price <= book.limit_price[trades.buyer_order])
        assert np.all(trades.price >= book.limit_price[trades.seller_order])
        # One price: what buyers pay is exactly what sellers receive.
        assert (
            result.diagnostics["marginal_ask"]
            <= trades.price[0]
            <= result.diagnostics["marginal_bid"]
        )
    else:
        assert result.diagnostics["clearing_price"] == 0.0


@settings(max_examples=100, deadline=None)
@given(book=books())
def test_pay_as_bid_matches_sorted_pairing_at_bids(book):
    a = PayAsBid().clear(book, CTX)
    b = clear_sorted_pairing(book, "pay_as_bid")
    np.testing.assert_array_equal(a.trades.price, b.trades.price)
    np.testing.assert_array_equal(a.residual_wh, b.residual_wh)
