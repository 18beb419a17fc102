"""The market mechanism's diagnostics per step (model.parquet) and per day (summary.json).

Each step every area's local clearing and the driver's cross-area clearing return
``ClearingResult.diagnostics``. Per step they become columns ``market_local_<key>``
(the areas combined) and ``market_cross_<key>``; an area's extensive figures (energy,
counts, welfare, costs) are summed over the areas, its intensive ones (prices,
iterations, ratios, means; :data:`INTENSIVE`) averaged. Over the day every column is
summarised by its total, mean and maximum over the steps, in ``summary.json`` under
``"market"`` together with the agents' market state at the end of the day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

INTENSIVE = frozenset(
    {
        "mean_price",
        "iterations",
        "converged",
        "min_demand_scale",
        "par",
        "par_uncoordinated",
        "generations",
        "converged_generation",
        "price_now_cents",
        "price_cap_cents",
        "schedule_feasible",
        "mean_credit",
        "mean_reputation",
        "clearing_price",
        "marginal_bid",
        "marginal_ask",
    }
)
"""Diagnostics averaged (not summed) over the areas of a step."""


def combine_areas(diagnostics: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """One step's local diagnostics of all areas as one dict (sum, or mean for intensive)."""
    keys: list[str] = []
    for diag in diagnostics:
        keys.extend(k for k in diag if k not in keys)
    out = {}
    for key in keys:
        values = [float(d[key]) for d in diagnostics if key in d]
        out[key] = float(np.mean(values)) if key in INTENSIVE else float(np.sum(values))
    return out


class MarketMetrics:
    """Collects the step columns and summarises them over the run."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self._values: dict[str, list[float]] = {}

    def step(
        self, local: Sequence[Mapping[str, float]], cross: Mapping[str, float]
    ) -> dict[str, float]:
        """This step's ``market_*`` columns (new names are appended to :attr:`columns`)."""
        row = {f"market_local_{k}": v for k, v in combine_areas(local).items()}
        row.update({f"market_cross_{k}": float(v) for k, v in cross.items()})
        for name, value in row.items():
            if name not in self._values:
                self.columns.append(name)
                self._values[name] = []
            self._values[name].append(value)
        return row

    def summary(self) -> dict[str, dict[str, float]]:
        """Per column: ``total``, ``mean`` and ``max`` over the steps it was reported."""
        out = {}
        for name in self.columns:
            values = np.array([v for v in self._values[name] if math.isfinite(v)])
            if not len(values):
                continue
            out[name.removeprefix("market_")] = {
                "total": float(values.sum()),
                "mean": float(values.mean()),
                "max": float(values.max()),
            }
        return out


def state_summary(states: Sequence, initial_credit: float) -> dict[str, float]:
    """The agents' market state at the end of the run (all areas together).

    Args:
        states: Every area's :class:`agents.state.MarketState`.
        initial_credit: The credit every agent started with.
    """
    credit = np.concatenate([s.credit for s in states])
    reputation = np.concatenate([s.reputation for s in states])
    changed = credit != initial_credit
    return {
        "credit_mean": float(credit.mean()) if len(credit) else 0.0,
        "credit_min": float(credit.min()) if len(credit) else 0.0,
        "credit_max": float(credit.max()) if len(credit) else 0.0,
        "agents_with_changed_credit": int(changed.sum()),
        "agents_cut_off": int(sum(int(s.cut_off.sum()) for s in states)),
        "reputation_mean": float(reputation.mean()) if len(reputation) else 0.0,
        "reputation_min": float(reputation.min()) if len(reputation) else 0.0,
        "reputation_max": float(reputation.max()) if len(reputation) else 0.0,
        "incentive_points": float(sum(s.incentive_points.sum() for s in states)),
        "penalties_paid_coins": float(sum(s.penalty_micro.sum() for s in states)) / 1e6,
        "incentives_received_coins": float(sum(s.incentive_micro.sum() for s in states)) / 1e6,
    }
