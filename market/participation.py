"""Mechanisms that only some agents can play: clear the participants, pair the rest.

The double auction (seed 001 ch. 4) is a market between EVs and service
providers, and so is the Stackelberg game (ch. 3); a household's surplus PV or
its demand has no place in either.  When the book says who is an EV
(``is_ev``) and who is a service provider (``is_provider``), such a mechanism
clears only EV buy orders against provider sell orders, and every other order
(households on both sides) is paired among its peers by the CE-SDT sorted
pairing of seed 004 (midpoint prices).  Without those two columns every order
takes part, as in the papers.

:func:`clear_with_fallback` does the bookkeeping: it clears the two sub-books,
refers their trades back to rows of the whole book and spreads the
participants' per-order outputs over the whole book (``0`` / ``False``
elsewhere).  Diagnostics are the participants' ones, the shared keys
(``matched_wh``, ``n_trades``, ``mean_price``, order counts) recomputed over all
trades, and ``fallback_matched_wh`` / ``fallback_n_trades`` for the pairing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.diagnostics import clearing_diagnostics
from market.result import ClearingResult, concat_trades, remap_orders
from market.sorted_pairing import clear_sorted_pairing

PARTICIPANT_COLUMNS = ("is_ev", "is_provider")
"""Columns that tell an EV/service-provider mechanism who plays it."""


def ev_provider_mask(book: OrderBook) -> np.ndarray | None:
    """Rows that play an EV/provider mechanism: EV buy orders and provider sell orders.

    Returns:
        A boolean mask, or ``None`` when the book lacks ``is_ev`` or
        ``is_provider`` (then every order plays).
    """
    if not all(book.has(name) for name in PARTICIPANT_COLUMNS):
        return None
    is_ev = book.extra["is_ev"].astype(bool)
    is_provider = book.extra["is_provider"].astype(bool)
    return ((book.side == BUY) & is_ev) | ((book.side == SELL) & is_provider)


def clear_with_fallback(
    book: OrderBook,
    participants: np.ndarray | None,
    clear_core: Callable[[OrderBook], ClearingResult],
) -> ClearingResult:
    """Clear ``participants`` with ``clear_core`` and the other orders by sorted pairing.

    Args:
        book: The whole book.
        participants: Mask of the rows ``clear_core`` sees; ``None`` for all rows.
        clear_core: The mechanism on a sub-book.

    Returns:
        One result for the whole book (trades of the mechanism first, then
        of the pairing).
    """
    if participants is None:
        return clear_core(book)
    core_rows = np.flatnonzero(participants)
    rest_rows = np.flatnonzero(~participants)
    core = clear_core(book.take(core_rows))
    rest = clear_sorted_pairing(book.take(rest_rows))
    trades = concat_trades(
        [remap_orders(core.trades, core_rows), remap_orders(rest.trades, rest_rows)]
    )
    residual = np.empty(len(book), dtype=np.int64)
    residual[core_rows] = core.residual_wh
    residual[rest_rows] = rest.residual_wh
    order_columns = {}
    for name, values in core.order_columns.items():
        full = np.zeros(len(book), dtype=values.dtype)
        full[core_rows] = values
        order_columns[name] = full
    diagnostics = dict(core.diagnostics)
    diagnostics.update(clearing_diagnostics(book, trades))
    diagnostics["fallback_matched_wh"] = float(rest.trades.quantity_wh.sum())
    diagnostics["fallback_n_trades"] = float(len(rest.trades))
    trade_columns = {}
    for name, values in core.trade_columns.items():
        trade_columns[name] = np.concatenate(
            [values, np.zeros(len(rest.trades), dtype=values.dtype)]
        )
    return ClearingResult(trades, residual, diagnostics, order_columns, trade_columns)
