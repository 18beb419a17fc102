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
merge is a stable sort of the two already sorted breakpoint lists (a single
linear merge step), so the cost is dominated by the two price sorts,
O(n log n).  Only the orders that can reach the matched prefix are sorted:
:func:`market.crossing.crossing_candidates` drops, from a price histogram,
bids and asks that can never cross (on a book where half the orders trade,
half of each side).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.crossing import crossing_candidates
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


def _sorted_side(book: OrderBook, side: int, rows: np.ndarray) -> _SortedSide:
    """Rank the orders ``rows`` (ascending, all of ``side``) by price priority (ties by row)."""
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


def _traded_counts(buys: _SortedSide, sells: _SortedSide, matched_wh: int) -> tuple[int, int]:
    """Number of buy and of sell orders (by rank) that start below ``matched_wh`` and so trade."""
    # Rank j starts below the volume iff the running total before it is below it.
    nb = int(np.searchsorted(buys.cumulative_wh, matched_wh, side="left")) + 1
    ns = int(np.searchsorted(sells.cumulative_wh, matched_wh, side="left")) + 1
    return min(nb, buys.rows.shape[0]), min(ns, sells.rows.shape[0])


def _walk_segments(
    buys: _SortedSide, sells: _SortedSide, matched_wh: int, nb: int, ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (buyer rank, seller rank, quantity_wh) of the pairs trading ``matched_wh`` Wh.

    ``nb`` and ``ns`` are the numbers of trading orders of each side (see
    :func:`_traded_counts`); their breakpoints (running totals) are clipped
    to ``matched_wh`` (only the last one of a side can exceed it), so both
    lists end exactly there.
    """
    # Merge the breakpoints, tagged in the lowest bit (buyer 0, seller 1): the
    # stable sort of two sorted runs is one merge step.  At equal energy the
    # buyer's breakpoint comes first; the seller's then spans zero Wh and is
    # dropped below.  Energies stay below 2**62, so doubling cannot overflow.
    tagged = np.empty(nb + ns, dtype=np.int64)
    np.left_shift(buys.cumulative_wh[:nb], 1, out=tagged[:nb])
    np.left_shift(sells.cumulative_wh[:ns], 1, out=tagged[nb:])
    tagged[nb:] |= 1
    tagged[nb - 1] = matched_wh << 1
    tagged[-1] = (matched_wh << 1) | 1
    tagged.sort(kind="stable")
    is_seller = tagged & 1
    tagged >>= 1  # now the energy at which each breakpoint ends its segment
    # Each breakpoint ends the segment of the buyer and of the seller active
    # there: the numbers of buyer and of seller breakpoints before it.
    seller_rank = np.empty(nb + ns, dtype=np.int64)
    seller_rank[0] = 0
    np.cumsum(is_seller[:-1], out=seller_rank[1:])
    buyer_rank = np.arange(nb + ns, dtype=np.int64)
    buyer_rank -= seller_rank
    quantity = np.empty(nb + ns, dtype=np.int64)
    quantity[0] = tagged[0]
    np.subtract(tagged[1:], tagged[:-1], out=quantity[1:])
    if quantity.all():
        return buyer_rank, seller_rank, quantity
    keep = quantity > 0
    return buyer_rank[keep], seller_rank[keep], quantity[keep]


@dataclass(frozen=True)
class SortedMatch:
    """The pairs of the sorted-pairing walk, before any price rule is applied.

    Attributes:
        buyer_order: int64 book rows of the buy orders, one per pair, walk order.
        seller_order: int64 book rows of the sell orders, one per pair.
        quantity_wh: int64 energy of each pair, ``> 0``.
        residual_wh: int64 unmatched quantity of every order of the book.
        buyer_rank: int64 rank of each pair's buyer in bid priority.
        seller_rank: int64 rank of each pair's seller in ask priority.
        bid_by_rank: float64 buyers' limits in bid priority (at least up to
            the last traded rank).
        ask_by_rank: float64 sellers' limits in ask priority.
    """

    buyer_order: np.ndarray
    seller_order: np.ndarray
    quantity_wh: np.ndarray
    residual_wh: np.ndarray
    buyer_rank: np.ndarray
    seller_rank: np.ndarray
    bid_by_rank: np.ndarray
    ask_by_rank: np.ndarray

    @property
    def bid(self) -> np.ndarray:
        """float64 buyer limit of each pair (non-increasing along the walk)."""
        return self.bid_by_rank[self.buyer_rank]

    @property
    def ask(self) -> np.ndarray:
        """float64 seller limit of each pair (non-decreasing along the walk)."""
        return self.ask_by_rank[self.seller_rank]

    @property
    def marginal_bid(self) -> float:
        """Buyer limit of the last pair (the lowest matched bid); 0 without pairs."""
        return float(self.bid_by_rank[self.buyer_rank[-1]]) if self.buyer_rank.size else 0.0

    @property
    def marginal_ask(self) -> float:
        """Seller limit of the last pair (the highest matched ask); 0 without pairs."""
        return float(self.ask_by_rank[self.seller_rank[-1]]) if self.seller_rank.size else 0.0

    def trades(self, book: OrderBook, price: np.ndarray) -> Trades:
        """Return the pairs as trades of ``book`` at ``price`` (float64, one per pair)."""
        if self.quantity_wh.shape[0] == 0:
            return Trades.empty()
        return Trades._trusted(
            buyer=book.agent[self.buyer_order],
            seller=book.agent[self.seller_order],
            buyer_order=self.buyer_order,
            seller_order=self.seller_order,
            buyer_area=book.area[self.buyer_order],
            seller_area=book.area[self.seller_order],
            quantity_wh=self.quantity_wh,
            price=price,
        )


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
    buy_rows, sell_rows = crossing_candidates(book)
    buys, sells = _sorted_side(book, BUY, buy_rows), _sorted_side(book, SELL, sell_rows)
    residual = book.quantity_wh.copy()
    matched_wh = 0
    if buys.rows.shape[0] and sells.rows.shape[0]:
        matched_wh = _matched_volume(buys, sells)
    if matched_wh == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SortedMatch(
            empty, empty, empty, residual, empty, empty, buys.limit_price, sells.limit_price
        )
    nb, ns = _traded_counts(buys, sells, matched_wh)
    buyer_rank, seller_rank, quantity = _walk_segments(buys, sells, matched_wh, nb, ns)
    for side, n in ((buys, nb), (sells, ns)):
        # Every trading order but the last of its side trades its full quantity.
        residual[side.rows[:n]] = 0
        residual[side.rows[n - 1]] = max(int(side.cumulative_wh[n - 1]) - matched_wh, 0)
    return SortedMatch(
        buyer_order=buys.rows[buyer_rank],
        seller_order=sells.rows[seller_rank],
        quantity_wh=quantity,
        residual_wh=residual,
        buyer_rank=buyer_rank,
        seller_rank=seller_rank,
        bid_by_rank=buys.limit_price,
        ask_by_rank=sells.limit_price,
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
    trades = match.trades(book, pair_prices(match.bid, match.ask, price_rule))
    return ClearingResult(trades, match.residual_wh, clearing_diagnostics(book, trades))
