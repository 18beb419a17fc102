"""Sorted pairing: the community double auction of the CE-SDT trading contract.

Seed 004 (CE-SDT), §3.3: the smart contract arranges the selling prices from
low to high and the buying prices from high to low and pairs them in that
order.  Walking both lists, the current buyer and seller trade the smaller of
their remaining quantities as long as the buyer's limit is at least the
seller's; whoever is exhausted is replaced by the next order on its side.

Vectorisation.  Lay the sorted buy quantities end to end on an energy axis
(cumulative sums ``cb``) and likewise the sorted sell quantities (``cs``).
Every breakpoint of the merged sequence ends exactly one (buyer, seller) pair
of the walk, and the segment between consecutive breakpoints is the quantity
that pair trades.  Bids fall and asks rise along the axis, so the trading
condition ``bid >= ask`` holds on a prefix of the segments: the first failing
segment ends the matching.  Its start is found first by a binary search over
the start energies of each side, so only the matched prefix is merged.  The
merge uses two ``searchsorted`` calls instead of a sort, so the cost is
dominated by the two price sorts, O(n log n).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.pricing import check_price_rule, pair_prices
from market.priority import ask_priority, bid_priority
from market.result import ClearingResult, Trades

_MAX_SIDE_TOTAL_WH = float(2**62)


@dataclass(frozen=True)
class SortedPairing:
    """Mechanism pairing lowest asks with highest bids (seed 004, CE-SDT, §3.3).

    Attributes:
        price_rule: ``"midpoint"`` (``(bid + ask) / 2``) or ``"pay_as_bid"``.
    """

    name: ClassVar[str] = "sorted_pairing"
    book_columns: ClassVar[tuple[str, ...]] = ()
    price_rule: str = "midpoint"

    def __post_init__(self) -> None:
        check_price_rule(self.price_rule)

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Clear ``book`` among peers; grid prices in ``ctx`` do not affect the pairing."""
        del ctx  # the contract pairs on submitted prices only
        return clear_sorted_pairing(book, self.price_rule)


@dataclass(frozen=True)
class _SortedSide:
    """The positive-quantity orders of one side in priority order."""

    rows: np.ndarray  # int64 rows of the book, best price first
    quantity_wh: np.ndarray  # int64, > 0
    cumulative_wh: np.ndarray  # int64 running total, strictly increasing
    limit_price: np.ndarray  # float64


def _sorted_side(book: OrderBook, side: int) -> _SortedSide:
    """Rank the positive-quantity orders of ``side`` by price priority (ties by row)."""
    rows = np.flatnonzero((book.side == side) & (book.quantity_wh > 0))
    prices = book.limit_price[rows]
    order = bid_priority(prices) if side == BUY else ask_priority(prices)
    rows = rows[order]
    quantity = book.quantity_wh[rows]
    if quantity.sum(dtype=np.float64) >= _MAX_SIDE_TOTAL_WH:
        name = "buy" if side == BUY else "sell"
        raise ValueError(f"total {name} quantity_wh is too large to clear exactly (>= 2**62 Wh)")
    return _SortedSide(rows, quantity, np.cumsum(quantity), prices[order])


def _first_failing_start(
    starts: np.ndarray, limit_total: int, predicate_at: Callable[[int], bool]
) -> int:
    """Smallest start energy in ``starts`` (ascending) where the crossing fails.

    ``predicate_at(k)`` tells whether the pair active just after ``starts[k]``
    crosses; it is true on a prefix of the positions with ``starts < total``.
    Returns ``limit_total`` when it never fails there.
    """
    hi = int(np.searchsorted(starts, limit_total, side="left"))  # starts < total
    lo = 0
    while lo < hi:  # binary search for the first failing position
        mid = (lo + hi) // 2
        if predicate_at(mid):
            lo = mid + 1
        else:
            hi = mid
    return int(starts[lo]) if lo < starts.shape[0] and starts[lo] < limit_total else limit_total


def _matched_volume(buys: _SortedSide, sells: _SortedSide) -> int:
    """Energy matched by the walk: up to the start of the first non-crossing pair.

    Along the energy axis the active bid falls and the active ask rises, so
    the crossing condition holds on a prefix.  The first failing segment
    starts where a buyer's or a seller's quantity starts; a binary search
    over each side's start energies finds it in O(log^2 n).
    """
    cb, cs = buys.cumulative_wh, sells.cumulative_wh
    bid, ask = buys.limit_price, sells.limit_price
    total = int(min(cb[-1], cs[-1]))
    b_start = cb - buys.quantity_wh
    s_start = cs - sells.quantity_wh

    def buyer_crosses(j: int) -> bool:
        i = int(np.searchsorted(cs, b_start[j], side="right"))
        return bool(bid[j] >= ask[i])

    def seller_crosses(i: int) -> bool:
        j = int(np.searchsorted(cb, s_start[i], side="right"))
        return bool(bid[j] >= ask[i])

    return min(
        _first_failing_start(b_start, total, buyer_crosses),
        _first_failing_start(s_start, total, seller_crosses),
    )


