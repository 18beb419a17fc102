"""The sorted-pairing walk of seed 004 (CE-SDT), §3.3, vectorised.

The contract ranks asks from low to high and bids from high to low and walks
both lists: the current buyer and seller trade the smaller of their remaining
quantities as long as the bid covers the ask; whoever is exhausted is replaced
by the next order on its side.  :mod:`market.sorted_pairing` and
:mod:`market.uniform_price` price the pairs of this walk.

Lay the sorted buy quantities end to end on an energy axis (running totals
``cb``) and likewise the sorted sell quantities (``cs``).  Every breakpoint of
the merged sequence ends exactly one (buyer, seller) pair of the walk, and the
segment between consecutive breakpoints is the quantity that pair trades.
Bids fall and asks rise along the axis, so the trading condition
``bid >= ask`` holds on a prefix of the segments: the first failing segment
ends the matching.  Its start is found first by a binary search over the
start energies of each side, so only the matched prefix is merged.  The merge
is a stable sort of the two already sorted breakpoint lists (one linear merge
step), so the cost is dominated by the two price sorts, O(n log n).  Only the
orders that can reach the matched prefix are sorted at all:
:func:`market.crossing.crossing_candidates` drops, from a price histogram,
bids and asks that can never cross.

Memory access.  Columns of the book are read at the candidate rows in
ascending row order (sequential), then permuted into priority order within
the much smaller candidate arrays; per-pair columns repeat the per-order ones
(``np.repeat``), since an order's pairs are consecutive in the walk.  On a
million-order book this avoids most cache misses of gathering straight from
the book, and most fresh memory, whose page faults cost more than the
arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.crossing import crossing_candidates
from market.priority import ask_priority, bid_priority
from market.result import Trades

_MAX_SIDE_TOTAL_WH = float(2**62)


@dataclass(frozen=True)
class _SortedSide:
    """The candidate orders of one side in priority order."""

    ascending_rows: np.ndarray  # int64 candidate rows, ascending
    order: np.ndarray  # int64 priority permutation of ascending_rows
    rows: np.ndarray  # int64 rows of the book, best price first
    quantity_wh: np.ndarray  # int64, > 0
    cumulative_wh: np.ndarray  # int64 running total, strictly increasing
    limit_price: np.ndarray  # float64

    def first_ranks(self, column: np.ndarray, n: int) -> np.ndarray:
        """Values of a book column for the ``n`` best-ranked orders."""
        if 4 * n < self.order.shape[0]:
            return column[self.rows[:n]]
        return column[self.ascending_rows][self.order[:n]]


def _sorted_side(book: OrderBook, side: int, rows: np.ndarray) -> _SortedSide:
    """Rank the orders ``rows`` (ascending, all of ``side``) by price priority (ties by row)."""
    prices = book.limit_price[rows]
    order = bid_priority(prices) if side == BUY else ask_priority(prices)
    quantity = book.quantity_wh[rows][order]
    if quantity.sum(dtype=np.float64) >= _MAX_SIDE_TOTAL_WH:
        name = "buy" if side == BUY else "sell"
        raise ValueError(f"total {name} quantity_wh is too large to clear exactly (>= 2**62 Wh)")
    return _SortedSide(rows, order, rows[order], quantity, np.cumsum(quantity), prices[order])


def _start_wh(side: _SortedSide, rank: int) -> int:
    """Energy at which the order of ``rank`` starts on the axis."""
    return int(side.cumulative_wh[rank] - side.quantity_wh[rank])


def _first_failing_start(
    side: _SortedSide, limit_total: int, predicate_at: Callable[[int], bool]
) -> int:
    """Smallest start energy of an order of ``side`` where the crossing fails.

    ``predicate_at(k)`` tells whether the pair active just after the start of
    rank ``k`` crosses; it is true on a prefix of the ranks starting below
    ``limit_total``.  Returns ``limit_total`` when it never fails there.
    """
    count = _count_below(side, limit_total)
    lo, hi = 0, count
    while lo < hi:  # binary search for the first failing rank
        mid = (lo + hi) // 2
        if predicate_at(mid):
            lo = mid + 1
        else:
            hi = mid
    return _start_wh(side, lo) if lo < count else limit_total


def _count_below(side: _SortedSide, energy_wh: int) -> int:
    """Number of ranks of ``side`` that start below ``energy_wh`` (``> 0``)."""
    # Rank k starts below it iff the running total before rank k does.
    n = int(np.searchsorted(side.cumulative_wh, energy_wh, side="left")) + 1
    return min(n, side.cumulative_wh.shape[0])


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

    def buyer_crosses(j: int) -> bool:
        i = int(np.searchsorted(cs, _start_wh(buys, j), side="right"))
        return bool(bid[j] >= ask[i])

    def seller_crosses(i: int) -> bool:
        j = int(np.searchsorted(cb, _start_wh(sells, i), side="right"))
        return bool(bid[j] >= ask[i])

    return min(
        _first_failing_start(buys, total, buyer_crosses),
        _first_failing_start(sells, total, seller_crosses),
    )


def _walk_segments(
    buys: _SortedSide, sells: _SortedSide, matched_wh: int, nb: int, ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the pairs trading ``matched_wh`` Wh, in walk order.

    ``nb`` and ``ns`` are the numbers of trading orders of each side, those
    starting below ``matched_wh``; their breakpoints (running totals) are
    clipped to ``matched_wh`` (only the last one of a side can exceed it), so
    both lists end exactly there.

    Returns:
        The number of pairs of each of the ``nb`` trading buyers (by rank),
        the same for the ``ns`` sellers, and the int64 quantity of each pair.
        A buyer's (seller's) pairs are consecutive in walk order.
    """
    # Merge the breakpoints, tagged in the lowest bit (buyer 0, seller 1): the
    # stable sort of two sorted runs is one merge step.  At equal energy the
    # buyer's breakpoint comes first; the seller's then spans zero Wh and is
    # dropped below.  Energies stay below 2**62, so doubling cannot overflow.
    # (Arrays are reused in place: on a large book fresh pages cost more than
    # the arithmetic.)
    tagged = np.empty(nb + ns, dtype=np.int64)
    np.left_shift(buys.cumulative_wh[:nb], 1, out=tagged[:nb])
    np.left_shift(sells.cumulative_wh[:ns], 1, out=tagged[nb:])
    tagged[nb:] |= 1
    tagged[nb - 1] = matched_wh << 1
    tagged[-1] = (matched_wh << 1) | 1
    tagged.sort(kind="stable")
    quantity = np.empty(nb + ns, dtype=np.int64)
    is_seller = np.bitwise_and(tagged, 1, out=quantity).astype(bool)
    tagged >>= 1  # now the energy at which each breakpoint ends its segment
    quantity[0] = tagged[0]
    np.subtract(tagged[1:], tagged[:-1], out=quantity[1:])
    # Each breakpoint ends one pair: the last of its buyer's (seller's) pairs.
    if quantity.all():
        buyer_last = np.flatnonzero(~is_seller)
        seller_last = np.flatnonzero(is_seller)
    else:
        # A dropped seller breakpoint shares the pair of the buyer breakpoint
        # just before it, at the same energy.
        keep = quantity > 0
        pair = np.cumsum(keep) - 1
        buyer_last, seller_last = pair[~is_seller], pair[is_seller]
        quantity = quantity[keep]
    return _pairs_per_order(buyer_last), _pairs_per_order(seller_last), quantity


