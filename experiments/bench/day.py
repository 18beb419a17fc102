"""Scenarios 4-6: a simulated day vs population, on Ray with 1..n workers, and peak memory.

Each day runs in a fresh child process (``python -m experiments.bench.child``) so that its
peak resident set size (``VmHWM``) belongs to that day alone; a baseline child that
imports the same modules and composes the config but builds nothing gives the fixed
cost to subtract. The child builds the model through the real config (default market
and chain, every order and every cleared payment signed and verified,
``output.agents_sample=100``), times :meth:`GridModel.run` (all steps plus sealing what
is left in the mempool; building is timed apart), and then measures the per-signature
sign and verify times on a sample of the day's own payment transactions, in the same
process right after the day, for the signature floor.

A day of fewer than 96 steps covers the same 24 hours with longer steps
(``time.step_minutes = 1440 / steps``): every agent still posts about one order and the
market clears about one payment per agent per step, so the cost of a 96-step day is the
measured cost times ``96 / steps``. Figures so scaled are labelled with the steps that
were actually run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from experiments.bench.common import DAY_STEPS, child_env, cores

SIGNATURE_SAMPLE = 1000
SAMPLE_AGENTS = 100
SEED = 42


def day_overrides(
    households: int, steps: int, sign_orders: bool = True, settlement_period: int = 0
) -> list[str]:
    """Config overrides of a benchmark day of ``households`` households in ``steps`` steps.

    ``settlement_period`` > 0 settles net positions every that many steps
    (``settlement.mode=net``); 0 keeps one payment per trade.

    Raises:
        ValueError: If ``steps`` does not divide 96 (the day must stay 24 hours long).
    """
    if steps < 1 or DAY_STEPS % steps:
        raise ValueError(f"steps must divide {DAY_STEPS} (got {steps})")
    net = (
        ["settlement.mode=net", f"settlement.period_steps={settlement_period}"]
        if settlement_period
        else []
    )
    return [
        *net,
        f"population.size={households}",
        f"time.steps={steps}",
        f"time.step_minutes={1440 // steps}",
        f"output.agents_sample={SAMPLE_AGENTS}",
        "output.progress=false",
        f"simulation.sign_orders={str(sign_orders).lower()}",
        f"seed={SEED}",
    ]


def run_child(*args: str) -> dict[str, Any]:
    """Run ``python -m experiments.bench.child ARGS`` and return its JSON result.

    Raises:
        RuntimeError: If the child fails (with the end of its stderr).
    """
    result = subprocess.run(
        [sys.executable, "-m", "experiments.bench.child", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"day child {' '.join(args)} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _scaled(day: dict[str, Any], baseline: int) -> dict[str, Any]:
    """Add the 96-step figures, the signature floors and memory per agent to a child day."""
    households, steps = day["households"], day["steps"]
    scale = DAY_STEPS / steps
    per_payment = day["sign_s"] + day["verify_s"]
    day["scale_to_96_steps"] = scale
    day["day_wall_s"] = day["run_s"] * scale
    day["day_cpu_s"] = day["run_cpu_s"] * scale
    per_payment_cpu = day["sign_cpu_s"] + day["verify_cpu_s"]
    day["day_signature_floor_cpu_s"] = day["payments"] * scale * per_payment_cpu / cores()
    day["day_signature_floor_s"] = day["payments"] * scale * per_payment / cores()
    signed = day["payments"] + (day["orders"] if day["orders_signed"] else 0)
    day["day_signature_floor_with_orders_s"] = signed * scale * per_payment / cores()
    day["wall_over_floor"] = day["day_wall_s"] / day["day_signature_floor_s"]
    day["wall_s_per_household"] = day["day_wall_s"] / households
    day["peak_rss_bytes_per_agent"] = (day["peak_rss_bytes"] - baseline) / day["agents"]
    return day


def bench_days(
    populations: dict[int, int],
    unsigned_orders_at: Sequence[int] = (),
    net_settlement: dict[int, int] | None = None,
) -> dict[str, Any]:
    """Scenarios 4 and 6: a day per population (``households -> steps run``).

    Args:
        populations: Households -> steps actually run.
        unsigned_orders_at: Populations (of ``populations``) to run a second time with
            ``simulation.sign_orders=false``: what the day costs when only payments are
            signed, as the issue allows for large runs.
        net_settlement: Households -> settlement window (steps) of a whole 96-step day
            in net settlement mode with unsigned orders; its floor counts the
            transactions actually signed (net payments, clearing transfers, payouts).

    Returns:
        Per population: the child's measurements plus the day wall and signature floor
        scaled to 96 steps; the baseline RSS and bytes per agent; the unsigned-order days.
    """
    baseline = run_child("--baseline")["peak_rss_bytes"]
    days: dict[str, Any] = {}
    unsigned: dict[str, Any] = {}
    for households, steps in sorted(populations.items()):
        args = ("--households", str(households), "--steps", str(steps))
        days[str(households)] = _scaled(run_child(*args), baseline)
        if households in unsigned_orders_at:
            unsigned[str(households)] = _scaled(run_child(*args, "--unsigned-orders"), baseline)
    net: dict[str, Any] = {}
    for households, period in sorted((net_settlement or {}).items()):
        args = ("--households", str(households), "--steps", str(DAY_STEPS))
        day = run_child(*args, "--unsigned-orders", "--settlement-period", str(period))
        net[str(households)] = _scaled(day, baseline)
    return {
        "baseline_peak_rss_bytes": baseline,
        "cores": cores(),
        "days": days,
        "days_unsigned_orders": unsigned,
        "days_net_settlement": net,
    }


def bench_ray(households: int, steps: int, workers: Sequence[int]) -> dict[str, Any]:
    """Scenario 5: the day on Ray at each worker count; speed-ups against 1 worker."""
    result = run_child(
        "--households",
        str(households),
        "--steps",
        str(steps),
        "--ray-workers",
        ",".join(str(w) for w in workers),
    )
    runs = result["runs"]
    one = runs[str(min(workers))]["run_s"]
    result["speedup"] = {count: one / run["run_s"] for count, run in runs.items()}
    result["identical_ledger_heads"] = len({run["ledger_head"] for run in runs.values()}) == 1
    return result
