"""``local_re``: the dual-chain local and renewable market of seed 003.

Local stage (LETB, §"Local power trading step"): local producers (rooftop PV
plus storage) upload ``(es_p, v_p)`` -- energy for sale and bid price -- and
the contract sorts them by price.  Each user, in upload (row) order, uploads
``(m, rt)`` -- demand and reliability threshold -- and takes producers with
reputation ``r_p >= rt`` in price order until it is served or none is left.
No trade happens above the user's locational marginal price (Eq. 24; extra
column ``lmp``, else the step's tariff) nor above the user's own limit.  The
user pays the producer's bid.

Renewable stage (RETB): a user's remaining shortage ``dm`` goes, whole, to
the cheapest renewable producer (REP) whose stable production window
contains the current hour and whose remaining capacity ``m_d`` covers ``dm``
(and whose price is within the same caps).  The user pays the REP's base
price ``C_REG`` (its limit price); the REP's incentive (Eq. 25)::

    C_d = C_REG * (1 + log_k(x + 1)),    I = C_d - C_REG   per kWh

is paid by the grid operator or a public agency (order column
``incentive_coins``).  The thesis prints ``x`` garbled ("x + P . t_d + s");
we read it as ``x = (P / P_ref) * (t_d / T_ref) + s`` -- production scale
times cumulative stable time, plus stability -- with reference units that
keep ``x`` of order one.

Feedback: every producer that delivered gets its reputation moved by
``reputation_step * (2 q - 1)`` (``q`` the users' feedback quality in [0, 1],
extra column ``feedback_quality``, 1 by default), clipped to [0, 1].  What
no producer serves is left for the grid.  Trades are tagged with the chain
that records them (trade column ``chain``: 0 = LETB, 1 = RETB), and the
contract operations are counted per kind as a gas-like cost (diagnostics
``ops_<kind>_<chain>``; sorting counts comparisons, ``n log2 n``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext, hour_of_step
from market.diagnostics import clearing_diagnostics
from market.greedy import TradeLog, residual_after, take_in_order
from market.priority import ask_priority
from market.result import ClearingResult

LETB, RETB = 0, 1


@dataclass(frozen=True)
class LocalRE:
    """Parameters of the dual-chain market (seed 003); defaults say where they come from.

    Attributes:
        log_base: ``k`` of Eq. 25, the difficulty regulation ratio (not given; ours).
        scale_ref_kw: ``P_ref`` normalising the production scale (ours).
        time_ref_h: ``T_ref`` normalising the stable production time (ours).
        reputation_step: Largest reputation change per feedback (ours).
        step_minutes: Step length, to find the hour when ``ctx.hour_of_day`` is None.
    """

    name: ClassVar[str] = "local_re"
    book_columns: ClassVar[tuple[str, ...]] = (
        "reputation", "reliability_threshold", "feedback_quality", "renewable", "lmp",
        "stable_from_hour", "stable_to_hour", "stable_hours", "production_scale_kw", "stability",
    )  # fmt: skip
    log_base: float = 10.0
    scale_ref_kw: float = 1000.0
    time_ref_h: float = 1000.0
    reputation_step: float = 0.05
    step_minutes: int = 15

    def __post_init__(self) -> None:
        if not self.log_base > 1:
            raise ValueError(f"log_base must be > 1 (got {self.log_base})")
        for name in ("scale_ref_kw", "time_ref_h"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)})")
        if not 0 <= self.reputation_step <= 1:
            raise ValueError(f"reputation_step must lie in [0, 1] (got {self.reputation_step})")
        if not 0 < int(self.step_minutes) <= 1440:
            raise ValueError(f"step_minutes must lie in (0, 1440] (got {self.step_minutes})")

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Local stage, renewable stage, feedback (see the module docstring)."""
        return clear_local_re(book, ctx, self)


def incentive_price(c_reg: np.ndarray, x: np.ndarray, log_base: float) -> np.ndarray:
    """Eq. 25: ``C_d = C_REG * (1 + log_k(x + 1))``."""
    return c_reg * (1.0 + np.log1p(np.maximum(x, 0.0)) / math.log(log_base))


def supply_variable(
    scale_kw: np.ndarray, stable_hours: np.ndarray, stability: np.ndarray, params: LocalRE
) -> np.ndarray:
    """``x`` of Eq. 25 (our reading, see the module docstring)."""
    return (scale_kw / params.scale_ref_kw) * (stable_hours / params.time_ref_h) + stability


def _sort_ops(n: int) -> float:
    return float(n * math.ceil(math.log2(n))) if n > 1 else 0.0


