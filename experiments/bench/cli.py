"""``gridledger-bench``: run the benchmark scenarios of issue 6 and report the figures."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from experiments.bench.agent_step import bench_agent_step
from experiments.bench.chain_validation import bench_chain_validation
from experiments.bench.clearing import bench_clearing
from experiments.bench.common import load_average, machine
from experiments.bench.day import bench_days, bench_ray
from experiments.bench.plan import QUICK, TINY, BenchPlan, full_plan
from experiments.bench.report import figures, missing_keys, table

SCENARIOS = ("agent_step", "clearing", "chain", "days", "ray")


def _scenarios(plan: BenchPlan) -> dict[str, Callable[[], Any]]:
    return {
        "agent_step": lambda: bench_agent_step(plan.agent_step_households, plan.agent_step_repeats),
        "clearing": lambda: bench_clearing(
            plan.clearing_sizes, plan.clearing_repeats, plan.clearing_budget_s
        ),
        "chain": lambda: bench_chain_validation(plan.chain_transactions, plan.chain_repeats),
        "days": lambda: bench_days(
            plan.day_steps, plan.day_unsigned_orders_at, plan.net_settlement_days
        ),
        "ray": lambda: bench_ray(plan.ray_households, plan.ray_steps, plan.ray_workers),
    }


def run_benchmark(plan: BenchPlan, only: Sequence[str] = SCENARIOS, log=print) -> dict[str, Any]:
    """Run the scenarios of ``plan`` named in ``only``, in order, in this process.

    A scenario that fails is reported under ``errors`` and the others still run.

    Returns:
        The benchmark JSON: required figures, ratios, targets, notes, details.
    """
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    load: dict[str, list[float]] = {}
    for name, scenario in _scenarios(plan).items():
        if name not in only:
            continue
        log(f"[bench] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        load_before = load_average()
        try:
            details[name] = scenario()
        except Exception as error:  # noqa: BLE001 - reported, the other scenarios still run
            errors[name] = "".join(traceback.format_exception_only(error)).strip()
            log(f"[bench] {name} failed: {errors[name]}", file=sys.stderr, flush=True)
        seconds[name] = time.perf_counter() - start
        load[name] = [load_before, load_average()]
        log(f"[bench] {name} took {seconds[name]:.1f} s", file=sys.stderr, flush=True)
    result = figures(details)
    result.update(
        {
            "plan": plan.name,
            "machine": machine(),
            "scenario_seconds": seconds,
            "load_average_1min_before_after": load,
            "errors": errors,
            "details": details,
        }
    )
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridledger-bench",
        description="Benchmark the gridledger simulator (issue 6): agent step, clearing, "
        "chain validation, a simulated day vs population, Ray speed-up and peak memory.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, about two minutes")
    size.add_argument("--tiny", action="store_true", help="toy sizes for tests (seconds)")
    parser.add_argument(
        "--max-agents",
        type=int,
        default=100_000,
        help="full run: largest population in households (1e3..1e6, default 1e5)",
    )
    parser.add_argument(
        "--day-steps",
        type=int,
        default=None,
        help="full run: steps actually run for days above 1e4 households (scaled to 96)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default all: {','.join(SCENARIOS)})",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns 0 when every required figure was measured."""
    parser = _parser()
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        parser.error(f"--only: unknown scenario(s) {unknown}; allowed: {', '.join(SCENARIOS)}")
    if args.tiny:
        plan = TINY
    elif args.quick:
        plan = QUICK
    else:
        try:
            plan = full_plan(args.max_agents, args.day_steps)
        except ValueError as error:
            parser.error(str(error))
    start = time.perf_counter()
    result = run_benchmark(plan, only)
    result["elapsed_s"] = time.perf_counter() - start
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"({plan.name} run, {result['elapsed_s']:.0f} s)")
    missing = missing_keys(result) if set(only) == set(SCENARIOS) else []
    if missing or result["errors"]:
        print(f"missing figures: {', '.join(missing) or 'none'}", file=sys.stderr)
        return 1
    return 0
