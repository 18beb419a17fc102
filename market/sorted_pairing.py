"""Sorted pairing: the community double auction of the CE-SDT trading contract.

Seed 004 (CE-SDT), §3.3: the smart contract arranges the selling prices from
low to high and the buying prices from high to low and pairs them in that
order.  Walking both lists, the current buyer and seller trade the smaller of
their remaining quantities as long as the buyer's limit is at least the
seller's; whoever is exhausted is replaced by the next order on its side.

The walk itself is :func:`market.sorted_walk.match_sorted`; this module
prices its pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from market.book import OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.pricing import check_price_rule, pair_prices
from market.result import ClearingResult
from market.sorted_walk import SortedMatch, match_sorted

__all__ = ["SortedMatch", "SortedPairing", "clear_sorted_pairing", "match_sorted"]


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
    trades = match.trades(pair_prices(match.bid, match.ask, price_rule))
    # The residual column is fresh (match_sorted copies the book's quantities).
    return ClearingResult._trusted(trades, match.residual_wh, clearing_diagnostics(book, trades))
