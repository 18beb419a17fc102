"""Tabulate and plot an attack sweep (``gridledger -m experiment=attack_sweep``).

Usage::

    python -m experiments.repro.attack_sweep MULTIRUN_DIR [--out DIR]

Prints Markdown tables (per job: market, chain, adversary share, attacks attempted,
rejected and accepted, honest households' cost, whether the ledger head equals the
same market and chain's head at share 0; per attack kind: attempted and rejected over
the sweep, and the typed errors that stopped them; per job with market adversaries:
breaches attempted and penalised, adversaries cut off, money and energy misallocated,
honest users' cost per user and its change against share 0) and saves
``attack_sweep.png`` (attempted vs rejected per kind and share) and
``market_attack_sweep.png`` (misallocated money, energy and honest users' cost vs
adversary share, one line per market and chain).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.analyze import job_dirs  # noqa: E402


def load_jobs(multirun_dir: Path) -> list[dict[str, Any]]:
    """The summary of every finished job, with its overrides."""
    jobs = []
    for job in job_dirs(multirun_dir):
        path = job / "summary.json"
        if path.is_file():
            jobs.append(json.loads(path.read_text()))
    return jobs


def job_table(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per job."""
    heads = {
        (s.get("market", "-"), s["consensus"], s["security"]["share"]): next(
            iter(s["ledger_head"].values())
        )
        for s in jobs
    }
    rows = []
    for s in sorted(jobs, key=_job_key):
        security = s["security"]
        attacks = security["attacks"].values()
        honest_head = heads.get((s.get("market", "-"), s["consensus"], 0.0))
        rows.append(
            {
                "market": s.get("market", "-"),
                "chain": s["consensus"],
                "share": security["share"],
                "adversarial_agents": security["adversarial_agents"],
                "attempted": sum(a["attempted"] for a in attacks),
                "rejected": sum(a["rejected"] for a in attacks),
                "accepted": sum(a["accepted"] for a in attacks),
                "committed_tx": s["counts"]["transactions"],
                "household_cost_coins": s["costs_coins"].get("household", {}).get("mean_cost"),
                "same_head_as_share_0": next(iter(s["ledger_head"].values())) == honest_head,
                "dr_messages": (security.get("dr_protocol") or {}).get("dr_messages", 0),
            }
        )
    return rows


def _job_key(s: dict[str, Any]) -> tuple:
    return (s.get("market", "-"), s["consensus"], s["security"]["share"])


