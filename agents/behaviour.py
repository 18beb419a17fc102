"""Agents' decisions as element-wise kernels.

Every kernel takes numpy arrays (the vectorised path over a whole kind) or numpy
scalars (one agent's ``step()``), and uses only arithmetic, ``minimum``/``maximum``
and ``where``, so both paths give bit-identical results. Energies are kWh over one
step; powers are kW; prices are coins/kWh.
"""

from __future__ import annotations

import numpy as np

MICRO = 1_000_000


def battery_dispatch(
    net_load_kwh, soc_kwh, capacity_kwh, power_kw, dt_h, efficiency, soc_min, soc_max
):
    """Self-consumption first: a surplus charges the battery, a deficit drains it.

    Implements the storage constraints of seed 004 Eqs. 7-10 (energy balance of the
    store with charge/discharge efficiency, power limits, SoC bounds) in the form of
    seed 003 Eqs. 9-12. Charge and discharge are measured at the household's meter.

    Args:
        net_load_kwh: Load minus PV over the step (positive: deficit).
        soc_kwh: Stored energy at the start of the step.
        capacity_kwh: Battery capacity (0: no battery).
        power_kw: Charge and discharge power limit.
        dt_h: Step length in hours.
        efficiency: One-way efficiency of charging and of discharging.
        soc_min: Lower SoC bound, fraction of capacity.
        soc_max: Upper SoC bound, fraction of capacity.

    Returns:
        ``(charge_kwh, discharge_kwh, soc_kwh_after)``; at most one of the first two is
        non-zero.
    """
    surplus = np.maximum(-net_load_kwh, 0.0)
    deficit = np.maximum(net_load_kwh, 0.0)
    limit = power_kw * dt_h
    headroom = np.maximum(capacity_kwh * soc_max - soc_kwh, 0.0)
    available = np.maximum(soc_kwh - capacity_kwh * soc_min, 0.0)
    charge = np.minimum(np.minimum(surplus, limit), headroom / efficiency)
    discharge = np.minimum(np.minimum(deficit, limit), available * efficiency)
    soc_after = soc_kwh + charge * efficiency - discharge / efficiency
    return charge, discharge, soc_after


def ev_energy(plugged, drive_kwh, soc_kwh, capacity_kwh, power_kw, dt_h, efficiency, target_soc):
    """One step of a buyer EV: drive while away, charge toward the target while plugged in.

    Args:
        plugged: Whether the EV is plugged in during this step.
        drive_kwh: Energy the EV's trip needs in this step when away.
        soc_kwh: Stored energy at the start of the step.
        capacity_kwh: Battery capacity.
        power_kw: Charger power limit.
        dt_h: Step length in hours.
        efficiency: Charging efficiency.
        target_soc: State of charge (fraction) the EV charges up to.

    Returns:
        ``(charge_wh, driven_kwh, soc_kwh_after)`` where ``charge_wh`` is the whole-Wh
        energy drawn from the grid (the EV's buy order) and ``driven_kwh`` the energy
        spent driving (capped by what the battery holds).
    """
    charge_wh, _, driven, soc = ev_step(
        plugged, False, drive_kwh, soc_kwh, capacity_kwh, power_kw, dt_h, efficiency, target_soc
    )
    return charge_wh, driven, soc


def ev_step(
    plugged,
    selling,
    drive_kwh,
    soc_kwh,
    capacity_kwh,
    power_kw,
    dt_h,
    efficiency,
    target_soc,
    floor_kwh=0.0,
):
    """One step of an EV: drive while away; plugged in, charge, or discharge if ``selling``.

    A selling (V2G) EV delivers, at its meter, what it holds above ``floor_kwh`` (its
    owner's threshold energy plus the next trip, seed 000 Eqs. 12-13) times the
    efficiency, within the charger's power; it does not charge in that step.

    Returns:
        ``(charge_wh, discharge_wh, driven_kwh, soc_kwh_after)``; both energies at the
        meter in whole Wh.
    """
    driven = np.where(plugged, 0.0, np.minimum(drive_kwh, soc_kwh))
    soc_after_drive = soc_kwh - driven
    wanted = np.maximum(capacity_kwh * target_soc - soc_after_drive, 0.0) / efficiency
    limit = power_kw * dt_h
    charging = plugged & ~np.asarray(selling, dtype=bool)
    discharging = plugged & np.asarray(selling, dtype=bool)
    charge_wh = np.where(charging, np.floor(np.minimum(limit, wanted) * 1000.0), 0.0)
    spare = np.maximum(soc_after_drive - floor_kwh, 0.0) * efficiency
    discharge_wh = np.where(discharging, np.floor(np.minimum(limit, spare) * 1000.0), 0.0)
    soc_after = (
        soc_after_drive + charge_wh / 1000.0 * efficiency - discharge_wh / 1000.0 / efficiency
    )
    return charge_wh, discharge_wh, driven, soc_after


def charging_willingness(sigma, soc_kwh, capacity_kwh, min_soc=0.01):
    """Seed 001 Eq. 4.2: w = sigma / SoC, with SoC as a fraction (capped below at ``min_soc``)."""
    return sigma / np.maximum(soc_kwh / capacity_kwh, min_soc)


def limit_price(markup, retail_price, feed_in_price):
    """Price ``markup`` of the way from the feed-in tariff to the retail tariff.

    Any price in that band leaves both sides of a peer trade better off than trading
    with the grid operator. Rounded to whole micro-coins per kWh, the resolution of
    the signed order.
    """
    return np.round((feed_in_price + markup * (retail_price - feed_in_price)) * MICRO) / MICRO


def generator_offer_blocks(capacity_kw, dt_h, c1, c2, n_blocks):
    """A generator's capacity as ``n_blocks`` equal offers at marginal cost.

    With cost ``c1 s^2 + c2 s`` for ``s`` kWh in a step (seed 001 ch. 4), block ``j``
    is priced at the marginal cost ``2 c1 s + c2`` at its midpoint
    ``s = (j + 1/2) * block size``.

    Returns:
        ``(block_wh, prices)``: the whole-Wh size of every block and the price of each
        of the ``n_blocks`` blocks (coins/kWh, rounded to micro-coins).
    """
    block_kwh = capacity_kw * dt_h / n_blocks
    block_wh = np.floor(block_kwh * 1000.0)
    midpoints = (np.arange(n_blocks) + 0.5) * block_wh / 1000.0
    prices = np.round((2.0 * c1 * midpoints + c2) * MICRO) / MICRO
    return block_wh, prices


def generation_cost(energy_kwh, c1, c2):
    """Generator cost ``c1 s^2 + c2 s`` in coins for ``s`` kWh in one step."""
    return c1 * energy_kwh**2 + c2 * energy_kwh
