"""Hypothesis strategies for random order books."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from market import BUY, SELL, MarketContext, OrderBook

# A coarse price grid makes ties frequent; arbitrary floats exercise the rest.
prices = st.one_of(
    st.integers(-4, 24).map(lambda k: k / 2),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    st.sampled_from([0.0, -0.0]),
)
quantities = st.one_of(st.integers(0, 5), st.integers(0, 2_000))

order = st.tuples(
    st.integers(0, 30),  # agent
    st.sampled_from([BUY, SELL]),
    quantities,
    prices,
    st.integers(0, 3),  # area
    st.booleans(),  # dispatchable
)


@st.composite
def books(draw: st.DrawFn, max_orders: int = 40) -> OrderBook:
    """Draw a random book (possibly empty or one-sided)."""
    rows = draw(st.lists(order, max_size=max_orders))
    if not rows:
        return OrderBook.empty()
    cols = list(zip(*rows, strict=True))
    return OrderBook.from_columns(
        agent=np.array(cols[0]),
        side=np.array(cols[1]),
        quantity_wh=np.array(cols[2]),
        limit_price=np.array(cols[3], dtype=float),
        area=np.array(cols[4]),
        dispatchable=np.array(cols[5]),
    )


@st.composite
def contexts(draw: st.DrawFn) -> MarketContext:
    """Draw a valid market context."""
    tariff = draw(st.floats(0, 100, allow_nan=False))
    feed_in = draw(st.floats(0, 1, allow_nan=False)) * tariff
    return MarketContext(
        step=draw(st.integers(0, 10_000)), tariff=tariff, feed_in_tariff=min(feed_in, tariff)
    )
