"""Columnar state of one station area: numpy arrays per agent kind.

Mesa agent objects read and write their row of these arrays; the vectorised kernels
of :mod:`agents.behaviour` update whole columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from agents.population import (
    AreaCounts,
    EVParams,
    HouseholdParams,
    Population,
    ProviderParams,
    RenewableParams,
)
from agents.trips import draw_schedule, path_km, trip_energy_kwh

MICRO = 1_000_000
#: SoC (fraction) below which w = sigma / SoC is capped, so an empty EV has a finite weight.
MIN_SOC_FOR_WEIGHT = 0.01


@dataclass
class HouseholdState:
    """Households of one area (row = household).

    ``kind`` is :data:`RESIDENTIAL`, :data:`COMMERCIAL` or :data:`INDUSTRIAL` (seed 000's
    homes, buildings and industry); rows are residential first, then commercial, then
    industrial. ``mean_load_kw`` is the annual mean power (annual consumption / 8760 h).
    """

    bus: np.ndarray
    mean_load_kw: np.ndarray
    pv_peak_kw: np.ndarray
    battery_capacity_kwh: np.ndarray
    soc_kwh: np.ndarray
    ask_markup: np.ndarray
    bid_markup: np.ndarray
    # Outputs of the current step.
    load_kwh: np.ndarray
    pv_kwh: np.ndarray
    charge_kwh: np.ndarray
    discharge_kwh: np.ndarray
    net_kwh: np.ndarray
    # ---- agents-real: household kind
    kind: np.ndarray | None = None
    # ---- end agents-real

    @classmethod
    def draw(
        cls,
        counts: AreaCounts,
        params: HouseholdParams,
        buses: np.ndarray,
        rng: np.random.Generator,
    ) -> HouseholdState:
        """Draw ``counts.households`` households; PV and batteries go to random homes."""
        n = counts.households
        kind = household_kinds(n, params)
        # low + (high - low) * u is what Generator.uniform computes: same draws as before.
        u = rng.random(n)
        low, high = np.array(_kind_mean_load_kw(params)).T
        mean_load = low[kind] + (high[kind] - low[kind]) * u
        ask = rng.uniform(*params.ask_markup, size=n)
        bid = rng.uniform(*params.bid_markup, size=n)
        order = rng.permutation(n)
        with_pv = order[: counts.with_pv]
        with_battery = with_pv[: counts.with_battery]
        pv_peak = np.zeros(n)
        pv_peak[with_pv] = params.pv_peak_kw
        capacity = np.zeros(n)
        capacity[with_battery] = params.battery_capacity_kwh
        home = rng.choice(buses, size=n) if len(buses) else np.zeros(n, dtype=np.int64)
        zeros = np.zeros(n)
        return cls(
            bus=home.astype(np.int64),
            mean_load_kw=mean_load,
            pv_peak_kw=pv_peak,
            battery_capacity_kwh=capacity,
            soc_kwh=capacity * params.battery_initial_soc,
            ask_markup=ask,
            bid_markup=bid,
            load_kwh=zeros.copy(),
            pv_kwh=zeros.copy(),
            charge_kwh=zeros.copy(),
            discharge_kwh=zeros.copy(),
            net_kwh=zeros.copy(),
            kind=kind,
        )


# ---- agents-real: household kinds
RESIDENTIAL, COMMERCIAL, INDUSTRIAL = 0, 1, 2
HOUSEHOLD_KINDS = ("residential", "commercial", "industrial")
HOURS_PER_YEAR = 8760.0


def household_kinds(n: int, params: HouseholdParams) -> np.ndarray:
    """Kind of each of ``n`` households: residential rows first (no random draw)."""
    n_commercial = int(round(n * params.commercial_share))
    n_industrial = min(int(round(n * params.industrial_share)), n - n_commercial)
    kind = np.zeros(n, dtype=np.int8)
    kind[n - n_commercial - n_industrial : n - n_industrial] = COMMERCIAL
    kind[n - n_industrial :] = INDUSTRIAL
    return kind


def _kind_mean_load_kw(params: HouseholdParams) -> list[tuple[float, float]]:
    """Range of the mean power per kind (annual consumption / 8760 h)."""
    return [
        params.mean_load_kw,
        tuple(e / HOURS_PER_YEAR for e in params.commercial_annual_kwh),
        tuple(e / HOURS_PER_YEAR for e in params.industrial_annual_kwh),
    ]


# ---- end agents-real


@dataclass
class EVState:
    """Electric vehicles of one area (row = EV).

    Trip fields follow :mod:`agents.trips`: ``leg_km`` is the one-way distance home ->
    destination (shortest path on the area graph plus the part outside it),
    ``leg_kwh`` its energy by seed 000 Eq. 4, ``reserve_kwh`` the owner's threshold
    energy (seed 000 Eq. 13), ``v2g`` the role (True: V2G provider, sells above its
    reserve and next trip in the peak band; False: buyer only), ``utility_weight`` the
    charging willingness w = sigma / SoC of seed 001 Eq. 4.2 after the step.
    """

    home_bus: np.ndarray
    work_bus: np.ndarray
    capacity_kwh: np.ndarray
    soc_kwh: np.ndarray
    depart_step: np.ndarray
    arrive_step: np.ndarray
    bid_markup: np.ndarray
    # ---- agents-real: trips, reserve, role, utility weight
    range_km: np.ndarray
    leg_km: np.ndarray
    leg_kwh: np.ndarray
    reserve_kwh: np.ndarray
    v2g: np.ndarray
    ask_markup: np.ndarray
    position_bus: np.ndarray
    utility_weight: np.ndarray
    discharge_wh: np.ndarray
    # ---- end agents-real
    # Outputs of the current step.
    plugged: np.ndarray
    charge_wh: np.ndarray
    driven_kwh: np.ndarray

    @classmethod
    def draw(
        cls,
        n: int,
        params: EVParams,
        home_buses: np.ndarray,
        buses: np.ndarray,
        step_minutes: int,
        rng: np.random.Generator,
        graph: nx.Graph | None = None,
        trip_rng: np.random.Generator | None = None,
    ) -> EVState:
        """Draw ``n`` EVs; each belongs to a household (home bus) and drives to a destination.

        Capacity, SoC, schedule, bid and buses come from ``rng`` in that order; the trip
        and role attributes from ``trip_rng`` (default: a generator seeded 0), so that
        adding them leaves the other draws unchanged.
        """
        capacity = rng.uniform(*params.battery_kwh, size=n)
        soc = capacity * rng.uniform(*params.initial_soc, size=n)
        depart, arrive = draw_schedule(params, n, step_minutes, rng)
        bid = rng.uniform(*params.bid_markup, size=n)
        home = (
            home_buses[rng.integers(len(home_buses), size=n)]
            if len(home_buses)
            else np.zeros(n, dtype=np.int64)
        )
        work = rng.choice(buses, size=n) if len(buses) else home.copy()
        home, work = home.astype(np.int64), np.asarray(work, dtype=np.int64)
        extra = trip_rng if trip_rng is not None else np.random.default_rng(0)
        consumption = extra.uniform(*params.consumption_kwh_per_km, size=n)
        outside = extra.uniform(*params.outside_km, size=n)
        reserve_soc = extra.uniform(*params.reserve_soc, size=n)
        ask = extra.uniform(*params.ask_markup, size=n)
        n_v2g = int(round(n * params.v2g_share))
        v2g = np.zeros(n, dtype=bool)
        v2g[extra.permutation(n)[:n_v2g]] = True
        on_graph = path_km(graph, home, work) if graph is not None else np.zeros(n)
        range_km = capacity / consumption
        leg_km = on_graph + outside
        return cls(
            home_bus=home,
            work_bus=work,
            capacity_kwh=capacity,
            soc_kwh=soc,
            depart_step=depart,
            arrive_step=arrive,
            bid_markup=bid,
            range_km=range_km,
            leg_km=leg_km,
            leg_kwh=trip_energy_kwh(leg_km, range_km, capacity),
            reserve_kwh=reserve_soc * capacity,
            v2g=v2g,
            ask_markup=ask,
            position_bus=home.copy(),
            utility_weight=params.utility_sigma / np.maximum(soc / capacity, MIN_SOC_FOR_WEIGHT),
            discharge_wh=np.zeros(n),
            plugged=np.ones(n, dtype=bool),
            charge_wh=np.zeros(n),
            driven_kwh=np.zeros(n),
        )

    @property
    def sell_floor_kwh(self) -> np.ndarray:
        """Stored energy a V2G EV keeps: its reserve plus a round trip (seed 000 Eq. 13)."""
        return self.reserve_kwh + 2.0 * self.leg_kwh


@dataclass
class ProviderState:
    """Service providers of one area: generators first, then renewable producers (REPs).

    A generator sells at marginal cost ``2 c1 s + c2``; a REP (seed 003) sells its
    plant's output at its base price and has no fuel cost (``c1 = c2 = 0``).
    """

    bus: np.ndarray
    capacity_kw: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    renewable: np.ndarray
    # Outputs of the current step.
    sold_wh: np.ndarray

    @classmethod
    def create(
        cls,
        n: int,
        params: ProviderParams,
        station: int,
        renewable: int = 0,
        renewable_params: RenewableParams | None = None,
    ) -> ProviderState:
        """``n`` providers at the area's station bus, the last ``renewable`` of them REPs."""
        rep = np.arange(n) >= n - renewable
        rep_capacity = renewable_params.capacity_kw if renewable_params is not None else 0.0
        return cls(
            bus=np.full(n, station, dtype=np.int64),
            capacity_kw=np.where(rep, rep_capacity, params.capacity_kw),
            c1=np.where(rep, 0.0, params.cost_quadratic_coins_per_kwh2),
            c2=np.where(rep, 0.0, params.cost_linear_coins_per_kwh),
            renewable=rep,
            sold_wh=np.zeros(n, dtype=np.int64),
        )


