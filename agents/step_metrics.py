"""One row of ``model.parquet``: the driver's metrics of a step, and the day totals.

The energy balance follows the issue's invariant: produced + imported = consumed +
exported + stored + losses (here: PV, battery and V2G discharge, provider generation
and grid import against load, battery and EV charging and grid export; battery losses
are inside the charge/discharge figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agents.operator import OPERATOR_KEYS
from agents.powerflow import METRIC_KEYS, PowerFlowResult
from agents.profiles import step_mid_hours
from agents.settlement import GRID_EXPORT, GRID_IMPORT, P2P_CROSS, P2P_LOCAL

if TYPE_CHECKING:
    from agents.model import GridModel

PROVIDER = 3  # agent kind code of service providers (agents.model.KIND_NAMES)

BASE_KEYS = (
    "step",
    "hour",
    "tariff_coins_per_kwh",
    "feed_in_coins_per_kwh",
    "load_kwh",
    "pv_kwh",
    "battery_charge_kwh",
    "battery_discharge_kwh",
    "battery_loss_kwh",
    "battery_stored_kwh",
    "ev_charge_kwh",
    "ev_discharge_kwh",
    "ev_drive_kwh",
    "ev_stored_kwh",
    "evs_plugged",
    "household_net_kwh",
    "provider_generation_kwh",
    "p2p_local_kwh",
    "p2p_cross_kwh",
    "grid_import_kwh",
    "grid_export_kwh",
    "p2p_mean_price_coins_per_kwh",
    "energy_balance_error_kwh",
    "orders",
    "orders_rejected",
    "trades",
    "transactions_submitted",
    "transactions_rejected",
    "blocks_sealed",
    "chain_height",
    "mempool_size",
)
COUNT_KEYS = (
    "orders",
    "orders_rejected",
    "trades",
    "transactions_submitted",
    "transactions_rejected",
)
STOCK_KEYS = ("battery_stored_kwh", "ev_stored_kwh")  # states, not flows: never summed


def empty_metrics() -> dict[str, float]:
    """The metrics row before the first step (power flow and operator columns NaN)."""
    metrics = dict.fromkeys((*BASE_KEYS, *METRIC_KEYS, *OPERATOR_KEYS), 0.0)
    metrics["step"] = -1
    metrics["p2p_mean_price_coins_per_kwh"] = float("nan")
    metrics.update(PowerFlowResult.empty_metrics())
    metrics.update(dict.fromkeys(OPERATOR_KEYS, float("nan")))
    return metrics


def step_metrics(
    model: GridModel, step, ctx, decisions, trades, kind, n_tx, rejected, blocks, chains
) -> tuple[dict[str, Any], float]:
    """This step's metrics row and the providers' fuel cost of the step (coins).

    Args:
        model: The driver (agent kinds, provider cost parameters, step length).
        step: Step index.
        ctx: The step's market context (tariffs).
        decisions: Every area's :class:`~agents.area.AreaDecision`.
        trades: Every trade of the step (local, cross-area, with the grid).
        kind: Trade kind code per trade (``agents.settlement``).
        n_tx: Transactions submitted this step.
        rejected: Transactions the chain refused.
        blocks: Blocks sealed this step.
        chains: The layout's chains (height and mempool are summed over them).
    """
    energy = {key: sum(d.energy_kwh[key] for d in decisions) for key in decisions[0].energy_kwh}
    kwh = trades.quantity_wh / 1000.0
    sold_by_provider = model.agent_kind[trades.seller] == PROVIDER
    # Renewable producers have no fuel cost.
    fueled = sold_by_provider & ~model.agent_renewable[trades.seller]
    per_provider = np.bincount(trades.seller[fueled], weights=kwh[fueled])
    generation = float(kwh[sold_by_provider].sum())
    params = model.population.providers
    fuel_cost = float(
        np.sum(
            params.cost_quadratic_coins_per_kwh2 * per_provider**2
            + params.cost_linear_coins_per_kwh * per_provider
        )
    )
    p2p = kind <= P2P_CROSS
    by_kind = {
        name: float(kwh[kind == code].sum())
        for name, code in (
            ("p2p_local_kwh", P2P_LOCAL),
            ("p2p_cross_kwh", P2P_CROSS),
            ("grid_import_kwh", GRID_IMPORT),
            ("grid_export_kwh", GRID_EXPORT),
        )
    }
    supply = (
        energy["pv_kwh"]
        + energy["battery_discharge_kwh"]
        + energy["ev_discharge_kwh"]
        + generation
        + by_kind["grid_import_kwh"]
    )
    demand = (
        energy["load_kwh"]
        + energy["battery_charge_kwh"]
        + energy["ev_charge_kwh"]
        + by_kind["grid_export_kwh"]
    )
    metrics = {
        "step": step,
        "hour": float(step_mid_hours(step % (1440 // model.step_minutes), model.step_minutes)),
        "tariff_coins_per_kwh": ctx.tariff,
        "feed_in_coins_per_kwh": ctx.feed_in_tariff,
        **energy,
        "provider_generation_kwh": generation,
        **by_kind,
        "p2p_mean_price_coins_per_kwh": (
            float(np.average(trades.price[p2p], weights=kwh[p2p])) if p2p.any() else float("nan")
        ),
        "energy_balance_error_kwh": supply - demand,
        "orders": float(sum(d.orders for d in decisions)),
        "orders_rejected": float(sum(d.orders_rejected for d in decisions)),
        "trades": float(len(trades)),
        "transactions_submitted": float(n_tx),
        "transactions_rejected": float(len(rejected)),
        "blocks_sealed": float(len(blocks)),
        "chain_height": float(sum(c.ledger.height for c in chains)),
        "mempool_size": float(sum(len(c.mempool) for c in chains)),
    }
    return metrics, fuel_cost


def add_to_totals(totals: dict[str, float], metrics: dict[str, Any]) -> None:
    """Add a step's energy flows and counts to the day totals (in place)."""
    for key, value in metrics.items():
        if key.endswith("_kwh") and not key.endswith("_per_kwh") and key not in STOCK_KEYS:
            totals[key] = totals.get(key, 0.0) + value
    for key in COUNT_KEYS:
        totals[key] = totals.get(key, 0.0) + metrics[key]
    totals["max_abs_energy_balance_error_kwh"] = max(
        totals.get("max_abs_energy_balance_error_kwh", 0.0),
        abs(metrics["energy_balance_error_kwh"]),
    )
