"""Settlement of residual demand and surplus with the grid operator.

Seed 004 (CE-SDT), §3.3: buyers' remaining demand is served by the grid at
the retail (time-of-use) tariff, and sellers' remaining surplus goes to the
grid at the feed-in tariff (10 c/kWh in the paper).  A dispatchable seller
(e.g. a generator) simply does not produce its unmatched quantity, so it is
not exported.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from market._columns import as_int_column
from market.book import BUY, OrderBook
from market.context import MarketContext
from market.result import GRID_AREA, GRID_ORDER, Trades


def settle_with_grid(
    book: OrderBook, residual_wh: npt.ArrayLike, ctx: MarketContext, grid_agent: int
) -> Trades:
    """Turn the residuals of a cleared book into trades with the grid.

    Every buy residual ``> 0`` becomes a trade grid -> buyer at ``ctx.tariff``;
    every non-dispatchable sell residual ``> 0`` becomes a trade seller -> grid
    at ``ctx.feed_in_tariff``; dispatchable sell residuals produce no trade.

    Args:
        book: The cleared book.
        residual_wh: Unmatched quantity of each order of ``book``
            (e.g. ``ClearingResult.residual_wh``), ``0 <= residual <= quantity``.
        ctx: Grid prices of the step.
        grid_agent: Agent id standing for the grid operator.

    Returns:
        Grid trades, one per settled order, in row order of ``book``; the grid
        side has order index ``-1`` and area ``-1``.

    Raises:
        ValueError: If ``residual_wh`` does not match ``book`` in length or
            lies outside ``[0, quantity_wh]``.
    """
    residual = as_int_column("residual_wh", residual_wh, np.int64)
    if residual.shape[0] != len(book):
        raise ValueError(
            f"column 'residual_wh' has length {residual.shape[0]}, expected {len(book)}"
        )
    if np.any(residual < 0) or np.any(residual > book.quantity_wh):
        raise ValueError("column 'residual_wh' must lie within [0, quantity_wh] for every order")
    is_buy = book.side == BUY
    rows = np.flatnonzero((residual > 0) & (is_buy | ~book.dispatchable))
    buy = is_buy[rows]
    agent = book.agent[rows]
    area = book.area[rows]
    grid = np.int64(grid_agent)
    return Trades._trusted(
        buyer=np.where(buy, agent, grid),
        seller=np.where(buy, grid, agent),
        buyer_order=np.where(buy, rows, GRID_ORDER),
        seller_order=np.where(buy, GRID_ORDER, rows),
        buyer_area=np.where(buy, area, GRID_AREA).astype(np.int32),
        seller_area=np.where(buy, GRID_AREA, area).astype(np.int32),
        quantity_wh=residual[rows],
        price=np.where(buy, ctx.tariff, ctx.feed_in_tariff).astype(np.float64),
    )
