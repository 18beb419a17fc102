"""``double_auction``: the iterative EV / service-provider auction of seed 001, ch. 4.

This module maps an order book onto :class:`DoubleAuctionInstance`, runs
:func:`market.double_auction_iteration.run_double_auction` and turns the
allocation into trades.  Buy orders are EVs, sell orders service providers.

Book conventions (full list in ``docs/markets.md``):

* buy ``quantity_wh``: the most energy the EV buys, delivered at its meter,
  so ``e_max = eta * quantity``; extra ``e_min_wh`` (optional, default 0):
  the least energy its battery must receive (the thesis' ``e_i_min``); extra
  ``soc`` (state of charge in (0, 1]) gives ``w_i = sigma / soc``, or extra
  ``utility_weight`` gives ``w_i`` directly.
* sell ``quantity_wh``: energy the SP can deliver to the EVs, so it
  generates ``quantity / rho``; extras ``cost_c1`` (coins/kWh^2) and
  ``cost_c2`` (coins/kWh) override the mechanism's ``c1`` and ``c2``.
* A pair may trade only when the EV's limit price covers the SP's
  (Algorithm 7, line 10).  Initial bids: each EV bids its limit price for an
  equal share of its maximum over its eligible SPs; each SP bids so that its
  surrogate marginal price at half its capacity is its limit price.

Trades carry, per pair, the price the EV pays per kWh (``ledger_price =
"buyer"``; the auctioneer's surplus then stays with the SPs on the ledger)
or the SP's reward per kWh (``"seller"``; it stays with the EVs), clipped
into the two limit prices (``n_price_clipped`` counts clipped pairs, 0 when
the agents' limits agree with their utilities and costs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market._blas import single_threaded_blas
from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.double_auction_iteration import DoubleAuctionOutcome, run_double_auction
from market.double_auction_model import DoubleAuctionInstance
from market.greedy import cap_group_totals
from market.participation import clear_with_fallback, ev_provider_mask
from market.result import ClearingResult, Trades

LEDGER_PRICES = ("buyer", "seller")


@dataclass(frozen=True)
class DoubleAuction:
    """Iterative double auction between EVs and service providers (seed 001, ch. 4).

    Attributes:
        sigma: Constant of the charging willingness ``w = sigma / SoC`` (Eq. 4.1).
        eta: Charging efficiency (thesis: 0.8).
        rho: Transmission efficiency (thesis: 0.9).
        c1: Default quadratic cost coefficient, coins/kWh^2 (thesis: 0.01).
        c2: Default linear cost coefficient, coins/kWh (thesis: 0.015).
        xi: Stopping threshold on RCB and RCS (thesis: 0.001).
        max_iterations: Round limit.
        soc_floor: Smallest SoC used in ``sigma / SoC`` (keeps ``w`` finite).
        ledger_price: ``"buyer"`` or ``"seller"`` (see the module docstring).
    """

    name: ClassVar[str] = "double_auction"
    book_columns: ClassVar[tuple[str, ...]] = (
        "is_ev", "is_provider", "soc", "e_min_wh", "cost_c1", "cost_c2",
    )  # fmt: skip
    sigma: float = 10.0
    eta: float = 0.8
    rho: float = 0.9
    c1: float = 0.01
    c2: float = 0.015
    xi: float = 0.001
    max_iterations: int = 200
    soc_floor: float = 0.05
    ledger_price: str = "buyer"

    def __post_init__(self) -> None:
        for name in ("sigma", "xi", "soc_floor"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)})")
        for name in ("eta", "rho"):
            if not 0 < float(getattr(self, name)) <= 1:
                raise ValueError(f"{name} must lie in (0, 1] (got {getattr(self, name)})")
        for name in ("c1", "c2"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if isinstance(self.max_iterations, bool) or int(self.max_iterations) < 1:
            raise ValueError(f"max_iterations must be an integer >= 1 (got {self.max_iterations})")
        if self.ledger_price not in LEDGER_PRICES:
            raise ValueError(
                f"ledger_price must be one of 'buyer', 'seller' (got {self.ledger_price!r})"
            )

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Run the auction on ``book`` (grid prices in ``ctx`` do not enter)."""
        del ctx
        return clear_with_fallback(
            book, ev_provider_mask(book), lambda sub: clear_double_auction(sub, self)
        )


@dataclass(frozen=True)
class _Market:
    buy_rows: np.ndarray
    sell_rows: np.ndarray
    instance: DoubleAuctionInstance
    initial_bids: np.ndarray
    initial_asks: np.ndarray


