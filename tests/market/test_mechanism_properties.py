"""Invariants every registered mechanism keeps, on random books carrying every extra column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market import (
    BUY,
    SELL,
    DoubleAuction,
    EvDemandResponse,
    GridOnly,
    LocalRE,
    MarketContext,
    OrderBook,
    PayAsBid,
    SortedPairing,
    Stackelberg,
    TwoLevel,
    UniformPrice,
    residual_book,
)
from tests.market.helpers import traded_per_order

MECHANISMS = [
    SortedPairing(),
    GridOnly(),
    UniformPrice(k=0.3),
    PayAsBid(),
    DoubleAuction(max_iterations=60),
    Stackelberg(population=10, max_generations=15, patience=5, resolution_cents=0.1),
    TwoLevel(),
    LocalRE(),
    EvDemandResponse(),
]

order = st.fixed_dictionaries(
    {
        "agent": st.integers(0, 20),
        "side": st.sampled_from([BUY, SELL]),
        "quantity_wh": st.one_of(st.integers(0, 3), st.integers(0, 40_000)),
        "limit_price": st.one_of(st.integers(1, 30).map(lambda k: k / 100), st.floats(0.01, 2.0)),
        "area": st.integers(0, 2),
        "soc": st.floats(0.0, 1.0),
        "e_min_wh": st.integers(0, 20_000),
        "plug_in_hour": st.integers(0, 23),
        "plug_out_hour": st.integers(0, 23),
        "energy_need_wh": st.integers(0, 60_000),
        "reputation": st.floats(0.0, 1.0),
        "reliability_threshold": st.floats(0.0, 1.0),
        "credit": st.sampled_from([40.0, 52.0, 100.0]),
        "reliability": st.floats(0.0, 1.0),
        "renewable": st.booleans(),
        "stable_from_hour": st.integers(0, 23),
        "stable_to_hour": st.integers(0, 23),
        "stable_hours": st.floats(0.0, 5000.0),
        "production_scale_kw": st.floats(0.0, 500.0),
        "stability": st.floats(0.0, 1.0),
        "is_ev": st.booleans(),
        "x_km": st.floats(0.0, 10.0),
        "y_km": st.floats(0.0, 10.0),
        "capacity_wh": st.integers(12_000, 36_000),
        "max_range_km": st.floats(50.0, 300.0),
    }
)


@st.composite
def rich_books(draw, max_orders: int = 10) -> OrderBook:
    rows = draw(st.lists(order, max_size=max_orders))
    if not rows:
        return OrderBook.empty()
    cols = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    core = ("agent", "side", "quantity_wh", "limit_price", "area")
    return OrderBook.from_columns(
        **{k: cols[k] for k in core}, extra={k: v for k, v in cols.items() if k not in core}
    )


contexts = st.builds(
    MarketContext,
    step=st.integers(0, 200),
    tariff=st.just(0.3),
    feed_in_tariff=st.just(0.1),
    hour_of_day=st.one_of(st.none(), st.floats(0.0, 23.99)),
)


def _check(book: OrderBook, mechanism, ctx: MarketContext) -> None:
    result = mechanism.clear(book, ctx)
    trades = result.trades
    # Quantities within orders; residuals consistent with the trades.
    traded = traded_per_order(book, trades)
    np.testing.assert_array_equal(traded + result.residual_wh, book.quantity_wh)
    assert np.all(result.residual_wh >= 0)
    # Every trade pairs a buy order with a sell order of the book, within both limits.
    assert np.all(book.side[trades.buyer_order] == BUY)
    assert np.all(book.side[trades.seller_order] == SELL)
    assert np.all(trades.quantity_wh > 0)
    bid = book.limit_price[trades.buyer_order]
    ask = book.limit_price[trades.seller_order]
    assert np.all(trades.price <= bid + 1e-12), (trades.price, bid)
    assert np.all(trades.price >= ask - 1e-12), (trades.price, ask)
    np.testing.assert_array_equal(trades.buyer, book.agent[trades.buyer_order])
    np.testing.assert_array_equal(trades.seller, book.agent[trades.seller_order])
    # Diagnostics are floats; per-order outputs have one value per order.
    assert all(isinstance(v, float) for v in result.diagnostics.values())
    for col in result.order_columns.values():
        assert len(col) == len(book)
    # Deterministic.
    again = mechanism.clear(book, ctx)
    np.testing.assert_array_equal(again.residual_wh, result.residual_wh)
    np.testing.assert_array_equal(again.trades.price, result.trades.price)
    # The residual book carries the extra columns along.
    rest = residual_book(book, result)
    assert set(rest.extra) == set(book.extra)


FAST = [m for m in MECHANISMS if m.name != "double_auction"]


@pytest.mark.parametrize("mechanism", FAST, ids=lambda m: m.name)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=rich_books(), ctx=contexts)
def test_trades_respect_limits_and_quantities(mechanism, book, ctx):
    _check(book, mechanism, ctx)


# The auction runs about ten optimisation rounds per book: fewer, smaller examples.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=rich_books(max_orders=7), ctx=contexts)
def test_double_auction_respects_limits_and_quantities(book, ctx):
    _check(book, DoubleAuction(max_iterations=30), ctx)


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.name)
@pytest.mark.parametrize("side", [None, BUY, SELL])
def test_empty_and_one_sided_books_trade_nothing(mechanism, side):
    ctx = MarketContext(step=3, tariff=0.3, feed_in_tariff=0.1)
    if side is None:
        book = OrderBook.empty()
    else:
        n = 3
        book = OrderBook.from_columns(
            agent=np.arange(n),
            side=np.full(n, side),
            quantity_wh=[1000, 0, 5000],
            limit_price=[0.1, 0.2, 0.3],
        )
    result = mechanism.clear(book, ctx)
    assert len(result.trades) == 0
    np.testing.assert_array_equal(result.residual_wh, book.quantity_wh)
