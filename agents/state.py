"""Columnar state of one station area: numpy arrays per agent kind.

Mesa agent objects read and write their row of these arrays; the vectorised kernels
of :mod:`agents.behaviour` update whole columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import AreaCounts, EVParams, HouseholdParams, ProviderParams

MICRO = 1_000_000


@dataclass
class HouseholdState:
    """Households of one area (row = household)."""

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
        mean_load = rng.uniform(*params.mean_load_kw, size=n)
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
        )


@dataclass
class EVState:
    """Electric vehicles of one area (row = EV)."""

    home_bus: np.ndarray
    work_bus: np.ndarray
    capacity_kwh: np.ndarray
    soc_kwh: np.ndarray
    depart_step: np.ndarray
    arrive_step: np.ndarray
    drive_kwh_per_step: np.ndarray
    bid_markup: np.ndarray
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
    ) -> EVState:
        """Draw ``n`` EVs; each belongs to a household (home bus) and drives to work."""
        capacity = rng.uniform(*params.battery_kwh, size=n)
        soc = capacity * rng.uniform(*params.initial_soc, size=n)
        steps_per_hour = 60.0 / step_minutes
        depart = np.floor(rng.uniform(*params.departure_h, size=n) * steps_per_hour)
        arrive = np.floor(rng.uniform(*params.arrival_h, size=n) * steps_per_hour)
        arrive = np.maximum(arrive, depart + 1)
        trip = rng.uniform(*params.trip_kwh, size=n)
        bid = rng.uniform(*params.bid_markup, size=n)
        home = (
            home_buses[rng.integers(len(home_buses), size=n)]
            if len(home_buses)
            else np.zeros(n, dtype=np.int64)
        )
        work = rng.choice(buses, size=n) if len(buses) else home.copy()
        return cls(
            home_bus=home.astype(np.int64),
            work_bus=np.asarray(work, dtype=np.int64),
            capacity_kwh=capacity,
            soc_kwh=soc,
            depart_step=depart.astype(np.int64),
            arrive_step=arrive.astype(np.int64),
            drive_kwh_per_step=trip / (arrive - depart),
            bid_markup=bid,
            plugged=np.ones(n, dtype=bool),
            charge_wh=np.zeros(n),
            driven_kwh=np.zeros(n),
        )


@dataclass
class ProviderState:
    """Service providers (charging stations with a generator) of one area."""

    bus: np.ndarray
    capacity_kw: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    # Outputs of the current step.
    sold_wh: np.ndarray

    @classmethod
    def create(cls, n: int, params: ProviderParams, station: int) -> ProviderState:
        """``n`` identical providers at the area's station bus."""
        return cls(
            bus=np.full(n, station, dtype=np.int64),
            capacity_kw=np.full(n, params.capacity_kw),
            c1=np.full(n, params.cost_quadratic_coins_per_kwh2),
            c2=np.full(n, params.cost_linear_coins_per_kwh),
            sold_wh=np.zeros(n, dtype=np.int64),
        )


@dataclass
class Wallets:
    """Money of every wallet holder of an area, in local row order.

    Rows are households, then EVs, then providers; ``wallet_micro`` mirrors the
    on-chain balance (it is what the agent believes it owns), ``nonce`` is the next
    transaction nonce, ``paid_micro``/``received_micro`` add up settled payments and
    ``grid_only_cost_micro`` what the same energy would have cost with the grid alone.
    """

    wallet_micro: np.ndarray
    nonce: np.ndarray
    paid_micro: np.ndarray
    received_micro: np.ndarray
    grid_only_cost_micro: np.ndarray

    @classmethod
    def create(cls, genesis_coins: np.ndarray) -> Wallets:
        """Wallets holding ``genesis_coins`` each (rounded to micro-coins)."""
        n = len(genesis_coins)
        return cls(
            wallet_micro=np.round(np.asarray(genesis_coins) * MICRO).astype(np.int64),
            nonce=np.zeros(n, dtype=np.int64),
            paid_micro=np.zeros(n, dtype=np.int64),
            received_micro=np.zeros(n, dtype=np.int64),
            grid_only_cost_micro=np.zeros(n, dtype=np.int64),
        )
