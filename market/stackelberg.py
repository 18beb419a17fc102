"""``stackelberg``: PETS, the one-leader / many-followers EV charging game (seed 001, ch. 3).

:func:`solve_pets` plays one day: the second-price reverse auction picks the
leader SP and caps its prices at the second-lowest bid (Algorithm 1); the
leader searches its 24 hourly prices in ``[p_min, min(p_max, cap)]`` (8-14
cents in the thesis, and never below its own bid) with the genetic algorithm
of :mod:`market.stackelberg_ga`; each candidate is scored with the EVs' best
responses (:func:`market.stackelberg_game.best_response`).

:class:`Stackelberg` runs it on an order book: buy orders are EVs, sell
orders SPs (their limit price is the sealed bid), and the trades of the
current step are the EVs' scheduled energy for the current hour, bought
from the leader at that hour's price.  The schedule is a pure function of
the book, so the same day's book gives the same schedule in every step;
solved days are memoised.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext, hour_of_step
from market.diagnostics import clearing_diagnostics
from market.result import ClearingResult, Trades
from market.stackelberg_ga import GAParameters, penalised_fitness, run_ga
from market.stackelberg_game import (
    Followers,
    best_response,
    bills,
    day_profile,
    leader_profit,
    peak_to_average,
    select_leader,
    uncoordinated_schedule,
    window_mask,
)

HOURS = 24


@dataclass(frozen=True)
class PetsSettings:
    """Parameters of the PETS game (thesis values as defaults).

    Attributes:
        p_min_cents: Lowest hourly price (8 cents, §3.3.2).
        p_max_cents: Highest hourly price (14 cents, §3.3.2).
        resolution_cents: Price step of one gene unit (0.01 cents: two decimals).
        m_day: Cost coefficient ``m_h`` by day, cents/kWh^2 (5.5e-4, §3.4.1).
        m_night: ``m_h`` by night (4.0e-4, §3.4.1).
        q: Linear cost coefficient ``q_h`` (0, §3.4.1).
        r: Constant cost ``r_h`` (0, §3.4.1).
        day_start_hour: Clock hour the day tariff of ``m_h`` starts (8 AM).
        day_end_hour: Clock hour it ends (midnight = 24).
        schedule_start_hour: First clock hour of the schedule (8 AM, §3.4.1).
        ga: Genetic-algorithm settings.
    """

    p_min_cents: float = 8.0
    p_max_cents: float = 14.0
    resolution_cents: float = 0.01
    m_day: float = 5.5e-4
    m_night: float = 4.0e-4
    q: float = 0.0
    r: float = 0.0
    day_start_hour: int = 8
    day_end_hour: int = 24
    schedule_start_hour: int = 8
    ga: GAParameters = field(default_factory=GAParameters)


@dataclass(frozen=True, eq=False)
class PetsOutcome:
    """One solved day (schedule hours, kWh, cents).

    Attributes:
        leader: Position of the leader among the SP bids.
        price_cap_cents: Second-lowest bid (``inf`` with one SP).
        prices_cents: ``(H,)`` announced prices (empty when no price fits).
        schedule_kwh: ``(N, H)`` EV charging.
        load_kwh: ``(H,)`` total EV load ``P_h``.
        bills_cents: ``(N,)`` EV bills.
        profit_cents: Leader profit (Eq. 3.8).
        par: PAR of the scheduled load (Eq. 3.26).
        par_uncoordinated: PAR when every EV charges at full power on arrival.
        generations: GA generations run.
        converged_generation: Generation of the last improvement.
        feasible: Whether the announced prices satisfy every constraint.
        profit_history_cents: Best penalised fitness after each GA generation (the
            leader's profit once feasible), for convergence plots (Fig. 3.5).
    """

    leader: int
    price_cap_cents: float
    prices_cents: np.ndarray
    schedule_kwh: np.ndarray
    load_kwh: np.ndarray
    bills_cents: np.ndarray
    profit_cents: float
    par: float
    par_uncoordinated: float
    generations: int
    converged_generation: int
    feasible: bool
    profit_history_cents: np.ndarray = field(default_factory=lambda: np.zeros(0))


def cost_coefficients(settings: PetsSettings, n_hours: int = HOURS) -> tuple[np.ndarray, ...]:
    """``m_h, q_h, r_h`` per schedule hour (day/night split by clock hour)."""
    clock = settings.schedule_start_hour + np.arange(n_hours)
    m = day_profile(
        clock, settings.m_day, settings.m_night, (settings.day_start_hour, settings.day_end_hour)
    )
    return m, np.full(n_hours, settings.q), np.full(n_hours, settings.r)


def solve_pets(
    followers: Followers,
    sp_bids_cents: np.ndarray,
    capacity_kwh: np.ndarray,
    settings: PetsSettings | None = None,
) -> PetsOutcome:
    """Play one PETS day (see the module docstring).

    Args:
        followers: The EVs, in schedule hours.
        sp_bids_cents: Sealed bids of the SPs (at least one).
        capacity_kwh: ``(H,)`` the leader's ``Energy_h^max`` (Eq. 3.7).
        settings: Game parameters.

    Returns:
        The day's outcome.
    """
    settings = settings or PetsSettings()
    n_hours = followers.n_hours
    selection = select_leader(sp_bids_cents)
    hi = min(settings.p_max_cents, selection.price_cap)
    lo = max(settings.p_min_cents, selection.leader_bid)
    m, q, r = cost_coefficients(settings, n_hours)
    baseline = uncoordinated_schedule(followers)
    par_base = peak_to_average(baseline.sum(axis=0))
    if lo > hi:
        empty = np.zeros((len(followers.energy_kwh), n_hours))
        return PetsOutcome(
            selection.leader, selection.price_cap, np.zeros(0), empty, empty.sum(axis=0),
            np.zeros(len(followers.energy_kwh)), 0.0, 0.0, par_base, 0, 0, False,
        )  # fmt: skip
    cap = np.asarray(capacity_kwh, dtype=np.float64)

    def evaluate(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        load = best_response(prices, followers).sum(axis=1)
        profit = leader_profit(prices, load, m, q, r)
        price_ok = (prices >= lo - 1e-9) & (prices <= hi + 1e-9)
        return penalised_fitness(profit, price_ok, load <= cap * (1 + 1e-12) + 1e-12)

    result = run_ga(evaluate, n_hours, lo, hi, settings.resolution_cents, settings.ga)
    prices = result.prices
    schedule = best_response(prices, followers)
    load = schedule.sum(axis=0)
    return PetsOutcome(
        leader=selection.leader,
        price_cap_cents=selection.price_cap,
        prices_cents=prices,
        schedule_kwh=schedule,
        load_kwh=load,
        bills_cents=bills(prices, schedule),
        profit_cents=float(leader_profit(prices, load, m, q, r)),
        par=peak_to_average(load),
        par_uncoordinated=par_base,
        generations=result.generations,
        converged_generation=result.converged_generation,
        feasible=result.feasible,
        profit_history_cents=result.history,
    )


@functools.lru_cache(maxsize=16)
def _solve_cached(key: tuple) -> PetsOutcome:
    """Memoised :func:`solve_pets` on a hashable snapshot of its inputs."""
    (win, n_ev, energy, amin, amax, bids, cap, settings) = key

    def arr(b: bytes) -> np.ndarray:
        return np.frombuffer(b, dtype=np.float64).copy()

    followers = Followers(
        window=np.frombuffer(win, dtype=np.bool_).reshape(n_ev, HOURS).copy(),
        energy_kwh=arr(energy),
        alpha_min_kwh=arr(amin),
        alpha_max_kwh=arr(amax),
    )
    return solve_pets(followers, arr(bids), arr(cap), settings)


@dataclass(frozen=True)
class Stackelberg:
    """PETS on an order book (seed 001, ch. 3); flat parameters for Hydra.

    Attributes:
        p_min_cents, p_max_cents, resolution_cents, m_day, m_night, q, r,
        day_start_hour, day_end_hour, schedule_start_hour: See :class:`PetsSettings`.
        population, max_generations, patience, crossover_rate, mutation_rate,
        ga_seed: See :class:`market.stackelberg_ga.GAParameters`.
        price_unit_coins: Coins per cent (book prices are coins/kWh).
        step_minutes: Step length, to find the hour when ``ctx.hour_of_day``
            is None and to turn hourly energy into per-step energy.
        alpha_max_kwh: Per-hour charging cap of EVs without ``alpha_max_wh``
            (not in the thesis; a 7 kW charger).
    """

    name: ClassVar[str] = "stackelberg"
    p_min_cents: float = 8.0
    p_max_cents: float = 14.0
    resolution_cents: float = 0.01
    m_day: float = 5.5e-4
    m_night: float = 4.0e-4
    q: float = 0.0
    r: float = 0.0
    day_start_hour: int = 8
    day_end_hour: int = 24
    schedule_start_hour: int = 8
    population: int = 50
    max_generations: int = 200
    patience: int = 30
    crossover_rate: float = 0.25
    mutation_rate: float | None = None
    ga_seed: int = 0
    price_unit_coins: float = 0.01
    step_minutes: int = 15
    alpha_max_kwh: float = 7.0

    def __post_init__(self) -> None:
        if not 0 <= self.p_min_cents <= self.p_max_cents:
            raise ValueError(f"p_min_cents must lie in [0, p_max_cents] (got {self.p_min_cents})")
        for name in ("resolution_cents", "price_unit_coins", "alpha_max_kwh"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)})")
        for name in ("m_day", "m_night", "q", "r"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if self.population < 2 or self.population % 2:
            raise ValueError(f"population must be an even integer >= 2 (got {self.population})")
        if self.max_generations < 1 or self.patience < 1:
            raise ValueError("max_generations and patience must be >= 1")
        if not 0 <= self.crossover_rate <= 1:
            raise ValueError(f"crossover_rate must lie in [0, 1] (got {self.crossover_rate})")
        if self.mutation_rate is not None and not 0 <= self.mutation_rate <= 1:
            raise ValueError(
                f"mutation_rate must lie in [0, 1] or be null (got {self.mutation_rate})"
            )
        if not 0 < int(self.step_minutes) <= 60 or 60 % int(self.step_minutes):
            raise ValueError(f"step_minutes must divide 60 (got {self.step_minutes})")
        for name in ("day_start_hour", "day_end_hour", "schedule_start_hour"):
            if not 0 <= getattr(self, name) <= 24:
                raise ValueError(f"{name} must lie in [0, 24] (got {getattr(self, name)})")

    @property
    def settings(self) -> PetsSettings:
        """The game parameters as a :class:`PetsSettings`."""
        return PetsSettings(
            p_min_cents=self.p_min_cents,
            p_max_cents=self.p_max_cents,
            resolution_cents=self.resolution_cents,
            m_day=self.m_day,
            m_night=self.m_night,
            q=self.q,
            r=self.r,
            day_start_hour=self.day_start_hour,
            day_end_hour=self.day_end_hour,
            schedule_start_hour=self.schedule_start_hour,
            ga=GAParameters(
                population=self.population,
                max_generations=self.max_generations,
                patience=self.patience,
                crossover_rate=self.crossover_rate,
                mutation_rate=self.mutation_rate,
                seed=self.ga_seed,
            ),
        )

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Schedule the day and trade the current hour's share (module docstring)."""
        return clear_stackelberg(book, ctx, self)


def clear_stackelberg(book: OrderBook, ctx: MarketContext, mech: Stackelberg) -> ClearingResult:
    """Pure form of :meth:`Stackelberg.clear`.

    Returns:
        Trades EV <- leader for this step, residuals, and diagnostics
        ``leader_profit_cents``, ``par``, ``par_uncoordinated``,
        ``ev_bills_cents``, ``generations``, ``converged_generation``,
        ``price_now_cents``, ``price_cap_cents`` and ``schedule_feasible``.

    Raises:
        MissingColumnError: Naming a missing EV column.
    """
    name = Stackelberg.name
    buy_rows = np.flatnonzero((book.side == BUY) & (book.quantity_wh > 0))
    sell_rows = np.flatnonzero((book.side == SELL) & (book.quantity_wh > 0))
    residual = book.quantity_wh.copy()
    diag = {"leader_profit_cents": 0.0, "par": 0.0, "par_uncoordinated": 0.0}
    if len(buy_rows) == 0 or len(sell_rows) == 0:
        trades = Trades.empty()
        result_diag = clearing_diagnostics(book, trades)
        result_diag.update(diag)
        return ClearingResult(trades, residual, result_diag)
    cols = book.require(
        name,
        plug_in_hour="clock hour (0-23) the EV plugs in, on buy orders",
        plug_out_hour="last clock hour (0-23) the EV stays plugged in, on buy orders",
        energy_need_wh="energy the EV needs over its window (E_j, Wh), on buy orders",
    )
    settings = mech.settings
    start = settings.schedule_start_hour
    window = window_mask(
        cols["plug_in_hour"][buy_rows].astype(np.int64) - start,
        cols["plug_out_hour"][buy_rows].astype(np.int64) - start,
    )
    energy = cols["energy_need_wh"][buy_rows] / 1000.0
    amin = book.column_or("alpha_min_wh", 0.0)[buy_rows] / 1000.0
    amax = book.column_or("alpha_max_wh", mech.alpha_max_kwh * 1000.0)[buy_rows] / 1000.0
    steps_per_hour = 60 // int(mech.step_minutes)
    hourly_cap = book.column_or("hourly_capacity_wh", -1.0)[sell_rows]
    hourly_cap = np.where(hourly_cap < 0, book.quantity_wh[sell_rows] * steps_per_hour, hourly_cap)
    bids = book.limit_price[sell_rows] / mech.price_unit_coins
    leader = select_leader(bids).leader
    cap = np.full(HOURS, hourly_cap[leader] / 1000.0)
    key = (
        window.astype(np.bool_).tobytes(), len(buy_rows),
        energy.astype(np.float64).tobytes(), amin.astype(np.float64).tobytes(),
        amax.astype(np.float64).tobytes(), bids.astype(np.float64).tobytes(),
        cap.tobytes(), settings,
    )  # fmt: skip
    outcome = _solve_cached(key)
    k = int((hour_of_step(ctx, mech.step_minutes) - start) % HOURS)
    trades = Trades.empty()
    price_now = float("nan")
    if outcome.prices_cents.size:
        price_now = float(outcome.prices_cents[k])
        price = price_now * mech.price_unit_coins
        want = np.floor(outcome.schedule_kwh[:, k] * 1000.0 / steps_per_hour).astype(np.int64)
        want = np.minimum(want, book.quantity_wh[buy_rows])
        want = np.where(book.limit_price[buy_rows] >= price, want, 0)
        seller = sell_rows[leader]
        # The leader cannot sell more than its order: serve EVs in row order.
        cum = np.cumsum(want)
        want = np.clip(book.quantity_wh[seller] - (cum - want), 0, want)
        take = np.flatnonzero(want > 0)
        buyer_order = buy_rows[take]
        trades = Trades._trusted(
            buyer=book.agent[buyer_order],
            seller=np.full(len(take), book.agent[seller]),
            buyer_order=buyer_order.astype(np.int64),
            seller_order=np.full(len(take), seller, dtype=np.int64),
            buyer_area=book.area[buyer_order],
            seller_area=np.full(len(take), book.area[seller], dtype=np.int32),
            quantity_wh=want[take],
            price=np.full(len(take), price),
        )
        residual[buyer_order] -= want[take]
        residual[seller] -= int(want[take].sum())
    result_diag = clearing_diagnostics(book, trades)
    result_diag.update(
        leader_profit_cents=outcome.profit_cents,
        par=outcome.par,
        par_uncoordinated=outcome.par_uncoordinated,
        ev_bills_cents=float(outcome.bills_cents.sum()),
        generations=float(outcome.generations),
        converged_generation=float(outcome.converged_generation),
        price_now_cents=price_now if np.isfinite(price_now) else 0.0,
        price_cap_cents=min(outcome.price_cap_cents, 1e308),
        schedule_feasible=float(outcome.feasible),
    )
    return ClearingResult(trades, residual, result_diag)