@dataclass
class MarketState:
    """What the market remembers about every wallet holder of an area.

    Rows follow :class:`Wallets`: households, EVs, providers.

    Attributes:
        credit: Contract credit (seed 002 §5.2.4: starts at 100, +2 kept, -4 broken).
        cut_off: Powered off by ``Punish`` (credit fell below the cut-off); such an
            agent no longer qualifies for contracts.
        reputation: Producer reputation in [0, 1] (seed 003, moved by feedback).
        reliability: Probability of keeping a contract (drawn once, fixed).
        reliability_threshold: Least reputation a buyer accepts (seed 003 ``rt``).
        incentive_points: Power incentive points earned so far (seed 002 §3.3).
        penalty_micro: Penalties paid so far (micro-coins).
        incentive_micro: Incentives received so far (micro-coins).
    """

    credit: np.ndarray
    cut_off: np.ndarray
    reputation: np.ndarray
    reliability: np.ndarray
    reliability_threshold: np.ndarray
    incentive_points: np.ndarray
    penalty_micro: np.ndarray
    incentive_micro: np.ndarray

    @classmethod
    def draw(
        cls, counts: AreaCounts, population: Population, rng: np.random.Generator
    ) -> MarketState:
        """Initial state; reliabilities and thresholds drawn per agent from ``rng``.

        ``rng`` should be a stream of its own, so that adding market state leaves
        every other draw of the area unchanged.
        """
        h, e, p = counts.households, counts.evs, counts.providers
        r = counts.renewable_providers
        n = counts.total
        hh, ev = population.households, population.evs
        reliability = np.concatenate(
            [
                rng.uniform(*hh.reliability, size=h),
                rng.uniform(*ev.reliability, size=e),
                np.full(p - r, population.providers.reliability),
                np.full(r, population.renewables.reliability),
            ]
        )
        threshold = np.concatenate(
            [rng.uniform(*hh.reliability_threshold, size=h), np.zeros(e + p)]
        )
        return cls(
            credit=np.full(n, float(population.initial_credit)),
            cut_off=np.zeros(n, dtype=bool),
            reputation=np.full(n, float(population.initial_reputation)),
            reliability=reliability,
            reliability_threshold=threshold,
            incentive_points=np.zeros(n),
            penalty_micro=np.zeros(n, dtype=np.int64),
            incentive_micro=np.zeros(n, dtype=np.int64),
        )