def _walk_segments(
    buys: _SortedSide, sells: _SortedSide, matched_wh: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (buyer rank, seller rank, quantity_wh) of the pairs trading ``matched_wh`` Wh."""
    # Only orders starting below the matched volume take part; their
    # breakpoints are clipped to it, so both lists end exactly there.
    nb = int(np.searchsorted(buys.cumulative_wh - buys.quantity_wh, matched_wh, side="left"))
    ns = int(np.searchsorted(sells.cumulative_wh - sells.quantity_wh, matched_wh, side="left"))
    cb = np.minimum(buys.cumulative_wh[:nb], matched_wh)
    cs = np.minimum(sells.cumulative_wh[:ns], matched_wh)
    # Seller active where buyer j's quantity ends, and buyer active where
    # seller i's ends (a tie is assigned to the buyer breakpoint; the seller
    # breakpoint at the same energy then spans zero Wh and is dropped below).
    seller_at_buy_end = np.searchsorted(cs, cb, side="left")
    buyer_at_sell_end = np.searchsorted(cb, cs, side="right")
    # Position of each breakpoint in the merged, non-decreasing sequence.
    pos_b = np.arange(nb, dtype=np.int64) + seller_at_buy_end
    pos_s = np.arange(ns, dtype=np.int64) + buyer_at_sell_end
    end = np.empty(nb + ns, dtype=np.int64)
    buyer_rank = np.empty(nb + ns, dtype=np.int64)
    seller_rank = np.empty(nb + ns, dtype=np.int64)
    end[pos_b], end[pos_s] = cb, cs
    buyer_rank[pos_b], buyer_rank[pos_s] = np.arange(nb), buyer_at_sell_end
    seller_rank[pos_b], seller_rank[pos_s] = seller_at_buy_end, np.arange(ns)
    quantity = np.diff(end, prepend=0)
    keep = quantity > 0
    return buyer_rank[keep], seller_rank[keep], quantity[keep]


def _traded_per_rank(side: _SortedSide, matched_wh: int) -> np.ndarray:
    """Quantity each order of ``side`` trades when the first ``matched_wh`` Wh are matched."""
    upto = np.minimum(side.cumulative_wh, matched_wh)
    return upto - np.minimum(side.cumulative_wh - side.quantity_wh, matched_wh)


@dataclass(frozen=True)
class SortedMatch:
    """The pairs of the sorted-pairing walk, before any price rule is applied.

    Attributes:
        buyer_order: int64 book rows of the buy orders, one per pair, walk order.
        seller_order: int64 book rows of the sell orders, one per pair.
        quantity_wh: int64 energy of each pair, ``> 0``.
        bid: float64 buyer limit of each pair (non-increasing along the walk).
        ask: float64 seller limit of each pair (non-decreasing along the walk).
        residual_wh: int64 unmatched quantity of every order of the book.
    """

    buyer_order: np.ndarray
    seller_order: np.ndarray
    quantity_wh: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    residual_wh: np.ndarray


def match_sorted(book: OrderBook) -> SortedMatch:
    """Run the sorted-pairing walk of seed 004 (CE-SDT), §3.3 on ``book``.

    Sellers are ranked by limit price ascending, buyers by limit price
    descending, ties by row index ascending.  Walking both rankings, the
    current pair trades ``min(remaining buy, remaining sell)`` Wh while the
    buyer's limit is ``>=`` the seller's; the first pair that does not cross
    ends the matching.  Orders with zero quantity never trade.

    Raises:
        ValueError: For a side total ``>= 2**62`` Wh.
    """
    buys, sells = _sorted_side(book, BUY), _sorted_side(book, SELL)
    residual = book.quantity_wh.copy()
    empty = np.zeros(0, dtype=np.int64)
    if buys.rows.shape[0] == 0 or sells.rows.shape[0] == 0:
        return SortedMatch(empty, empty, empty, empty.astype(float), empty.astype(float), residual)
    matched_wh = _matched_volume(buys, sells)
    if matched_wh == 0:
        return SortedMatch(empty, empty, empty, empty.astype(float), empty.astype(float), residual)
    buyer_rank, seller_rank, quantity = _walk_segments(buys, sells, matched_wh)
    residual[buys.rows] -= _traded_per_rank(buys, matched_wh)
    residual[sells.rows] -= _traded_per_rank(sells, matched_wh)
    return SortedMatch(
        buyer_order=buys.rows[buyer_rank],
        seller_order=sells.rows[seller_rank],
        quantity_wh=quantity,
        bid=buys.limit_price[buyer_rank],
        ask=sells.limit_price[seller_rank],
        residual_wh=residual,
    )


def clear_sorted_pairing(book: OrderBook, price_rule: str = "midpoint") -> ClearingResult:
    """Clear ``book`` by sorted pairing (seed 004, CE-SDT, §3.3).

    Sellers are ranked by limit price ascending, buyers by limit price
    descending, ties by row index ascending.  Walking both rankings, the
    current pair trades ``min(remaining buy, remaining sell)`` Wh while the
    buyer's limit is ``>=`` the seller's; the first pair that does not cross
    ends the matching.  Orders with zero quantity never trade.

    Args:
        book: Orders to clear.
        price_rule: ``"midpoint"`` or ``"pay_as_bid"`` (see :mod:`market.pricing`).

    Returns:
        Trades in walk order (one row per matched pair), the residual of every
        order, and diagnostics ``matched_wh``, ``n_trades``, ``mean_price``
        (volume-weighted, 0 without trades), ``n_buy_orders``, ``n_sell_orders``.

    Raises:
        ValueError: For an unknown ``price_rule`` or a side total ``>= 2**62`` Wh.
    """
    check_price_rule(price_rule)
    match = match_sorted(book)
    if match.quantity_wh.shape[0] == 0:
        trades = Trades.empty()
    else:
        trades = Trades._trusted(
            buyer=book.agent[match.buyer_order],
            seller=book.agent[match.seller_order],
            buyer_order=match.buyer_order,
            seller_order=match.seller_order,
            buyer_area=book.area[match.buyer_order],
            seller_area=book.area[match.seller_order],
            quantity_wh=match.quantity_wh,
            price=pair_prices(match.bid, match.ask, price_rule),
        )
    return ClearingResult(trades, match.residual_wh, clearing_diagnostics(book, trades))