def market_table(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per job with market figures (``security.market`` of summary.json).

    ``honest_cost_change`` is the honest users' mean cost per user minus that of the
    same market and chain at share 0 (coins over the run).
    """
    base = {
        (s.get("market", "-"), s["consensus"]): s["security"]["market"][
            "honest_cost_per_user_coins"
        ]
        for s in jobs
        if s["security"]["share"] == 0.0 and s["security"].get("market")
    }
    rows = []
    for s in sorted(jobs, key=_job_key):
        m = s["security"].get("market")
        if not m:
            continue
        per_user = m["honest_cost_per_user_coins"]
        reference = base.get((s.get("market", "-"), s["consensus"]))
        rows.append(
            {
                "market": s.get("market", "-"),
                "chain": s["consensus"],
                "share": s["security"]["share"],
                "adversaries": m["adversaries"],
                "breaches": m["breaches_attempted"],
                "penalised": m["breaches_penalised"],
                "cut_off": m["adversaries_cut_off"],
                "adv_credit_min": m["adversary_credit_min"] if m["adversaries"] else "-",
                "misallocated_coins": m["misallocated_coins"],
                "misallocated_kwh": m["misallocated_kwh"],
                "penalty_coins": m["penalty_coins"],
                "sybils_refused": f"{m['sybil_identities']['refused']}/"
                f"{m['sybil_identities']['attempted']}",
                "honest_cost_per_user": per_user,
                "honest_cost_change": per_user - reference if reference is not None else "-",
            }
        )
    return rows


def plot_market(rows: list[dict[str, Any]], path: Path) -> None:
    """Misallocated coins and kWh and honest users' cost vs share, per market and chain."""
    panels = (
        ("misallocated_coins", "money misallocated (coins)"),
        ("misallocated_kwh", "energy misallocated (kWh)"),
        ("honest_cost_per_user", "honest users' cost (coins per user)"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    lines = sorted({(r["market"], r["chain"]) for r in rows})
    for ax, (column, label) in zip(axes, panels, strict=True):
        for market, chain in lines:
            mine = [r for r in rows if (r["market"], r["chain"]) == (market, chain)]
            ax.plot(
                [r["share"] for r in mine], [r[column] for r in mine], "o-",
                label=f"{market} / {chain}",
            )  # fmt: skip
        ax.set_xlabel("adversary share")
        ax.set_ylabel(label)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def kind_table(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per attack kind, summed over the jobs."""
    kinds: dict[str, dict[str, Any]] = {}
    for s in jobs:
        for kind, counts in s["security"]["attacks"].items():
            row = kinds.setdefault(kind, {"attempted": 0, "rejected": 0, "errors": {}})
            row["attempted"] += counts["attempted"]
            row["rejected"] += counts["rejected"]
            for error, n in counts["errors"].items():
                row["errors"][error] = row["errors"].get(error, 0) + n
    return [
        {"kind": kind, "attempted": r["attempted"], "rejected": r["rejected"],
         "stopped_by": ", ".join(f"{e} ({n})" for e, n in sorted(r["errors"].items()))}
        for kind, r in kinds.items()
    ]  # fmt: skip


def validator_table(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per job with faulty validators: what the protocol kept or lost."""
    rows = []
    for s in jobs:
        v = s["security"]["validators"]
        if not v.get("faulty"):
            continue
        rows.append(
            {
                "chain": s["consensus"],
                "n": v["n_validators"],
                "f": v.get("fault_tolerance_f", "-"),
                "faulty": v["faulty"],
                "behaviour": v["behaviour"],
                "blocks": v.get("blocks", 0),
                "liveness_lost": v.get("liveness_lost", v.get("stalled", "-")),
                "safety_violations": v.get("safety_violations", "-"),
                "blocks_dropped": v.get("blocks_dropped", "-"),
            }
        )
    return sorted(rows, key=lambda r: (r["chain"], r["faulty"], r["behaviour"]))


def fork_rows(shares: tuple[float, ...], ks: tuple[int, ...], trials: int) -> list[dict]:
    """The PoW private-fork table: success probability vs attacker share and k."""
    from chain.attacks import fork_table

    rows = fork_table(shares, ks, trials, seed=1)
    return [
        {"attacker_share": r["attacker_share"], "k": r["confirmations"],
         "success_analytic": r["success_analytic"],
         "success_simulated": r["success_simulated"]}
        for r in rows
    ]  # fmt: skip


def markdown(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows``."""
    if not rows:
        return "(no finished jobs)"
    columns = list(rows[0])

    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def plot(jobs: list[dict[str, Any]], path: Path) -> None:
    """Attempted (bars) and rejected (dots) per attack kind, one panel per share."""
    shares = sorted({s["security"]["share"] for s in jobs})
    fig, axes = plt.subplots(1, len(shares), figsize=(5 * len(shares), 4), sharey=True)
    axes = [axes] if len(shares) == 1 else list(axes)
    for ax, share in zip(axes, shares, strict=True):
        totals: dict[str, list[int]] = {}
        for s in jobs:
            if s["security"]["share"] != share:
                continue
            for kind, c in s["security"]["attacks"].items():
                pair = totals.setdefault(kind, [0, 0])
                pair[0] += c["attempted"]
                pair[1] += c["rejected"]
        kinds = list(totals)
        ax.bar(kinds, [totals[k][0] for k in kinds], color="#bbb", label="attempted")
        ax.plot(kinds, [totals[k][1] for k in kinds], "o", color="#c00", label="rejected")
        ax.set_title(f"adversary share {share:.0%}")
        ax.set_yscale("symlog")
        ax.tick_params(axis="x", rotation=75)
    axes[0].set_ylabel("attacks over the sweep's chains")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="python -m experiments.repro.attack_sweep")
    parser.add_argument("multirun_dir", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--fork-table", action="store_true", help="print the PoW private-fork table instead"
    )
    parser.add_argument("--trials", type=int, default=20000, help="Monte Carlo trials per cell")
    args = parser.parse_args(argv)
    if args.fork_table:
        print(markdown(fork_rows((0.1, 0.2, 0.3, 0.4, 0.5), (1, 2, 4, 6, 10), args.trials)))
        return 0
    if args.multirun_dir is None:
        parser.error("a multirun folder is required (or --fork-table)")
    jobs = load_jobs(args.multirun_dir)
    if not jobs:
        print(f"attack_sweep: error: no finished job in {args.multirun_dir}", file=sys.stderr)
        return 2
    out = args.out or args.multirun_dir
    out.mkdir(parents=True, exist_ok=True)
    print(markdown(job_table(jobs)))
    print()
    kinds = kind_table(jobs)
    if kinds:
        print(markdown(kinds))
    validators = validator_table(jobs)
    if validators:
        print()
        print(markdown(validators))
    market_rows = market_table(jobs)
    if market_rows:
        print()
        print(markdown(market_rows))
        plot_market(market_rows, out / "market_attack_sweep.png")
        print(f"plot: {out / 'market_attack_sweep.png'}", file=sys.stderr)
    plot(jobs, out / "attack_sweep.png")
    print(f"\nplot: {out / 'attack_sweep.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
