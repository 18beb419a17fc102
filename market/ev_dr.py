"""``ev_dr``: EVs trading with static entities for demand response (seed 000, §3.3).

Static entities (homes, buildings, industry) post their imbalance against
their share of the fixed grid supply (4 MW in the paper's scenario): an
entity ``X`` with excess ``E_ex = E_av - E_d > 0`` posts a sell order of
``E_ex``; one that needs ``E_req = E_d - E_av > 0`` posts a buy order.  EVs
post a buy order (to charge) or a sell order (to supply).  EVs drive to the
entity they trade with, so each EV trades with at most one entity per step.
Entities are served in row order.  Equations 1-14 were images; the issue
restates them and we follow it:

* EV as buyer (§3.3.1): X sells to EVs, nearest first, while it has excess.
  An EV can take ``(SoC_max - SoC) * capacity`` plus the energy it spent
  driving to X, ``E_travel = d / D_max * capacity`` (Eq. 4), which X also
  supplies; X sells ``min(E_ex, that)`` (Eq. 3) and is paid its price times
  the energy (Eq. 6), provided its price is within the EV's limit.
* EV as provider (§3.3.2): X needs ``E_req`` (Eq. 10); an EV gives energy as
  long as what it keeps after the trip stays above the owner's threshold,
  ``SoC * capacity - E_travel - give >= threshold`` (Eqs. 12-13), at its own
  price if X accepts it (Eq. 14).  X asks EVs in price order (then nearest)
  until covered (Eq. 11).

Distances are Euclidean between the extra columns ``x_km``/``y_km``.  The
entities' load demand before and after trading is reported per order
(``entity_need_before_wh``/``entity_need_after_wh``) and in the diagnostics; with the
optional column ``entity_class`` (index into :data:`ENTITY_CLASSES`, -1 for EVs and
other sellers) also per class of seed 000 §4.2 (``net_load_before_wh_<class>`` /
``net_load_after_wh_<class>``: need minus excess, i.e. the class's net draw on the
grid, the load demand of the paper's Figs 5-7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.diagnostics import clearing_diagnostics
from market.greedy import TradeLog, residual_after, take_in_order
from market.result import ClearingResult

#: Static entity classes of seed 000 §4.2, indexed by the ``entity_class`` column.
ENTITY_CLASSES = ("residential", "commercial", "industrial")


@dataclass(frozen=True)
class EvDemandResponse:
    """Parameters of the EV demand-response market (seed 000, §3.3).

    Attributes:
        default_soc_max: ``SoC_max`` of EVs without a ``soc_max`` column (ours: 1.0).
    """

    name: ClassVar[str] = "ev_dr"
    book_columns: ClassVar[tuple[str, ...]] = (
        "is_ev", "x_km", "y_km", "soc", "capacity_wh", "max_range_km", "soc_max", "threshold_wh",
        "entity_class",
    )  # fmt: skip
    default_soc_max: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.default_soc_max <= 1:
            raise ValueError(f"default_soc_max must lie in (0, 1] (got {self.default_soc_max})")

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Serve every entity in row order (see the module docstring)."""
        del ctx
        return clear_ev_dr(book, self)


def travel_energy_wh(
    distance_km: np.ndarray, max_range_km: np.ndarray, capacity_wh: np.ndarray
) -> np.ndarray:
    """Eq. 4: energy spent driving ``d`` km, ``d / D_max * capacity``."""
    return np.asarray(distance_km) / np.asarray(max_range_km) * np.asarray(capacity_wh)


