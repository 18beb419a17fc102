"""Which orders can take part in the sorted-pairing walk, found without sorting.

The walk of seed 004 (CE-SDT), §3.3 pairs the highest bids with the lowest
asks while the bid covers the ask.  On a large book most of the time goes into
sorting both sides, yet only the orders of the matched prefix need an order.
This module finds a superset of them from a price histogram, so that only
those orders are sorted.

Lay the buy quantities on an energy axis from the highest bid down and the sell
quantities from the lowest ask up.  A bid at price ``b`` starts at least at the
demand ``D_>(b)`` of strictly higher bids; the ask active there is above ``b``
once that energy reaches the supply ``S(b)`` of asks at or below ``b``.  So a
bid with ``D_>(b) >= S(b)`` never crosses and never trades; likewise an ask at
``a`` with ``S_<(a) >= D(a)`` (supply strictly below ``a``, demand at or above
``a``).  Bucketing the prices by a map that is monotone in the price bounds
both sums by per-bucket totals, so whole buckets are dropped at once.  Each
condition holds on a run of buckets from the far end of the price range: the
kept bids are exactly those at or above some price and the kept asks those at
or below some price, i.e. a prefix of each side's priority order.  Walking the
two prefixes therefore produces the same pairs as walking the full sides.
"""

from __future__ import annotations

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.priority import price_sort_key

_HIST_BITS = 14
_MIN_ORDERS = 8192  # below this the histogram costs more than it saves
_CHUNK = 1 << 16  # orders per pass of the histogram
_EXACT_FLOAT_WH = float(2**53)  # float64 sums of whole Wh are exact below this


def crossing_candidates(book: OrderBook) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows (ascending) of the buy and sell orders that may trade.

    Only orders with a positive quantity are returned.  Every order of the
    matched prefix of the sorted-pairing walk is among them, and each side's
    rows form a prefix of that side's price priority (see the module
    docstring).  Small books, books with a single price and books whose side
    totals reach ``2**53`` Wh (where float64 bucket sums stop being exact) are
    not pruned.

    Args:
        book: Orders to clear.

    Returns:
        int64 rows of the candidate buy orders and of the candidate sell orders.
    """
    if len(book) >= _MIN_ORDERS:
        pruned = _pruned_candidates(book)
        if pruned is not None:
            return pruned
    positive = book.quantity_wh > 0
    return (
        np.flatnonzero((book.side == BUY) & positive),
        np.flatnonzero((book.side == SELL) & positive),
    )


def _pruned_candidates(book: OrderBook) -> tuple[np.ndarray, np.ndarray] | None:
    """Candidate rows of both sides from a price histogram, or ``None`` if not pruned.

    Returns ``None`` for a book with one price or a side total of ``2**53``
    Wh or more.
    """
    prices, quantity = book.limit_price, book.quantity_wh
    low, high = price_sort_key(np.array([prices.min(), prices.max()]))
    span_bits = int(high - low).bit_length()
    if span_bits == 0:
        return None
    shift = np.uint64(max(span_bits - _HIST_BITS, 0))
    n_buckets = 1 << _HIST_BITS
    # Bucket of every order (monotone in the price), sells shifted past the
    # buys, and one weighted histogram of both.  Chunks keep the temporaries
    # in cache: on a large book fresh pages cost more than the arithmetic.
    slot = np.empty(len(book), dtype=np.uint16)
    is_sell = (book.side == SELL).view(np.uint8)
    histogram = np.zeros(2 * n_buckets)
    for start in range(0, len(book), _CHUNK):
        chunk = slice(start, start + _CHUNK)
        key = price_sort_key(prices[chunk])
        key -= low
        key >>= shift  # < 2**_HIST_BITS
        np.copyto(slot[chunk], key, casting="unsafe")
        slot[chunk] += np.left_shift(is_sell[chunk], _HIST_BITS, dtype=np.uint16)
        histogram += np.bincount(slot[chunk], weights=quantity[chunk], minlength=2 * n_buckets)
    demand, supply = histogram[:n_buckets], histogram[n_buckets:]
    supply_at_or_below = np.cumsum(supply)
    demand_at_or_above = np.cumsum(demand[::-1])[::-1]
    if supply_at_or_below[-1] >= _EXACT_FLOAT_WH or demand_at_or_above[0] >= _EXACT_FLOAT_WH:
        return None
    demand_above = np.append(demand_at_or_above[1:], 0.0)
    supply_below = np.insert(supply_at_or_below[:-1], 0, 0.0)
    may_cross = np.concatenate(
        (
            demand_above < supply_at_or_below,  # bids: true on a top run of buckets
            supply_below < demand_at_or_above,  # asks: true on a bottom run of buckets
        )
    )
    candidate = np.empty(len(book), dtype=bool)
    for start in range(0, len(book), _CHUNK):
        chunk = slice(start, start + _CHUNK)
        candidate[chunk] = may_cross[slot[chunk]]
    candidate &= quantity > 0
    is_buy = book.side == BUY
    # Two passes over masks are much cheaper than splitting the rows by side.
    return np.flatnonzero(candidate & is_buy), np.flatnonzero(candidate & ~is_buy)
