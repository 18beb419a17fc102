"""Per-run accounting of the market adversaries (:mod:`agents.market_adversary`).

:class:`MarketSecurity` registers the market sybils with the certificate
authority, and each step sums the wrapper's breach diagnostics over the local and
cross-area clearings, tracks the adversaries' credit and cut-off from the areas'
:class:`agents.state.MarketState`, and adds up the honest users' cost: coins paid
for energy (peers and grid, so a victim's grid top-up is in it) and transfers minus
coins received. These become
``market_adv_*`` and ``honest_cost_coins`` columns of model.parquet and
``security.market`` in summary.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.market_adversary import BREACH_KEYS, MarketAdversaries
from chain.authority import RegistrationRefused
from chain.keys import Identity


class MarketSecurity:
    """Tallies of the market adversaries of one run.

    Args:
        adversaries: Who misbehaves.
        n_holders: Wallet holders (global ids ``1..n_holders``; 0 is the grid operator).
        cut_off_credit: The market's cut-off credit, if it has one (two_level: 50).
    """

    def __init__(
        self, adversaries: MarketAdversaries, n_holders: int, cut_off_credit: float | None
    ) -> None:
        self.adversaries = adversaries
        self.cut_off_credit = cut_off_credit
        self.is_adversary = np.zeros(n_holders + 1, dtype=bool)
        self.is_adversary[adversaries.agents] = True
        self.n_honest = int(n_holders - len(adversaries.agents))
        self.totals = dict.fromkeys(BREACH_KEYS, 0.0)
        self.honest_cost_micro = 0
        self.sybil = {"attempted": 0, "refused": 0, "registered": 0}
        self.credit = np.zeros(len(adversaries.agents))
        self.cut_off = np.zeros(len(adversaries.agents), dtype=bool)
        self.cut_off_step = np.full(len(adversaries.agents), -1, dtype=np.int64)
        self.credit_trace: list[float] = []

    def register_sybils(self, authority: Any, run_seed: int, identities: int) -> None:
        """Each market sybil asks for ``identities`` more identities; count the refusals."""
        for agent in self.adversaries.sybils.tolist():
            for k in range(identities):
                key = Identity.derive(run_seed, f"market-sybil/{agent}/{k}").public_hex
                self.sybil["attempted"] += 1
                try:
                    authority.register(
                        f"market-sybil/{agent}/{k}", "user", key, entity=f"agent/{agent}"
                    )
                except RegistrationRefused:
                    self.sybil["refused"] += 1
                else:
                    self.sybil["registered"] += 1

    def observe(
        self,
        step: int,
        diagnostics: Sequence[Mapping[str, float]],
        trades: Any,
        amount_micro: np.ndarray,
        transfers: Any,
        credit_by_agent: np.ndarray | None,
        cut_off_by_agent: np.ndarray | None,
    ) -> None:
        """Add one step: breach diagnostics, honest cost, adversaries' credit.

        Args:
            step: The step.
            diagnostics: Every clearing's diagnostics of the step (areas, cross round).
            trades: All trades of the step (P2P and grid) with ``amount_micro`` each.
            amount_micro: Payment of each trade (micro-coins).
            transfers: The step's market transfers (penalties, incentives).
            credit_by_agent: Credit per global id after the step (None: not tracked).
            cut_off_by_agent: Cut-off flag per global id after the step.
        """
        for diag in diagnostics:
            for key in BREACH_KEYS:
                self.totals[key] += float(diag.get(key, 0.0))
        honest = ~self.is_adversary
        honest[0] = False  # the grid operator is not a user
        amount = np.asarray(amount_micro, dtype=np.int64)
        cost = int(amount[honest[trades.buyer]].sum()) - int(amount[honest[trades.seller]].sum())
        t_amount = transfers.amount_micro.astype(np.int64)
        cost += int(t_amount[honest[transfers.payer]].sum())
        cost -= int(t_amount[honest[transfers.payee]].sum())
        self.honest_cost_micro += cost
        agents = self.adversaries.agents
        if credit_by_agent is not None and len(agents):
            self.credit = np.asarray(credit_by_agent, dtype=float)[agents]
            now = np.asarray(cut_off_by_agent, dtype=bool)[agents]
            self.cut_off_step[now & ~self.cut_off] = step
            self.cut_off = now
            self.credit_trace.append(float(self.credit.min()))

    def metric_keys(self) -> list[str]:
        """model.parquet columns."""
        keys = [f"market_{k}" for k in BREACH_KEYS]
        return [*keys, "market_adv_cut_off", "market_adv_credit_min", "honest_cost_coins"]

    def metrics(self) -> dict[str, float]:
        """Cumulative values so far."""
        row = {f"market_{k}": v for k, v in self.totals.items()}
        row["market_adv_cut_off"] = float(self.cut_off.sum())
        row["market_adv_credit_min"] = float(self.credit.min()) if len(self.credit) else np.nan
        row["honest_cost_coins"] = self.honest_cost_micro / 1e6
        return row

    def summary(self) -> dict[str, Any]:
        """``security.market`` of summary.json."""
        adv, t = self.adversaries, self.totals
        breaches = int(t["adv_breaches"])
        honest_cost = self.honest_cost_micro / 1e6
        return {
            "adversaries": len(adv.agents),
            "contract_breakers": len(adv.breakers),
            "surplus_liars": len(adv.liars),
            "lie_factor": adv.lie_factor,
            "breach_delivery_fraction": adv.delivery_fraction,
            "breaches_attempted": breaches,
            "breaches_penalised": int(t["adv_penalised"]),
            "adversaries_cut_off": int(self.cut_off.sum()),
            "cut_off_credit": self.cut_off_credit,
            "cut_off_steps": [int(s) for s in self.cut_off_step if s >= 0],
            "adversary_credit_min": float(self.credit.min()) if len(self.credit) else None,
            "adversary_credit": [round(float(c), 6) for c in self.credit],
            "misallocated_coins": t["adv_misallocated_coins"],
            "misallocated_kwh": t["adv_undelivered_wh"] / 1000.0,
            "penalty_coins": t["adv_penalty_coins"],
            "honest_users": self.n_honest,
            "honest_cost_coins": honest_cost,
            "honest_cost_per_user_coins": honest_cost / self.n_honest if self.n_honest else 0.0,
            "sybil_identities": dict(self.sybil),
        }
