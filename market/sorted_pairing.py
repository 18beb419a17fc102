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
segment ends the matching.  The merge uses two ``searchsorted`` calls instead
of a sort, so the cost is dominated by the two price sorts, O(n log n).
"""

from __future__ import annotations

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


def _walk_segments(
    buys: _SortedSide, sells: _SortedSide
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (buyer rank, seller rank, quantity_wh) of the matched pairs in walk order."""
    cb, cs = buys.cumulative_wh, sells.cumulative_wh
    nb, ns = cb.shape[0], cs.shape[0]
    # Seller active where buyer j's quantity ends, and buyer active where
    # seller i's ends (a tie is assigned to the buyer breakpoint; the seller
    # breakpoint at the same energy then spans zero Wh and is dropped below).
    seller_at_buy_end = np.searchsorted(cs, cb, side="left")
    buyer_at_sell_end = np.searchsorted(cb, cs, side="right")
    # Position of each breakpoint in the merged, non-decreasing sequence.
    pos_b = np.arange(nb, dtype=np.int64) + seller_at_buy_end
    pos_s = np.arange(ns, dtype=np.int64) + buyer_at_sell_end
    # Only breakpoints up to the smaller side total lie within both lists.
    total = min(cb[-1], cs[-1])
    n_within = int(np.searchsorted(cb, total, side="right")) + int(
        np.searchsorted(cs, total, side="right")
    )
    end = np.empty(nb + ns, dtype=np.int64)
    buyer_rank = np.empty(nb + ns, dtype=np.int64)
    seller_rank = np.empty(nb + ns, dtype=np.int64)
    end[pos_b], end[pos_s] = cb, cs
    buyer_rank[pos_b], buyer_rank[pos_s] = np.arange(nb), buyer_at_sell_end
    seller_rank[pos_b], seller_rank[pos_s] = seller_at_buy_end, np.arange(ns)
    end, buyer_rank, seller_rank = end[:n_within], buyer_rank[:n_within], seller_rank[:n_within]
    quantity = np.diff(end, prepend=0)
    keep = quantity > 0
    buyer_rank, seller_rank, quantity = buyer_rank[keep], seller_rank[keep], quantity[keep]
    # Monotone trading condition: cut at the first pair whose bid is below its ask.
    crosses = buys.limit_price[buyer_rank] >= sells.limit_price[seller_rank]
    n_trades = crosses.shape[0] if crosses.all() else int(np.argmin(crosses))
    return buyer_rank[:n_trades], seller_rank[:n_trades], quantity[:n_trades]


def _traded_per_rank(side: _SortedSide, matched_wh: int) -> np.ndarray:
    """Quantity each order of ``side`` trades when the first ``matched_wh`` Wh are matched."""
    upto = np.minimum(side.cumulative_wh, matched_wh)
    return upto - np.minimum(side.cumulative_wh - side.quantity_wh, matched_wh)


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
    buys, sells = _sorted_side(book, BUY), _sorted_side(book, SELL)
    residual = book.quantity_wh.copy()
    if buys.rows.shape[0] == 0 or sells.rows.shape[0] == 0:
        trades = Trades.empty()
    else:
        buyer_rank, seller_rank, quantity = _walk_segments(buys, sells)
        matched_wh = int(quantity.sum())
        residual[buys.rows] -= _traded_per_rank(buys, matched_wh)
        residual[sells.rows] -= _traded_per_rank(sells, matched_wh)
        buyer_order, seller_order = buys.rows[buyer_rank], sells.rows[seller_rank]
        trades = Trades._trusted(
            buyer=book.agent[buyer_order],
            seller=book.agent[seller_order],
            buyer_order=buyer_order,
            seller_order=seller_order,
            buyer_area=book.area[buyer_order],
            seller_area=book.area[seller_order],
            quantity_wh=quantity,
            price=pair_prices(
                buys.limit_price[buyer_rank], sells.limit_price[seller_rank], price_rule
            ),
        )
    return ClearingResult(trades, residual, clearing_diagnostics(book, trades))