def _pairs_per_order(last_pair: np.ndarray) -> np.ndarray:
    """Number of pairs of each order from the (increasing) index of its last pair."""
    pairs = np.empty_like(last_pair)
    pairs[0] = last_pair[0] + 1
    np.subtract(last_pair[1:], last_pair[:-1], out=pairs[1:])
    return pairs


@dataclass(frozen=True)
class SortedMatch:
    """The pairs of the sorted-pairing walk, before any price rule is applied.

    Attributes:
        buyer_order: int64 book rows of the buy orders, one per pair, walk order.
        seller_order: int64 book rows of the sell orders, one per pair.
        buyer: int64 agent of each pair's buy order.
        seller: int64 agent of each pair's sell order.
        buyer_area: int32 area of each pair's buy order.
        seller_area: int32 area of each pair's sell order.
        quantity_wh: int64 energy of each pair, ``> 0``.
        residual_wh: int64 unmatched quantity of every order of the book.
        buyer_pairs: int64 number of pairs of each trading buyer, in bid
            priority (a buyer's pairs are consecutive).
        seller_pairs: int64 number of pairs of each trading seller, in ask priority.
        bid_by_rank: float64 limits of the candidate buyers in bid priority.
        ask_by_rank: float64 limits of the candidate sellers in ask priority.
    """

    buyer_order: np.ndarray
    seller_order: np.ndarray
    buyer: np.ndarray
    seller: np.ndarray
    buyer_area: np.ndarray
    seller_area: np.ndarray
    quantity_wh: np.ndarray
    residual_wh: np.ndarray
    buyer_pairs: np.ndarray
    seller_pairs: np.ndarray
    bid_by_rank: np.ndarray
    ask_by_rank: np.ndarray

    @property
    def bid(self) -> np.ndarray:
        """float64 buyer limit of each pair (non-increasing along the walk)."""
        return np.repeat(self.bid_by_rank[: self.buyer_pairs.shape[0]], self.buyer_pairs)

    @property
    def ask(self) -> np.ndarray:
        """float64 seller limit of each pair (non-decreasing along the walk)."""
        return np.repeat(self.ask_by_rank[: self.seller_pairs.shape[0]], self.seller_pairs)

    @property
    def marginal_bid(self) -> float:
        """Buyer limit of the last pair (the lowest matched bid); 0 without pairs."""
        n = self.buyer_pairs.shape[0]
        return float(self.bid_by_rank[n - 1]) if n else 0.0

    @property
    def marginal_ask(self) -> float:
        """Seller limit of the last pair (the highest matched ask); 0 without pairs."""
        n = self.seller_pairs.shape[0]
        return float(self.ask_by_rank[n - 1]) if n else 0.0

    def trades(self, price: np.ndarray) -> Trades:
        """Return the pairs as trades at ``price`` (float64 coins/kWh, one per pair)."""
        if self.quantity_wh.shape[0] == 0:
            return Trades.empty()
        return Trades._trusted(
            buyer=self.buyer,
            seller=self.seller,
            buyer_order=self.buyer_order,
            seller_order=self.seller_order,
            buyer_area=self.buyer_area,
            seller_area=self.seller_area,
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
            *(empty,) * 4,
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            empty,
            residual,
            empty,
            empty,
            buys.limit_price,
            sells.limit_price,
        )
    nb, ns = _count_below(buys, matched_wh), _count_below(sells, matched_wh)
    buyer_pairs, seller_pairs, quantity = _walk_segments(buys, sells, matched_wh, nb, ns)
    per_order = []  # (rows, agent, area) of the trading orders of each side, by rank
    for side, n in ((buys, nb), (sells, ns)):
        # Every trading order but the last of its side trades its full quantity.
        residual[side.rows[:n]] = 0
        residual[side.rows[n - 1]] = int(side.cumulative_wh[n - 1]) - matched_wh
        per_order.append(
            (side.rows[:n].copy(), side.first_ranks(book.agent, n), side.first_ranks(book.area, n))
        )
    bid_by_rank, ask_by_rank = buys.limit_price, sells.limit_price
    # Release the sorted sides before the per-pair columns are allocated, so
    # that those reuse their memory instead of touching fresh pages.
    del buys, sells, buy_rows, sell_rows
    (buyer_rows, buyer_agent, buyer_area), (seller_rows, seller_agent, seller_area) = per_order
    del per_order
    return SortedMatch(
        buyer_order=np.repeat(buyer_rows, buyer_pairs),
        seller_order=np.repeat(seller_rows, seller_pairs),
        buyer=np.repeat(buyer_agent, buyer_pairs),
        seller=np.repeat(seller_agent, seller_pairs),
        buyer_area=np.repeat(buyer_area, buyer_pairs),
        seller_area=np.repeat(seller_area, seller_pairs),
        quantity_wh=quantity,
        residual_wh=residual,
        buyer_pairs=buyer_pairs,
        seller_pairs=seller_pairs,
        bid_by_rank=bid_by_rank,
        ask_by_rank=ask_by_rank,
    )
