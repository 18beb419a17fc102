"""Baselines: the k-double auction (one uniform price) and pay-as-bid pairing.

k-double auction (Satterthwaite and Williams, 1989; the standard uniform-price
baseline of P2P energy studies).  Bids are ranked high to low and asks low to
high (ties by row), the matched volume is the largest one at which the
marginal bid still covers the marginal ask, and *every* matched unit trades at
one clearing price between the marginal (lowest matched) bid and the marginal
(highest matched) ask::

    price = ask_m + k * (bid_m - ask_m),   0 <= k <= 1

``k = 0`` favours buyers (price at the marginal ask), ``k = 1`` sellers.  Every
matched buyer bid ``>= bid_m >= price`` and every matched ask ``<= ask_m <=
price``, so no trade violates a limit, and a single price makes payments
equal receipts (strong budget balance).  The matched volume and the per-order
quantities are those of sorted pairing (seed 004, §3.3); only the price rule
differs, so the two baselines isolate the effect of pricing.

Pay-as-bid pairs in the same order and prices each pair at the buyer's bid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market.book import OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.result import ClearingResult
from market.sorted_pairing import clear_sorted_pairing
from market.sorted_walk import match_sorted


@dataclass(frozen=True)
class UniformPrice:
    """k-double auction: one price between the marginal bid and ask.

    Attributes:
        k: Position of the price between the marginal ask (0) and bid (1).
    """

    name: ClassVar[str] = "uniform_price"
    book_columns: ClassVar[tuple[str, ...]] = ()
    k: float = 0.5

    def __post_init__(self) -> None:
        k = float(self.k)
        if not 0.0 <= k <= 1.0:
            raise ValueError(f"k must lie in [0, 1] (got {self.k})")
        object.__setattr__(self, "k", k)

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Clear ``book`` at one uniform price; grid prices do not enter."""
        del ctx
        return clear_uniform_price(book, self.k)


@dataclass(frozen=True)
class PayAsBid:
    """Sorted pairing where each pair trades at the buyer's bid."""

    name: ClassVar[str] = "pay_as_bid"
    book_columns: ClassVar[tuple[str, ...]] = ()

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Clear ``book`` by sorted pairing at the buyers' bids."""
        del ctx
        return clear_sorted_pairing(book, "pay_as_bid")


def clear_uniform_price(book: OrderBook, k: float = 0.5) -> ClearingResult:
    """Clear ``book`` as a k-double auction (see the module docstring).

    Args:
        book: Orders to clear.
        k: Price position in ``[0, 1]`` between the marginal ask and bid.

    Returns:
        Trades in pairing order, all at the clearing price; residuals; and
        the diagnostics of :func:`market.diagnostics.clearing_diagnostics`
        plus ``clearing_price`` (0 without trades), ``marginal_bid`` and
        ``marginal_ask``.

    Raises:
        ValueError: If ``k`` lies outside ``[0, 1]`` or a side total is
            ``>= 2**62`` Wh.
    """
    if not 0.0 <= k <= 1.0:
        raise ValueError(f"k must lie in [0, 1] (got {k})")
    match = match_sorted(book)
    n = match.quantity_wh.shape[0]
    bid_m, ask_m = match.marginal_bid, match.marginal_ask
    # min/max keep the price inside [ask_m, bid_m] despite rounding.
    price = min(max(ask_m + k * (bid_m - ask_m), ask_m), bid_m) if n else 0.0
    trades = match.trades(np.full(n, price))
    diagnostics = clearing_diagnostics(book, trades)
    diagnostics.update(clearing_price=price, marginal_bid=bid_m, marginal_ask=ask_m)
    return ClearingResult._trusted(trades, match.residual_wh, diagnostics)
