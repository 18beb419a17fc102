"""The vectorised sorted walk against a plain-Python walk, on large random books.

The books are big enough (up to 30,000 orders) to take the fast paths of
``market.sorted_walk``: histogram pruning in ``market.crossing`` (from 8,192
orders) and the bucketed stable sort in ``market.priority`` (from 4,096 orders
per side).  Every trade, price, residual and diagnostic must be identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from market import BUY, SELL, OrderBook, clear_sorted_pairing, clear_uniform_price
from market.crossing import crossing_candidates
from market.priority import price_sort_key, stable_key_order


def _slow_walk(book: OrderBook) -> tuple[list[tuple[int, int, int]], list[int]]:
    """(buyer row, seller row, Wh) per pair in walk order, and the residual per order."""
    side = book.side.tolist()
    price = book.limit_price.tolist()
    left = book.quantity_wh.tolist()
    rows = range(len(book))
    # Python compares -0.0 == 0.0, so equal prices tie and fall back to the row.
    asks = sorted((i for i in rows if side[i] == SELL and left[i] > 0), key=lambda i: (price[i], i))
    bids = sorted((i for i in rows if side[i] == BUY and left[i] > 0), key=lambda i: (-price[i], i))
    pairs: list[tuple[int, int, int]] = []
    b = s = 0
    while b < len(bids) and s < len(asks) and price[bids[b]] >= price[asks[s]]:
        buyer, seller = bids[b], asks[s]
        wh = min(left[buyer], left[seller])
        pairs.append((buyer, seller, wh))
        left[buyer] -= wh
        left[seller] -= wh
        b += left[buyer] == 0
        s += left[seller] == 0
    return pairs, left


def _random_book(seed: int, n: int, kind: str) -> OrderBook:
    rng = np.random.default_rng(seed)
    buy_share = {"one_sided_buy": 1.0, "one_sided_sell": 0.0}.get(kind, rng.uniform(0.2, 0.8))
    side = np.where(rng.random(n) < buy_share, BUY, SELL)
    quantity = rng.integers(1, 5_001, n)
    price = rng.uniform(0.10, 0.20, n)
    if kind == "ties":  # a coarse grid: long runs of equal prices on both sides
        price = np.round(price, 3)
    elif kind == "few_prices":
        price = rng.choice([0.10, 0.15, 0.15, 0.20, 0.0, -0.0], n)
    elif kind == "zero_quantities":
        quantity[rng.random(n) < 0.3] = 0
        price = np.round(price, 2)
    elif kind == "outliers":  # a wide key range: buckets are coarse in the middle
        price[rng.integers(0, n, 5)] = 1e9
        price[rng.integers(0, n, 5)] = -1e9
    elif kind == "signed":
        price = rng.normal(0.0, 1.0, n)
    elif kind == "equal_quantities":  # breakpoints of both sides coincide often
        quantity = rng.choice([1_000, 2_000], n)
    elif kind == "huge_quantities":  # side totals above 2**53 Wh: not pruned
        quantity = rng.integers(1, 2**46, n)
    elif kind == "disjoint":  # every bid below every ask: nothing trades
        price = np.where(side == BUY, price - 0.2, price)
    elif kind == "all_cross":  # every bid above every ask: one side runs out
        price = np.where(side == BUY, price + 0.2, price)
    return OrderBook.from_columns(
        agent=rng.integers(0, n // 3 + 1, n),
        side=side,
        quantity_wh=quantity,
        limit_price=price,
        area=rng.integers(0, 4, n),
    )


KINDS = [
    "uniform",
    "ties",
    "few_prices",
    "zero_quantities",
    "outliers",
    "signed",
    "equal_quantities",
    "huge_quantities",
    "disjoint",
    "all_cross",
    "one_sided_buy",
    "one_sided_sell",
]
CASES = [(kind, seed, n) for seed, kind in enumerate(KINDS) for n in (9_000, 30_000)]


def _check_pairs(book: OrderBook, result, pairs, residual) -> None:
    t = result.trades
    expected = np.array(pairs, dtype=np.int64).reshape(-1, 3)
    np.testing.assert_array_equal(t.buyer_order, expected[:, 0])
    np.testing.assert_array_equal(t.seller_order, expected[:, 1])
    np.testing.assert_array_equal(t.quantity_wh, expected[:, 2])
    np.testing.assert_array_equal(t.buyer, book.agent[expected[:, 0]])
    np.testing.assert_array_equal(t.seller, book.agent[expected[:, 1]])
    np.testing.assert_array_equal(t.buyer_area, book.area[expected[:, 0]])
    np.testing.assert_array_equal(t.seller_area, book.area[expected[:, 1]])
    np.testing.assert_array_equal(result.residual_wh, residual)
    assert result.residual_wh.dtype == np.int64 and not result.residual_wh.flags.writeable
    assert result.diagnostics["matched_wh"] == float(expected[:, 2].sum())
    assert result.diagnostics["n_trades"] == float(len(pairs))


@pytest.mark.parametrize(("kind", "seed", "n"), CASES)
def test_sorted_pairing_equals_the_plain_walk(kind: str, seed: int, n: int) -> None:
    book = _random_book(seed, n, kind)
    pairs, residual = _slow_walk(book)
    bid = book.limit_price[[p[0] for p in pairs]]
    ask = book.limit_price[[p[1] for p in pairs]]
    for rule, price in (
        ("pay_as_bid", bid),
        ("midpoint", np.clip(0.5 * bid + 0.5 * ask, ask, bid)),
    ):
        result = clear_sorted_pairing(book, rule)
        _check_pairs(book, result, pairs, residual)
        np.testing.assert_array_equal(result.trades.price, price)


@pytest.mark.parametrize(("kind", "seed", "n"), CASES)
def test_uniform_price_equals_the_plain_walk(kind: str, seed: int, n: int) -> None:
    book = _random_book(seed, n, kind)
    pairs, residual = _slow_walk(book)
    result = clear_uniform_price(book, k=0.3)
    _check_pairs(book, result, pairs, residual)
    if pairs:
        bid_m = float(book.limit_price[pairs[-1][0]])
        ask_m = float(book.limit_price[pairs[-1][1]])
        price = min(max(ask_m + 0.3 * (bid_m - ask_m), ask_m), bid_m)
    else:
        bid_m = ask_m = price = 0.0
    np.testing.assert_array_equal(result.trades.price, np.full(len(pairs), price))
    assert result.diagnostics["clearing_price"] == price
    assert result.diagnostics["marginal_bid"] == bid_m
    assert result.diagnostics["marginal_ask"] == ask_m


@pytest.mark.parametrize(("kind", "seed", "n"), CASES)
def test_candidates_are_priority_prefixes_holding_every_trade(kind: str, seed: int, n: int) -> None:
    book = _random_book(seed, n, kind)
    buy_rows, sell_rows = crossing_candidates(book)
    pairs, _ = _slow_walk(book)
    assert {p[0] for p in pairs} <= set(buy_rows.tolist())
    assert {p[1] for p in pairs} <= set(sell_rows.tolist())
    positive = book.quantity_wh > 0
    for rows, side, sign in ((buy_rows, BUY, -1.0), (sell_rows, SELL, 1.0)):
        assert np.all(np.diff(rows) > 0)
        others = np.flatnonzero((book.side == side) & positive)
        others = np.setdiff1d(others, rows)
        if rows.size and others.size:  # every dropped order ranks after every kept one
            assert (sign * book.limit_price[others]).min() > (sign * book.limit_price[rows]).max()


def test_pruning_drops_orders_that_cannot_cross() -> None:
    # Half the orders trade on the benchmark-like book: the rest must be dropped.
    book = _random_book(99, 20_000, "uniform")
    buy_rows, sell_rows = crossing_candidates(book)
    assert buy_rows.size < 0.75 * np.count_nonzero(book.side == BUY)
    assert sell_rows.size < 0.75 * np.count_nonzero(book.side == SELL)


@pytest.mark.parametrize("seed", range(6))
def test_stable_key_order_is_the_stable_argsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4_096, 40_000))
    keys = [
        rng.integers(0, 2**64, n, dtype=np.uint64),
        rng.integers(0, 7, n).astype(np.uint64),  # keys differing only in low bits
        np.full(n, np.uint64(5)),
        price_sort_key(np.round(rng.normal(0.15, 0.05, n), 3)),
        price_sort_key(rng.choice([0.0, -0.0, 1e-300, -1e300], n)),
        np.uint64(2**40) * rng.integers(0, 50, n).astype(np.uint64)
        + rng.integers(0, 2**16, n).astype(np.uint64),
    ]
    for key in keys:
        np.testing.assert_array_equal(stable_key_order(key), np.argsort(key, kind="stable"))
