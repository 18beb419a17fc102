"""Market clearing for gridledger: pure functions over columnar numpy order books.

An :class:`OrderBook` holds one step's orders (whole Wh, coins/kWh, plus
mechanism-specific ``extra`` columns); a :class:`Mechanism` clears it into
peer-to-peer :class:`Trades` plus per-order residuals (:class:`ClearingResult`);
:func:`settle_with_grid` settles the residuals with the grid operator at the
retail and feed-in tariffs of the :class:`MarketContext`.  Mechanisms
(:data:`MECHANISMS`): ``sorted_pairing`` (seed 004, CE-SDT, the default),
``grid_only``, ``uniform_price`` and ``pay_as_bid`` (baselines),
``double_auction`` and ``stackelberg`` (seed 001, ch. 4 and ch. 3),
``two_level`` (seed 002), ``local_re`` (seed 003) and ``ev_dr`` (seed 000).
``docs/markets.md`` lists the columns each one needs.

Nothing here keeps state between calls or depends on the agent, chain or
experiment layers; the two mechanisms that need randomness draw it from
:mod:`market.counter_rng`, a pure function of an explicit seed.
"""

from market.book import BUY, SELL, MissingColumnError, OrderBook
from market.book import concat as concat_books
from market.context import MarketContext, hour_of_step
from market.diagnostics import clearing_diagnostics
from market.double_auction import DoubleAuction, clear_double_auction
from market.ev_dr import EvDemandResponse, clear_ev_dr
from market.grid import settle_with_grid
from market.grid_only import GridOnly, clear_grid_only
from market.local_re import LocalRE, clear_local_re
from market.mechanism import MECHANISMS, Mechanism, book_columns_of, make_mechanism
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
from market.sorted_pairing import SortedPairing, clear_sorted_pairing, match_sorted
from market.stackelberg import Stackelberg, clear_stackelberg, solve_pets
from market.two_level import TwoLevel, settlement_cycle
from market.uniform_price import PayAsBid, UniformPrice, clear_uniform_price

__all__ = [
    "BUY",
    "GRID_AREA",
    "GRID_ORDER",
    "MECHANISMS",
    "PRICE_RULES",
    "SELL",
    "ClearingResult",
    "DoubleAuction",
    "EvDemandResponse",
    "GridOnly",
    "LocalRE",
    "MarketContext",
    "Mechanism",
    "MissingColumnError",
    "OrderBook",
    "PayAsBid",
    "SortedPairing",
    "Stackelberg",
    "Trades",
    "TwoLevel",
    "UniformPrice",
    "ask_priority",
    "book_columns_of",
    "bid_priority",
    "clear_double_auction",
    "clear_ev_dr",
    "clear_grid_only",
    "clear_local_re",
    "clear_sorted_pairing",
    "clear_stackelberg",
    "clear_uniform_price",
    "clearing_diagnostics",
    "concat_books",
    "concat_trades",
    "hour_of_step",
    "make_mechanism",
    "match_sorted",
    "pair_prices",
    "remap_orders",
    "residual_book",
    "residual_order_ids",
    "settle_with_grid",
    "settlement_cycle",
    "solve_pets",
    "traded_wh",
]
