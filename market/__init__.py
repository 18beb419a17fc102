"""Market clearing for gridledger: pure functions over columnar numpy order books.

An :class:`OrderBook` holds one step's orders (whole Wh, coins/kWh); a
:class:`Mechanism` clears it into peer-to-peer :class:`Trades` plus per-order
residuals (:class:`ClearingResult`); :func:`settle_with_grid` settles the
residuals with the grid operator at the retail and feed-in tariffs of the
:class:`MarketContext`.  The default mechanism, :class:`SortedPairing`,
follows seed 004 (CE-SDT, community P2P trading by smart contract), §3.3.

Nothing here keeps state, draws random numbers or depends on the agent,
chain or experiment layers.
"""

from market.book import BUY, SELL, OrderBook
from market.book import concat as concat_books
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.grid import settle_with_grid
from market.grid_only import GridOnly, clear_grid_only
from market.mechanism import MECHANISMS, Mechanism, make_mechanism
from market.pricing import PRICE_RULES, pair_prices
from market.priority import ask_priority, bid_priority
from market.result import (
    GRID_AREA,
    GRID_ORDER,
    ClearingResult,
    Trades,
    concat_trades,
    remap_orders,
    residual_book,
    residual_order_ids,
    traded_wh,
)
from market.sorted_pairing import SortedPairing, clear_sorted_pairing

__all__ = [
    "BUY",
    "GRID_AREA",
    "GRID_ORDER",
    "MECHANISMS",
    "PRICE_RULES",
    "SELL",
    "ClearingResult",
    "GridOnly",
    "MarketContext",
    "Mechanism",
    "OrderBook",
    "SortedPairing",
    "Trades",
    "ask_priority",
    "bid_priority",
    "clear_grid_only",
    "clear_sorted_pairing",
    "clearing_diagnostics",
    "concat_books",
    "concat_trades",
    "make_mechanism",
    "pair_prices",
    "remap_orders",
    "residual_book",
    "residual_order_ids",
    "settle_with_grid",
    "traded_wh",
]