@dataclass
class Wallets:
    """Money of every wallet holder of an area, in local row order.

    Rows are households, then EVs, then providers; ``wallet_micro`` mirrors the
    on-chain balance (it is what the agent believes it owns), ``nonce`` is the next
    transaction nonce, ``paid_micro``/``received_micro`` add up settled payments and
    ``grid_only_cost_micro`` what the same energy would have cost with the grid alone.
    ``generates`` marks the holders with their own generation (households with PV,
    seed 004's prosumers), so costs can be reported per user class;
    ``load_cost_micro`` is what a household's whole load would cost bought from the grid
    (seed 004's baseline: no PV, no storage, no market).
    """

    wallet_micro: np.ndarray
    nonce: np.ndarray
    paid_micro: np.ndarray
    received_micro: np.ndarray
    grid_only_cost_micro: np.ndarray
    generates: np.ndarray
    load_cost_micro: np.ndarray

    @classmethod
    def create(cls, genesis_coins: np.ndarray, generates: np.ndarray | None = None) -> Wallets:
        """Wallets holding ``genesis_coins`` each (rounded to micro-coins)."""
        n = len(genesis_coins)
        return cls(
            wallet_micro=np.round(np.asarray(genesis_coins) * MICRO).astype(np.int64),
            nonce=np.zeros(n, dtype=np.int64),
            paid_micro=np.zeros(n, dtype=np.int64),
            received_micro=np.zeros(n, dtype=np.int64),
            grid_only_cost_micro=np.zeros(n, dtype=np.int64),
            generates=(
                np.zeros(n, dtype=bool) if generates is None else np.asarray(generates, dtype=bool)
            ),
            load_cost_micro=np.zeros(n, dtype=np.int64),
        )