def _in_window(hour: float, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether ``hour`` lies in ``[start, end)`` (clock hours, wrapping past midnight)."""
    start, end = start % 24, end % 24
    return np.where(start <= end, (hour >= start) & (hour < end), (hour >= start) | (hour < end))


def clear_local_re(
    book: OrderBook, ctx: MarketContext, params: LocalRE | None = None
) -> ClearingResult:
    """Pure form of :meth:`LocalRE.clear`.

    Returns:
        Trades (LETB then RETB), residuals, diagnostics (``letb_wh``,
        ``retb_wh``, ``incentive_coins``, ``mean_reputation``, operation
        counts), order columns ``reputation_after`` and ``incentive_coins``,
        trade column ``chain``.

    Raises:
        MissingColumnError: Naming a missing column (``reputation``,
            ``reliability_threshold``, or a REP column when REPs are present).
    """
    params = params or LocalRE()
    name = LocalRE.name
    buys = np.flatnonzero((book.side == BUY) & (book.quantity_wh > 0))
    renewable = book.column_or("renewable", False).astype(bool)
    sells = (book.side == SELL) & (book.quantity_wh > 0)
    local = np.flatnonzero(sells & ~renewable)
    reps = np.flatnonzero(sells & renewable)
    n = len(book)
    # Without users or local producers the columns are not needed, but a REP's
    # feedback still starts from the reputation the book carries.
    reputation = book.column_or("reputation", 0.0).astype(float)
    threshold = book.column_or("reliability_threshold", 0.0).astype(float)
    if len(buys) and len(local):
        cols = book.require(
            name,
            reputation="producer reputation r_p in [0, 1], on sell orders",
            reliability_threshold="user's reliability threshold rt in [0, 1], on buy orders",
        )
        reputation, threshold = cols["reputation"].astype(float), cols["reliability_threshold"]
    cap = np.minimum(book.column_or("lmp", ctx.tariff).astype(float), book.limit_price)
    remaining = book.quantity_wh.copy()
    log = TradeLog()
    ops = dict.fromkeys(
        [f"ops_{k}_{c}" for c in ("letb", "retb") for k in ("upload", "sort", "match", "feedback")],
        0.0,
    )
    # Local stage: producers sorted by bid once (ties by row), users in row order.
    ranked = local[ask_priority(book.limit_price[local])]
    ops["ops_upload_letb"] = float(len(local) + len(buys))
    ops["ops_sort_letb"] = _sort_ops(len(ranked))
    for u in buys:
        ok = (reputation[ranked] >= threshold[u]) & (book.limit_price[ranked] <= cap[u])
        candidates = ranked[ok & (remaining[ranked] > 0)]
        ops["ops_match_letb"] += float(len(ranked))
        taken = take_in_order(remaining[u], remaining[candidates])
        got = taken > 0
        log.add(u, candidates[got], taken[got], book.limit_price[candidates[got]], LETB)
        remaining[candidates] -= taken
        remaining[u] -= int(taken.sum())
    # Renewable stage: whole shortages to the cheapest REP whose window and capacity fit.
    incentive = np.zeros(n)
    short = buys[remaining[buys] > 0]
    if len(reps) and len(short):
        rep_cols = book.require(
            name,
            stable_from_hour="clock hour a REP's stable window opens, on REP sell orders",
            stable_to_hour="clock hour it closes (exclusive), on REP sell orders",
            stable_hours="cumulative stable production time t_d (h), on REP sell orders",
            production_scale_kw="REP production scale P (kW), on REP sell orders",
            stability="REP production stability s in [0, 1], on REP sell orders",
        )
        hour = hour_of_step(ctx, params.step_minutes)
        open_now = _in_window(
            hour, rep_cols["stable_from_hour"][reps], rep_cols["stable_to_hour"][reps]
        )
        rep_ranked = reps[open_now][ask_priority(book.limit_price[reps[open_now]])]
        ops["ops_upload_retb"] = float(len(reps) + len(short))
        ops["ops_sort_retb"] = _sort_ops(len(rep_ranked))
        x = supply_variable(
            rep_cols["production_scale_kw"].astype(float),
            rep_cols["stable_hours"].astype(float),
            rep_cols["stability"].astype(float),
            params,
        )
        c_d = incentive_price(book.limit_price, x, params.log_base)
        for u in short:
            need = remaining[u]
            fits = (remaining[rep_ranked] >= need) & (book.limit_price[rep_ranked] <= cap[u])
            ops["ops_match_retb"] += float(len(rep_ranked))
            if not fits.any():
                continue
            d = rep_ranked[np.argmax(fits)]
            log.add(u, d, need, book.limit_price[d], RETB)
            incentive[d] += (c_d[d] - book.limit_price[d]) * need / 1000.0
            remaining[d] -= need
            remaining[u] = 0
    trades, chain = log.trades(book)
    # Feedback: reputations of the producers that delivered.
    quality = book.column_or("feedback_quality", 1.0).astype(float)
    delivered = np.zeros(n, dtype=bool)
    delivered[trades.seller_order] = True
    reputation_after = np.where(
        delivered,
        np.clip(reputation + params.reputation_step * (2.0 * quality - 1.0), 0.0, 1.0),
        reputation,
    )
    ops["ops_feedback_letb"] = float(np.count_nonzero(chain == LETB))
    ops["ops_feedback_retb"] = float(np.count_nonzero(chain == RETB))
    diagnostics = clearing_diagnostics(book, trades)
    diagnostics.update(
        letb_wh=float(trades.quantity_wh[chain == LETB].sum()),
        retb_wh=float(trades.quantity_wh[chain == RETB].sum()),
        incentive_coins=float(incentive.sum()),
        mean_reputation=float(reputation_after[local].mean()) if len(local) else 0.0,
        **ops,
    )
    return ClearingResult(
        trades,
        residual_after(book, trades),
        diagnostics,
        order_columns={"reputation_after": reputation_after, "incentive_coins": incentive},
        trade_columns={"chain": chain},
    )
