"""Per-order market columns from an area's agent state (``OrderBook.extra``).

A mechanism lists the columns it reads in ``book_columns`` (``market.book_columns_of``);
the area builds exactly those, for every order, from its state arrays with the
builders below.  Every builder gives one value per order of each kind (households,
EVs, providers, in the book's order), so all areas supply the same column names and
the cross-area round can concatenate their residual books.  Values that do not apply
to a kind are neutral (0, False); ``docs/markets.md`` has the table of who supplies
what.  The same function serves the vectorised and the per-agent path: both end in
:meth:`agents.area.Area._collect_orders`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from agents.area import Area


@dataclass(frozen=True)
class OrderRows:
    """State rows of the book's orders, by kind (the book lists them in this order).

    Attributes:
        households: Row in ``HouseholdState`` of each household order.
        evs: Row in ``EVState`` of each EV order.
        providers: Row in ``ProviderState`` of each provider order (one per offer block).
        provider_block: Index of each provider order's offer block (0 = cheapest).
        provider_block_wh: Size of each provider order's offer block (Wh).
    """

    households: np.ndarray
    evs: np.ndarray
    providers: np.ndarray
    provider_block: np.ndarray
    provider_block_wh: np.ndarray


Parts = tuple[np.ndarray, np.ndarray, np.ndarray]
Builder = Callable[["Area", OrderRows], Parts]


def _wallet_rows(area: Area, rows: OrderRows) -> Parts:
    h, e = area.counts.households, area.counts.evs
    return rows.households, h + rows.evs, h + e + rows.providers


def _per_holder(values: Callable[[Area], np.ndarray]) -> Builder:
    """A builder reading an array of the area indexed by wallet row."""

    def build(area: Area, rows: OrderRows) -> Parts:
        hh, ev, pr = _wallet_rows(area, rows)
        column = values(area)
        return column[hh], column[ev], column[pr]

    return build


def _kinds(household, ev, provider) -> Builder:
    """A builder from one function per kind, each mapping (area, state rows) to values."""

    def build(area: Area, rows: OrderRows) -> Parts:
        return (
            np.asarray(household(area, rows.households), dtype=float),
            np.asarray(ev(area, rows.evs), dtype=float),
            np.asarray(provider(area, rows.providers), dtype=float),
        )

    return build


def _zero(area: Area, rows: np.ndarray) -> np.ndarray:
    return np.zeros(len(rows))


def _flag(household: bool, ev: bool, provider: bool) -> Builder:
    def build(area: Area, rows: OrderRows) -> Parts:
        return (
            np.full(len(rows.households), household),
            np.full(len(rows.evs), ev),
            np.full(len(rows.providers), provider),
        )

    return build


# ---------------------------------------------------------------- EV quantities
def ev_soc_before_kwh(area: Area, rows: np.ndarray) -> np.ndarray:
    """Stored energy before this step's charging or V2G discharging.

    The kernels apply both before the orders are collected.
    """
    ev, eta = area.evs, area.spec.population.evs.charge_efficiency
    return (
        ev.soc_kwh[rows] - ev.charge_wh[rows] / 1000.0 * eta + ev.discharge_wh[rows] / 1000.0 / eta
    )


def ev_soc_before(area: Area, rows: np.ndarray) -> np.ndarray:
    """State of charge (fraction) before this step's charging."""
    return ev_soc_before_kwh(area, rows) / area.evs.capacity_kwh[rows]


def ev_daily_trip_kwh(area: Area, rows: np.ndarray) -> np.ndarray:
    """Energy the EV drives per day: there and back (seed 000 Eq. 4, ``agents.trips``)."""
    return 2.0 * area.evs.leg_kwh[rows]


def ev_min_charge_wh(area: Area, rows: np.ndarray) -> np.ndarray:
    """``e_min`` of the double auction (seed 001 ch. 4's mandatory minimum).

    What the battery lacks for the next day's trip plus the owner's reserve, never
    negative.
    """
    need = (
        ev_daily_trip_kwh(area, rows) + area.evs.reserve_kwh[rows] - ev_soc_before_kwh(area, rows)
    )
    return np.maximum(need, 0.0) * 1000.0