def clear_ev_dr(book: OrderBook, params: EvDemandResponse | None = None) -> ClearingResult:
    """Pure form of :meth:`EvDemandResponse.clear`.

    Returns:
        Trades, residuals, diagnostics (``entity_need_before_wh``,
        ``entity_need_after_wh``, ``entity_excess_before_wh``,
        ``entity_excess_after_wh``, ``ev_travel_wh``, ``n_ev_trades``) and
        order columns ``entity_need_before_wh`` / ``entity_need_after_wh``
        (an entity's unmet need or unsold excess; 0 on EV rows).

    Raises:
        MissingColumnError: Naming the first missing column.
    """
    params = params or EvDemandResponse()
    name = EvDemandResponse.name
    n = len(book)
    live = book.quantity_wh > 0
    two_sided = bool(np.any(live & (book.side == BUY)) and np.any(live & (book.side == SELL)))
    if two_sided:
        is_ev = book.require(name, is_ev="True on EV orders, False on static entities' orders")
        is_ev = is_ev["is_ev"].astype(bool)
    else:
        is_ev = book.column_or("is_ev", False).astype(bool)
    entities = np.flatnonzero(live & ~is_ev)
    evs = np.flatnonzero(live & is_ev)
    log = TradeLog()
    travel_total = 0.0
    remaining = book.quantity_wh.copy()
    if len(entities) and len(evs):
        c = book.require(
            name,
            x_km="east coordinate of the order's location (km), every order",
            y_km="north coordinate of the order's location (km), every order",
            soc="EV state of charge in [0, 1], on EV orders",
            capacity_wh="EV battery capacity (Wh), on EV orders",
            max_range_km="EV range on a full battery D_max (km), on EV orders",
        )
        soc_max = book.column_or("soc_max", params.default_soc_max).astype(float)
        threshold = book.column_or("threshold_wh", 0.0).astype(float)
        cap = c["capacity_wh"].astype(float)
        used = np.zeros(n, dtype=bool)  # an EV drives to one entity per step
        for x in entities:
            d = np.hypot(c["x_km"][evs] - c["x_km"][x], c["y_km"][evs] - c["y_km"][x])
            e_travel = travel_energy_wh(d, c["max_range_km"][evs], cap[evs])
            if book.side[x] == SELL:  # EVs buy X's excess, nearest first
                room = (soc_max[evs] - c["soc"][evs]) * cap[evs] + e_travel
                ok = (
                    (book.side[evs] == BUY)
                    & ~used[evs]
                    & (book.limit_price[evs] >= book.limit_price[x])
                )
                rank = np.lexsort((evs, d))
                price_of = np.full(len(evs), book.limit_price[x])
            else:  # EVs supply X's need at their own price, cheapest then nearest
                room = c["soc"][evs] * cap[evs] - e_travel - threshold[evs]
                ok = (
                    (book.side[evs] == SELL)
                    & ~used[evs]
                    & (book.limit_price[evs] <= book.limit_price[x])
                )
                rank = np.lexsort((evs, d, book.limit_price[evs]))
                price_of = book.limit_price[evs]
            # Whole Wh; the small tolerance keeps e.g. 0.2 x 20 kWh from flooring to 3999 Wh.
            room = np.floor(np.maximum(room, 0.0) + 1e-6).astype(np.int64)
            room = np.minimum(room, remaining[evs])
            pick = rank[ok[rank] & (room[rank] > 0)]
            taken = take_in_order(remaining[x], room[pick])
            got = taken > 0
            who = evs[pick[got]]
            if book.side[x] == SELL:
                log.add(who, x, taken[got], price_of[pick[got]])
            else:
                log.add(x, who, taken[got], price_of[pick[got]])
            used[who] = True
            travel_total += float(e_travel[pick[got]].sum())
            remaining[who] -= taken[got]
            remaining[x] -= int(taken.sum())
    trades, _ = log.trades(book)
    residual = residual_after(book, trades)
    need_before = np.where(live & ~is_ev, book.quantity_wh, 0)
    need_after = np.where(live & ~is_ev, residual, 0)
    buys, sells = book.side == BUY, book.side == SELL
    diagnostics = clearing_diagnostics(book, trades)
    diagnostics.update(
        entity_need_before_wh=float(need_before[buys].sum()),
        entity_need_after_wh=float(need_after[buys].sum()),
        entity_excess_before_wh=float(need_before[sells].sum()),
        entity_excess_after_wh=float(need_after[sells].sum()),
        ev_travel_wh=travel_total,
        n_ev_trades=float(len(trades)),
    )
    if book.has("entity_class"):
        diagnostics.update(_net_load_by_class(book, need_before, need_after))
    return ClearingResult(
        trades,
        residual,
        diagnostics,
        order_columns={"entity_need_before_wh": need_before, "entity_need_after_wh": need_after},
    )


def _net_load_by_class(
    book: OrderBook, before_wh: np.ndarray, after_wh: np.ndarray
) -> dict[str, float]:
    """Net draw (need minus excess, Wh) of each entity class before and after trading."""
    sign = np.where(book.side == BUY, 1.0, -1.0)
    klass = np.asarray(book.extra["entity_class"])
    out = {}
    for index, name in enumerate(ENTITY_CLASSES):
        mine = klass == index
        out[f"net_load_before_wh_{name}"] = float((sign * before_wh)[mine].sum())
        out[f"net_load_after_wh_{name}"] = float((sign * after_wh)[mine].sum())
    return out
