"""Grid-only baseline: no peer-to-peer market at all.

Every order is left to the grid operator, i.e. the status quo that seed 004
(CE-SDT), §3.3 compares community trading against: demand is bought at the
retail tariff and surplus sold at the feed-in tariff (see :mod:`market.grid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from market.book import OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.result import ClearingResult, Trades


@dataclass(frozen=True)
class GridOnly:
    """Mechanism that matches nothing: every order's residual is its full quantity."""

    name: ClassVar[str] = "grid_only"
    book_columns: ClassVar[tuple[str, ...]] = ()

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Return no trades and ``residual_wh == book.quantity_wh``."""
        del ctx
        return clear_grid_only(book)


def clear_grid_only(book: OrderBook) -> ClearingResult:
    """Pure form of :meth:`GridOnly.clear`: no trades, every quantity left as residual."""
    trades = Trades.empty()
    return ClearingResult(trades, book.quantity_wh.copy(), clearing_diagnostics(book, trades))
