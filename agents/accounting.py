"""End-of-run accounting: headline figures of a finished :class:`GridModel`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.market_metrics import state_summary
from agents.settlement import GRID_EXPORT, GRID_IMPORT, P2P_CROSS, P2P_LOCAL, TRADE_KINDS

if TYPE_CHECKING:
    from agents.model import GridModel

MICRO = 1_000_000


def summarize(model: GridModel) -> dict[str, Any]:
    """Headline metrics of a run: energy, money, market and chain.

    Costs are what agents paid minus what they received, in coins; the grid-only cost
    is what the same metered energy would have cost trading with the grid operator
    alone (buy at the retail tariff, sell at the feed-in tariff).
    """
    totals = dict(model.totals)
    p2p_kwh = totals.get("p2p_local_kwh", 0.0) + totals.get("p2p_cross_kwh", 0.0)
    bought_kwh = p2p_kwh + totals.get("grid_import_kwh", 0.0)
    prices = _mean_prices(model.trade_log)
    wallets = model.runtime.wallets()
    costs = _costs_by_kind(model, wallets)
    layout = model.ledger_layout
    chains = list(layout.chains.values())
    mirrored = all(
        layout.balance_of(key) == int(balance)
        for keys, w in zip(model.runtime.public_keys(), wallets, strict=True)
        for key, balance in zip(keys, w.wallet_micro.tolist(), strict=True)
    )
    return {
        "energy_kwh": {k: v for k, v in totals.items() if k.endswith("_kwh")},
        "p2p_kwh": p2p_kwh,
        "p2p_share_of_purchases": p2p_kwh / bought_kwh if bought_kwh else 0.0,
        "prices_coins_per_kwh": prices,
        "costs_coins": costs,
        "provider_generation_cost_coins": model.provider_cost_coins,
        "counts": {
            "areas": model.n_areas,
            "households": int((model.agent_kind == 1).sum()),
            "evs": int((model.agent_kind == 2).sum()),
            "providers": int((model.agent_kind == 3).sum()),
            "aggregators": model.n_areas,
            "validators": len(model.miners),
            "steps": model.n_steps,
            "orders": int(totals.get("orders", 0)),
            "orders_rejected": int(totals.get("orders_rejected", 0)),
            "trades": int(totals.get("trades", 0)),
            "transactions": int(sum(c.ledger.committed_tx for c in chains)),
            "transactions_rejected": int(totals.get("transactions_rejected", 0)),
            # Payments whose signature failed their area aggregator's check (never sent).
            "payments_dropped": int(sum(model.runtime.payments_dropped())),
            "blocks": sum(c.ledger.height for c in chains),
        },
        "chain": layout.chain_metrics(),
        "chain_layout": layout.metrics(),
        "ledger_head": {c.chain_id: c.head_hash for c in chains},
        "coin_supply_micro": {
            c.chain_id: {
                "genesis": c.ledger.genesis.total_supply,
                "final": c.ledger.total_supply(),
            }
            for c in chains
        },
        "wallets_match_ledger": bool(mirrored),
        "settlement": {  # what the run signed for its trades (agents.netting)
            "mode": model.settlement.mode,
            "period_steps": model.settlement.period_steps if model.netting is not None else 1,
            "windows": model.netting.index if model.netting is not None else model.n_steps,
            "signed_transactions": int(model.signed_transactions),
        },
        "max_abs_energy_balance_error_kwh": totals.get("max_abs_energy_balance_error_kwh", 0.0),
        "blocks_by_validator": {m.identity.public_hex[:16]: m.blocks_sealed for m in model.miners},
        "security": model.security.summary(model.chain),
        "market_diagnostics": market_summary(model),
    }


def market_summary(model: GridModel) -> dict[str, Any]:
    """The mechanism's diagnostics over the day and the agents' market state at its end.

    ``local_<key>`` / ``cross_<key>`` hold the total, mean and maximum over the steps of
    the ``market_local_<key>`` / ``market_cross_<key>`` columns of model.parquet.
    """
    return {
        "mechanism": getattr(model.market, "name", type(model.market).__name__),
        "diagnostics": model.market_metrics.summary(),
        "transfers": {
            "count": int(model.market_transfer_totals["count"]),
            "coins": model.market_transfer_totals["coins"],
        },
        "agents": state_summary(model.runtime.market_states(), model.population.initial_credit),
    }


def _costs_by_kind(model: GridModel, wallets) -> dict[str, dict[str, float]]:
    paid = np.concatenate([w.paid_micro for w in wallets])
    received = np.concatenate([w.received_micro for w in wallets])
    grid_only = np.concatenate([w.grid_only_cost_micro for w in wallets])
    generates = np.concatenate([w.generates for w in wallets])
    load_cost = np.concatenate([w.load_cost_micro for w in wallets])
    kinds = model.agent_kind[1:]
    result = {}
    households = kinds == 1
    # Seed 004's user classes: consumers (no generation) and prosumers (rooftop PV).
    for name, mask in (
        ("household", households),
        ("household_consumer", households & ~generates),
        ("household_prosumer", households & generates),
        ("ev", kinds == 2),
    ):
        if not mask.any():
            continue
        cost = (paid[mask] - received[mask]) / MICRO
        baseline = grid_only[mask] / MICRO
        result[name] = {
            "mean_cost": float(cost.mean()),
            "mean_grid_only_cost": float(baseline.mean()),
            "total_cost": float(cost.sum()),
            "total_grid_only_cost": float(baseline.sum()),
            # A share of a non-positive baseline (net exporters) means nothing: None.
            "cost_ratio": _share(cost.sum(), baseline.sum()),
        }
        if name.startswith("household"):
            whole_load = load_cost[mask] / MICRO
            result[name]["mean_load_cost"] = float(whole_load.mean())
            result[name]["load_cost_ratio"] = _share(cost.sum(), whole_load.sum())
    mask = kinds == 3
    if mask.any():
        result["provider"] = {"mean_revenue": float((received[mask] - paid[mask]).mean() / MICRO)}
    return result


def _share(cost: float, baseline: float) -> float | None:
    """``cost / baseline`` when the baseline is a positive cost, else None."""
    return float(cost / baseline) if baseline > 0 else None


# Mean prices reported, and the trade kinds each averages over.
_PRICE_GROUPS = {
    "p2p_mean": (P2P_LOCAL, P2P_CROSS),
    "p2p_local_mean": (P2P_LOCAL,),
    "grid_import_mean": (GRID_IMPORT,),
    "grid_export_mean": (GRID_EXPORT,),
}


def _mean_prices(trade_log: Iterable[dict[str, np.ndarray]]) -> dict[str, float | None]:
    """Energy-weighted mean price of each trade group, in one pass over the log's entries.

    The log may be on disk (:class:`agents.run_log.RunLog` after ``spill_to``): only one
    part of it is in memory at a time. None where a group traded no energy.
    """
    n_kinds = len(TRADE_KINDS)
    value = np.zeros(n_kinds)  # sum of price x energy by trade kind, coins/kWh x Wh
    energy = np.zeros(n_kinds, np.int64)  # Wh by trade kind
    for entry in trade_log:
        kind, quantity_wh = entry["kind"], entry["quantity_wh"]
        value += np.bincount(kind, weights=entry["price"] * quantity_wh, minlength=n_kinds)
        energy += np.bincount(kind, weights=quantity_wh, minlength=n_kinds).astype(np.int64)
    by_group = {
        name: (float(value[list(kinds)].sum()), int(energy[list(kinds)].sum()))
        for name, kinds in _PRICE_GROUPS.items()
    }
    return {name: v / e if e else None for name, (v, e) in by_group.items()}