def _market_of(book: OrderBook, params: DoubleAuction) -> _Market:
    """Build the instance and the initial bids from the book's orders."""
    name = DoubleAuction.name
    buy_rows = np.flatnonzero((book.side == BUY) & (book.quantity_wh > 0))
    sell_rows = np.flatnonzero((book.side == SELL) & (book.quantity_wh > 0))
    if len(buy_rows) and not book.has("utility_weight"):
        soc = book.require(name, soc="state of charge in (0, 1] of each EV (buy orders)")["soc"]
        weight = params.sigma / np.maximum(soc[buy_rows].astype(float), params.soc_floor)
    else:
        weight = book.column_or("utility_weight", 1.0)[buy_rows].astype(float)
    if np.any(weight <= 0):
        raise ValueError("utility_weight must be > 0 on every buy order")
    max_kwh = book.quantity_wh[buy_rows] / 1000.0
    e_max = params.eta * max_kwh
    e_min = np.minimum(book.column_or("e_min_wh", 0.0)[buy_rows] / 1000.0, e_max)
    deliverable = book.quantity_wh[sell_rows] / 1000.0
    c1 = book.column_or("cost_c1", params.c1)[sell_rows].astype(float)
    c2 = book.column_or("cost_c2", params.c2)[sell_rows].astype(float)
    bid_limit = book.limit_price[buy_rows]
    ask_limit = book.limit_price[sell_rows]
    eligible = bid_limit[:, None] >= ask_limit[None, :]
    inst = DoubleAuctionInstance(
        weight=weight,
        e_min_kwh=np.maximum(e_min, 0.0),
        e_max_kwh=e_max,
        supply_max_kwh=deliverable / params.rho,
        c1=c1,
        c2=c2,
        eta=params.eta,
        rho=params.rho,
        eligible=eligible,
    )
    n_sp_per_ev = np.maximum(eligible.sum(axis=1), 1)
    share_kwh = max_kwh / n_sp_per_ev
    bids = np.maximum(bid_limit, 1e-6)[:, None] * share_kwh[:, None] * np.ones_like(eligible, float)
    # The SP's surrogate marginal price p_j S_j equals its limit at half its capacity.
    half_capacity = np.maximum(0.5 * deliverable / params.rho, 1e-6)
    asks = np.maximum(ask_limit, 1e-6) / half_capacity
    return _Market(buy_rows, sell_rows, inst, bids, asks)


def clear_double_auction(book: OrderBook, params: DoubleAuction | None = None) -> ClearingResult:
    """Clear ``book`` with the iterative double auction (see the module docstring).

    Returns:
        Trades (one per EV/SP pair with at least 1 Wh, EV row then SP row
        order), residuals, the standard diagnostics plus ``iterations``,
        ``converged`` (1/0), ``welfare``, ``auctioneer_surplus_coins``,
        ``ev_payments_coins``, ``sp_rewards_coins``, ``min_demand_scale`` and
        ``n_price_clipped``; order column ``da_amount_coins`` (an EV's
        payment, an SP's reward, 0 elsewhere).

    Raises:
        MissingColumnError: When the book has buy orders but neither ``soc``
            nor ``utility_weight``.
    """
    params = params or DoubleAuction()
    residual = book.quantity_wh.copy()
    amount = np.zeros(len(book))
    extra = {"iterations": 0.0, "converged": 1.0, "welfare": 0.0, "min_demand_scale": 1.0}
    live = book.quantity_wh > 0
    two_sided = bool(np.any(live & (book.side == BUY)) and np.any(live & (book.side == SELL)))
    market = _market_of(book, params) if two_sided else None
    if market is None or not market.instance.eligible.any():
        trades = Trades.empty()
        surplus = pay_total = reward_total = 0.0
        clipped = 0
    else:
        with single_threaded_blas():
            outcome = run_double_auction(
                market.instance,
                market.initial_bids,
                market.initial_asks,
                xi=params.xi,
                max_iterations=int(params.max_iterations),
            )
        trades, clipped = _trades_of(book, market, outcome, params.ledger_price)
        np.subtract.at(residual, trades.buyer_order, trades.quantity_wh)
        np.subtract.at(residual, trades.seller_order, trades.quantity_wh)
        amount[market.buy_rows] = outcome.ev_payment
        amount[market.sell_rows] = outcome.sp_reward
        surplus = outcome.auctioneer_surplus
        pay_total, reward_total = float(outcome.ev_payment.sum()), float(outcome.sp_reward.sum())
        extra = {
            "iterations": float(outcome.iterations),
            "converged": float(outcome.converged),
            "welfare": outcome.welfare,
            "min_demand_scale": outcome.min_scale,
        }
    diagnostics = clearing_diagnostics(book, trades)
    diagnostics.update(extra)
    diagnostics.update(
        auctioneer_surplus_coins=surplus,
        ev_payments_coins=pay_total,
        sp_rewards_coins=reward_total,
        n_price_clipped=float(clipped),
    )
    return ClearingResult(trades, residual, diagnostics, order_columns={"da_amount_coins": amount})


def _trades_of(
    book: OrderBook, market: _Market, outcome: DoubleAuctionOutcome, ledger_price: str
) -> tuple[Trades, int]:
    """Whole-Wh trades of the allocation (floored, so no order is exceeded)."""
    wh = np.floor(outcome.allocation_kwh * 1000.0).astype(np.int64)
    ev_idx, sp_idx = np.nonzero(wh > 0)
    buyer_order = market.buy_rows[ev_idx]
    seller_order = market.sell_rows[sp_idx]
    qty = cap_group_totals(buyer_order, wh[ev_idx, sp_idx], book.quantity_wh)
    qty = cap_group_totals(seller_order, qty, book.quantity_wh)
    keep = qty > 0
    ev_idx, sp_idx, buyer_order, seller_order, qty = (
        ev_idx[keep],
        sp_idx[keep],
        buyer_order[keep],
        seller_order[keep],
        qty[keep],
    )
    if ledger_price == "buyer":
        price = outcome.pair_price[ev_idx, sp_idx]
    else:
        inst = market.instance
        generated = outcome.allocation_kwh.sum(axis=0) / inst.rho
        price = ((2.0 * inst.c1 * generated + inst.c2) / inst.rho)[sp_idx]
    lo, hi = book.limit_price[seller_order], book.limit_price[buyer_order]
    clipped = int(np.count_nonzero((price < lo) | (price > hi)))
    price = np.minimum(np.maximum(price, lo), hi)
    trades = Trades._trusted(
        buyer=book.agent[buyer_order],
        seller=book.agent[seller_order],
        buyer_order=buyer_order.astype(np.int64),
        seller_order=seller_order.astype(np.int64),
        buyer_area=book.area[buyer_order],
        seller_area=book.area[seller_order],
        quantity_wh=qty,
        price=price.astype(np.float64),
    )
    return trades, clipped