def ev_hour(area: Area, steps: np.ndarray) -> np.ndarray:
    """Clock hour (0-23) of a step of the day (steps past midnight wrap)."""
    return np.floor(np.asarray(steps) * area.spec.step_minutes / 60.0) % 24


def ev_plug_in_hour(area: Area, rows: np.ndarray) -> np.ndarray:
    """``gamma`` of seed 001 ch. 3: the hour the EV comes home and plugs in."""
    return ev_hour(area, area.evs.arrive_step[rows])


def ev_plug_out_hour(area: Area, rows: np.ndarray) -> np.ndarray:
    """``beta``: the last hour the EV is plugged in (the hour before it leaves)."""
    return (ev_hour(area, area.evs.depart_step[rows]) - 1) % 24


def ev_energy_need_wh(area: Area, rows: np.ndarray) -> np.ndarray:
    """``E_j``: the day's charging need at the meter, what the daily trip takes out."""
    eta = area.spec.population.evs.charge_efficiency
    return ev_daily_trip_kwh(area, rows) / eta * 1000.0


def _ev_param(name: str, scale: float = 1.0):
    return lambda area, rows: np.full(len(rows), getattr(area.spec.population.evs, name) * scale)


# ---------------------------------------------------------------- positions
def _bus_xy(area: Area, buses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = area.bus_position_km
    xy = np.array([pos[int(b)] for b in buses], dtype=float).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]


def _position(axis: int) -> Builder:
    def build(area: Area, rows: OrderRows) -> Parts:
        ev_bus = area.evs.position_bus[rows.evs]
        return tuple(
            _bus_xy(area, buses)[axis]
            for buses in (
                area.households.bus[rows.households],
                ev_bus,
                area.providers.bus[rows.providers],
            )
        )  # type: ignore[return-value]

    return build


def _household_kind(area: Area, rows: np.ndarray) -> np.ndarray:
    """Residential 0, commercial 1, industrial 2 (``agents.state.HOUSEHOLD_KINDS``)."""
    kind = area.households.kind
    return np.zeros(len(rows)) if kind is None else kind[rows]


def _minus_one(area: Area, rows: np.ndarray) -> np.ndarray:
    return np.full(len(rows), -1.0)


# ---------------------------------------------------------------- providers
def _provider_block_c2(area: Area, rows: OrderRows) -> Parts:
    """Linear cost of each offer block: the marginal cost where the block starts.

    Block ``k`` of ``B`` kWh costs ``c1 s^2 + (c2 + 2 c1 k B) s`` for ``s`` kWh, which is
    ``C(kB + s) - C(kB)`` of the generator's cost ``C`` (seed 001 Eq. 4.2), so the
    blocks together cost exactly what the generator does.
    """
    pr, p = area.providers, rows.providers
    start_kwh = rows.provider_block * rows.provider_block_wh / 1000.0
    return (
        np.zeros(len(rows.households)),
        np.zeros(len(rows.evs)),
        pr.c2[p] + 2.0 * pr.c1[p] * start_kwh,
    )


def _provider_hourly_capacity_wh(area: Area, rows: OrderRows) -> Parts:
    """``Energy_h^max`` of seed 001 Eq. 3.7: the block's size over one hour."""
    return (
        np.zeros(len(rows.households)),
        np.zeros(len(rows.evs)),
        rows.provider_block_wh * (60.0 / area.spec.step_minutes),
    )


def _rep_param(name: str):
    def value(area: Area, rows: np.ndarray) -> np.ndarray:
        rep = area.providers.renewable[rows]
        return np.where(rep, getattr(area.spec.population.renewables, name), 0.0)

    return value


def _market_state(name: str) -> Builder:
    return _per_holder(lambda area: getattr(area.market_state, name))


