"""Adversaries in the market (``adversary.kinds``): contract breakers, surplus liars, sybils.

A share ``adversary.share`` of the wallet holders (drawn from their own generator,
so an honest run's randomness and the chain attackers are untouched) misbehave in
the market:

- ``contract_breaker``: delivers only ``breach_delivery_fraction`` of every sale.
  Its realised reliability is 0: every contract it signs is broken.
- ``surplus_liar``: offers ``lie_factor`` times the energy it has; what it sold
  beyond what it had is exposed at delivery.
- ``market_sybil``: asks the certificate authority for ``sybil_identities`` extra
  identities to trade under (refused by the per-entity quota; counted).

:class:`AdversarialMarket` wraps the run's mechanism (local and cross-area
clearing alike, picklable for Ray): it shows the mechanism the lies, then meters
delivery. Payments follow the meters in every market: a trade shrinks to the energy
that flowed, the victim's undelivered energy ``dE`` returns to its residual and is
bought from the grid at the tariff (a real grid trade), a breaker's withheld energy
returns to its own residual (exported), a liar's residual is what it really had left.
The money misallocated by a breach is the victim's replacement premium
``(tariff - price) * dE``; the energy misallocated is ``dE``. A market with contract
settlement (``two_level``: seed 002 §5.2.4, the result carries ``credit_after`` and
``penalty_coins``) also prices the breach by its own rule: the seller's credit moves
by ``credit_broken`` instead of ``credit_kept`` (-4 instead of +2), it pays
``beta * p_m`` per undelivered kWh to the grid operator, and ``Punish`` cuts it off
below the cut-off credit. A market without settlement (e.g. ``sorted_pairing``) has
no such rule: the breach is measured, nobody is penalised or cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from market.book import SELL, OrderBook
from market.result import ClearingResult, Trades

MARKET_KINDS = ("contract_breaker", "surplus_liar", "market_sybil")
#: Diagnostics the wrapper adds to every clearing (summed over areas and rounds).
BREACH_KEYS = (
    "adv_breaches",
    "adv_undelivered_wh",
    "adv_misallocated_coins",
    "adv_penalised",
    "adv_penalty_coins",
    "adv_orders",
)


@dataclass(frozen=True)
class MarketAdversaries:
    """Who misbehaves in the market (global agent ids, ascending).

    Attributes:
        agents: All market adversaries.
        breakers: Contract breakers.
        liars: Surplus liars.
        sybils: Agents asking for sybil identities.
        lie_factor: Offered / real surplus of a liar (> 1).
        delivery_fraction: Share of a sale a breaker still delivers, in [0, 1).
    """

    agents: np.ndarray
    breakers: np.ndarray
    liars: np.ndarray
    sybils: np.ndarray
    lie_factor: float = 2.0
    delivery_fraction: float = 0.0

    @classmethod
    def choose(cls, config: Any, run_seed: int, n_holders: int) -> MarketAdversaries:
        """Draw ``round(share * n_holders)`` (>= 1 when share > 0) adversaries.

        Args:
            config: The :class:`agents.adversary.AdversaryConfig` (None: nobody).
            run_seed: The run's seed.
            n_holders: Wallet holders (global ids ``1..n_holders``).
        """
        kinds = tuple(getattr(config, "market_kinds", ())) if config is not None else ()
        none = np.zeros(0, np.int64)
        if not kinds or config.share <= 0 or n_holders <= 0:
            return cls(none, none, none, none)
        rng = np.random.default_rng([run_seed, 0xAD8])
        n = min(n_holders, max(1, round(config.share * n_holders)))
        chosen = np.sort(rng.choice(np.arange(1, n_holders + 1), size=n, replace=False))
        chosen = chosen.astype(np.int64)

        def pick(kind: str) -> np.ndarray:
            return chosen if kind in kinds else none

        return cls(
            chosen,
            pick("contract_breaker"),
            pick("surplus_liar"),
            pick("market_sybil"),
            float(config.lie_factor),
            float(config.breach_delivery_fraction),
        )

    @property
    def trades_dishonestly(self) -> bool:
        """Whether the market needs wrapping (breakers or liars)."""
        return bool(len(self.breakers) or len(self.liars))

    def wrap(self, market: Any) -> Any:
        """``market`` metered against these adversaries (itself when nobody breaches)."""
        return AdversarialMarket(market, self) if self.trades_dishonestly else market


def _has_settlement(market: Any, result: ClearingResult) -> bool:
    cols = result.order_columns
    return (
        "credit_after" in cols
        and "penalty_coins" in cols
        and all(hasattr(market, a) for a in ("credit_kept", "credit_broken", "cut_off_credit"))
    )


def delivered_per_trade(
    trades: Trades, true_wh: np.ndarray, capped: np.ndarray, fraction: np.ndarray
) -> np.ndarray:
    """Wh each trade's seller really delivers.

    Args:
        trades: The clearing's trades (``seller_order`` indexes the book).
        true_wh: Energy each order's owner really has (Wh, per book order).
        capped: Per book order: its trades fill up to ``true_wh`` in trade order (liars).
        fraction: Per book order: share of each trade delivered (1 honest, breakers less).
    """
    q = trades.quantity_wh.astype(np.int64)
    order = trades.seller_order.astype(np.int64)
    delivered = np.floor(q * fraction[order]).astype(np.int64)
    if capped.any() and len(q):
        # Cumulative quantity sold before each trade, per seller order (stable order).
        idx = np.lexsort((np.arange(len(q)), order))
        cum = np.cumsum(q[idx])
        start = np.r_[True, order[idx][1:] != order[idx][:-1]]
        base = np.maximum.accumulate(np.where(start, cum - q[idx], 0))
        before = np.empty_like(q)
        before[idx] = cum - q[idx] - base
        room = np.clip(true_wh[order] - before, 0, None)
        delivered = np.where(capped[order], np.minimum(delivered, room), delivered)
    return delivered


class AdversarialMarket:
    """A mechanism cleared against lying offers and metered against broken deliveries.

    Picklable (areas under Ray carry it); every other attribute is the wrapped
    mechanism's.
    """

    def __init__(self, market: Any, adversaries: MarketAdversaries):
        self.market, self.adversaries = market, adversaries

    def __getattr__(self, name: str) -> Any:
        if name in ("market", "adversaries"):  # not yet set (unpickling)
            raise AttributeError(name)
        return getattr(self.market, name)

    def __getstate__(self) -> dict[str, Any]:
        return {"market": self.market, "adversaries": self.adversaries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.market, self.adversaries = state["market"], state["adversaries"]

    def clear(self, book: OrderBook, ctx: Any, *args: Any, **kwargs: Any) -> ClearingResult:
        """Clear the lying book with the wrapped mechanism, then meter delivery."""
        adv = self.adversaries
        sell = book.side == SELL
        liar = sell & np.isin(book.agent, adv.liars)
        breaker = sell & np.isin(book.agent, adv.breakers)
        true_wh = book.quantity_wh.astype(np.int64)
        shown = book
        if liar.any():
            lied = np.where(liar, np.floor(true_wh * adv.lie_factor).astype(np.int64), true_wh)
            shown = book.with_quantities(lied)
        if breaker.any() and book.has("reliability"):
            # The breach is the wrapper's: the mechanism's own draw must not break it twice.
            shown = shown.with_extra(reliability=np.where(breaker, 1.0, book.extra["reliability"]))
        result = self.market.clear(shown, ctx, *args, **kwargs)
        return self._meter(book, shown, result, ctx, liar, breaker)

    def _meter(self, book, shown, result, ctx, liar, breaker) -> ClearingResult:
        adv = self.adversaries
        true_wh = book.quantity_wh.astype(np.int64)
        trades = result.trades
        fraction = np.where(breaker, adv.delivery_fraction, 1.0)
        delivered = delivered_per_trade(trades, true_wh, liar, fraction)
        short = trades.quantity_wh - delivered
        breach = short > 0
        # The meters: each trade keeps what flowed; the victim's shortfall goes back
        # to its residual (the grid serves it at the tariff), a breaker's withheld
        # energy to its own (it exports it), a liar keeps what it really had left.
        residual = result.residual_wh.copy()
        np.add.at(residual, trades.buyer_order[breach], short[breach])
        withheld = breach & breaker[trades.seller_order]
        np.add.at(residual, trades.seller_order[withheld], short[withheld])
        sold = np.zeros(len(book), np.int64)
        np.add.at(sold, trades.seller_order, delivered)
        residual = np.where(liar, true_wh - sold, residual)
        cols = dict(result.order_columns)
        settlement = _has_settlement(self.market, result)
        penalty = 0.0
        if settlement and breach.any():
            cols, penalty = self._settle(book, trades, short, breach, cols, ctx)
        keep = delivered > 0
        metered = Trades._trusted(**{**trades.to_columns(), "quantity_wh": delivered}).take(keep)
        trade_columns = {k: v[keep] for k, v in result.trade_columns.items()}
        premium = (float(ctx.tariff) - trades.price) * short / 1000.0
        diag = dict(result.diagnostics)
        diag.update(
            adv_breaches=float(breach.sum()),
            adv_undelivered_wh=float(short.sum()),
            adv_misallocated_coins=float(premium[breach].sum()),
            adv_penalised=float(breach.sum()) if settlement and penalty > 0 else 0.0,
            adv_penalty_coins=float(penalty),
            adv_orders=float((liar | breaker).sum()),
        )
        return ClearingResult(metered, residual, diag, cols, trade_columns)

    def _settle(self, book, trades, short, breach, cols, ctx):
        """The market's own rule for the exposed breaches (seed 002 §5.2.4-5.2.5)."""
        m = self.market
        seller_order = trades.seller_order[breach]
        credit = np.array(cols["credit_after"], dtype=float)
        np.add.at(credit, seller_order, m.credit_broken - m.credit_kept)
        p_m = ctx.tariff if getattr(m, "marginal_price", None) is None else m.marginal_price
        beta = float(getattr(m, "beta", 0.0))
        penalty = np.array(cols["penalty_coins"], dtype=float)
        charge = beta * p_m * short[breach] / 1000.0
        np.add.at(penalty, seller_order, charge)
        cols["credit_after"] = credit
        cols["penalty_coins"] = penalty
        cut = credit < m.cut_off_credit
        cols["cut_off"] = np.asarray(cols.get("cut_off", cut), dtype=bool) | cut
        return cols, float(charge.sum())