BUILDERS: dict[str, Builder] = {
    # who is who
    "is_ev": _flag(False, True, False),
    "is_provider": _flag(False, False, True),
    # EV state (seed 001 ch. 3-4, seed 000)
    "soc": _kinds(
        lambda a, r: np.divide(
            a.households.soc_kwh[r],
            a.households.battery_capacity_kwh[r],
            out=np.zeros(len(r)),
            where=a.households.battery_capacity_kwh[r] > 0,
        ),
        ev_soc_before,
        _zero,
    ),
    "e_min_wh": _kinds(_zero, ev_min_charge_wh, _zero),
    "capacity_wh": _kinds(
        lambda a, r: a.households.battery_capacity_kwh[r] * 1000.0,
        lambda a, r: a.evs.capacity_kwh[r] * 1000.0,
        _zero,
    ),
    "max_range_km": _kinds(_zero, lambda a, r: a.evs.range_km[r], _zero),
    "soc_max": _kinds(_zero, _ev_param("target_soc"), _zero),
    "threshold_wh": _kinds(_zero, lambda a, r: a.evs.reserve_kwh[r] * 1000.0, _zero),
    "plug_in_hour": _kinds(_zero, ev_plug_in_hour, _zero),
    "plug_out_hour": _kinds(_zero, ev_plug_out_hour, _zero),
    "energy_need_wh": _kinds(_zero, ev_energy_need_wh, _zero),
    "alpha_max_wh": _kinds(_zero, _ev_param("charge_power_kw", 1000.0), _zero),
    # providers (seed 001 ch. 4 costs, seed 003 REPs)
    "cost_c1": _kinds(_zero, _zero, lambda a, r: a.providers.c1[r]),
    "cost_c2": _provider_block_c2,
    "hourly_capacity_wh": _provider_hourly_capacity_wh,
    "renewable": _kinds(_zero, _zero, lambda a, r: a.providers.renewable[r]),
    "stable_from_hour": _kinds(_zero, _zero, _rep_param("stable_from_hour")),
    "stable_to_hour": _kinds(_zero, _zero, _rep_param("stable_to_hour")),
    "stable_hours": _kinds(_zero, _zero, _rep_param("stable_hours")),
    "production_scale_kw": _kinds(_zero, _zero, _rep_param("capacity_kw")),
    "stability": _kinds(_zero, _zero, _rep_param("stability")),
    # seed 003 Eq. 24: the price cap at the area's station (the operator's last LMP)
    "lmp": _per_holder(
        lambda area: np.full(
            area.counts.total,
            area.lmp_coins_per_kwh if area.lmp_coins_per_kwh is not None else area.tariff_now,
        )
    ),
    # seed 000 §4.2 entity class (market.ev_dr.ENTITY_CLASSES); -1 for EVs and providers
    "entity_class": _kinds(_household_kind, _minus_one, _minus_one),
    # positions (seed 000): every agent at its bus, an EV where it is
    "x_km": _position(0),
    "y_km": _position(1),
    # persistent market state (seed 002 credit, seed 003 reputation)
    "credit": _market_state("credit"),
    "qualified": _per_holder(lambda area: ~area.market_state.cut_off),
    "reliability": _market_state("reliability"),
    "reputation": _market_state("reputation"),
    "reliability_threshold": _market_state("reliability_threshold"),
    "feedback_quality": _market_state("reliability"),
}
"""Column name -> builder; ``docs/markets.md`` documents each."""

_BOOL_COLUMNS = frozenset({"is_ev", "is_provider", "renewable", "qualified"})


def check_columns(names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming any column the agents cannot supply."""
    unknown = [name for name in names if name not in BUILDERS]
    if unknown:
        raise ValueError(
            f"book_columns {unknown} cannot be supplied by the agents; "
            f"known: {', '.join(sorted(BUILDERS))}"
        )


def build_columns(area: Area, names: Sequence[str], rows: OrderRows) -> dict[str, np.ndarray]:
    """The named per-order columns for the orders ``rows`` (households, EVs, providers).

    Returns:
        Column name -> array of one value per order, in book order.
    """
    out = {}
    for name in names:
        parts = BUILDERS[name](area, rows)
        column = np.concatenate([np.asarray(p) for p in parts])
        out[name] = column.astype(bool) if name in _BOOL_COLUMNS else column.astype(float)
    return out
