"""The child process of the day scenarios: ``python -m experiments.bench.child``.

Runs one measurement (a local day, the same day on Ray at several worker counts, or the
import baseline) in a fresh process and prints it as one JSON line; see
:mod:`experiments.bench.day` for what is measured and how the parent uses it. Kept out
of the package's imports so that ``-m`` runs it exactly once.
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from experiments.bench.common import DAY_STEPS, cores, make_config, peak_rss_bytes
from experiments.bench.day import SIGNATURE_SAMPLE, day_overrides


def _sample_messages(model, blocks_read: int = 40) -> list[bytes]:
    """Canonical bytes of up to ``SIGNATURE_SAMPLE`` payments spread over the day.

    Taken evenly from at most ``blocks_read`` blocks spread over the chain, read by
    index: sealed blocks live in the spill file, and reading every one back would cost
    more than the day at 1e6 households.
    """
    blocks = model.chain.blocks
    last = len(blocks) - 1
    picks = sorted({round(i * last / max(1, blocks_read - 1)) for i in range(blocks_read)})
    per_block = -(-SIGNATURE_SAMPLE // len(picks))
    messages: list[bytes] = []
    for index in picks if len(blocks) else ():
        transactions = blocks[index].transactions
        stride = max(1, len(transactions) // per_block)
        messages.extend(stx.tx.canonical() for stx in transactions[::stride][:per_block])
    return messages[:SIGNATURE_SAMPLE]


def _run_model(cfg) -> tuple[Any, float, float, float]:
    """Build and run ``cfg``: the model, build wall s, run wall s, run CPU s (this process)."""
    from experiments.build import build

    start = time.perf_counter()
    model = build(cfg)
    # As in a real run (experiments.run): logs and sealed blocks leave memory as they go.
    spill = tempfile.mkdtemp(prefix="gridledger-bench-spill-")
    atexit.register(shutil.rmtree, spill, True)
    model.spill_to(spill)
    built = time.perf_counter()
    cpu = time.process_time()
    model.run()
    return model, built - start, time.perf_counter() - built, time.process_time() - cpu


def child_day(
    households: int,
    steps: int,
    sign_orders: bool = True,
    threads: int | None = None,
    settlement_period: int = 0,
) -> dict[str, Any]:
    """Run one local day in this process and measure it (the child's work).

    ``threads``: ``runtime.threads`` of the local runtime (None: the default, one per core).
    ``settlement_period``: steps per net-settlement window (0: one payment per trade).
    """
    from experiments.bench.signatures import floor_signature_cost

    extra = () if threads is None else (f"runtime.threads={threads}",)
    overrides = day_overrides(households, steps, sign_orders, settlement_period)
    cfg = make_config(*overrides, *extra)
    model, build_s, run_s, cpu_s = _run_model(cfg)
    peak = peak_rss_bytes()
    cost, by_primitive = floor_signature_cost(_sample_messages(model))
    return {
        "households": households,
        "agents": len(model.agent_kind),
        "steps": steps,
        "build_s": build_s,
        "run_s": run_s,
        "run_cpu_s": cpu_s,
        "payments": int(model.totals["transactions_submitted"]),
        "orders": int(model.totals["orders"]),
        "orders_signed": bool(cfg.simulation.sign_orders),
        "threads": model.runtime.n_threads,
        "settlement_period_steps": settlement_period,
        "trades": int(model.totals["trades"]),
        "blocks": int(model.chain.ledger.height),
        "ledger_head": model.chain.head_hash,
        "sign_s": cost.sign_s,
        "verify_s": cost.verify_s,
        "sign_cpu_s": cost.sign_cpu_s,
        "verify_cpu_s": cost.verify_cpu_s,
        # The floor takes the faster primitive per operation; both as measured:
        "signature_primitives": {
            name: {"sign_s": c.sign_s, "verify_s": c.verify_s} for name, c in by_primitive.items()
        },
        "peak_rss_bytes": peak,
    }


def child_ray(households: int, steps: int, workers: Sequence[int]) -> dict[str, Any]:
    """Run the same day on Ray once per worker count (Ray started once, 2 CPUs)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=cores(), include_dashboard=False, log_to_driver=False)
    runs = {}
    for count in workers:
        cfg = make_config(
            *day_overrides(households, steps), "runtime=ray", f"runtime.num_workers={count}"
        )
        model, build_s, run_s, cpu_s = _run_model(cfg)
        runs[str(count)] = {
            "build_s": build_s,
            "run_s": run_s,
            "driver_cpu_s": cpu_s,
            "payments": int(model.totals["transactions_submitted"]),
            "ledger_head": model.chain.head_hash,
        }
        model.runtime.close()
    ray.shutdown()
    return {"households": households, "steps": steps, "runs": runs}


def child_baseline() -> dict[str, Any]:
    """Peak RSS of a process that loaded everything a day needs but built nothing."""
    import agents.model  # noqa: F401 - loaded for its memory, like a day would
    import experiments.bench.signatures  # noqa: F401
    import experiments.build  # noqa: F401

    make_config(*day_overrides(100, DAY_STEPS))
    return {"peak_rss_bytes": peak_rss_bytes()}


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: run one measurement and print it as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.child")
    parser.add_argument("--households", type=int, default=100)
    parser.add_argument("--steps", type=int, default=DAY_STEPS)
    parser.add_argument("--ray-workers", default=None, help="comma-separated worker counts")
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--unsigned-orders", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="runtime.threads (local)")
    parser.add_argument(
        "--settlement-period", type=int, default=0, help="net settlement window, steps (0: off)"
    )
    args = parser.parse_args(argv)
    if args.baseline:
        result = child_baseline()
    elif args.ray_workers:
        workers = [int(w) for w in args.ray_workers.split(",")]
        result = child_ray(args.households, args.steps, workers)
    else:
        result = child_day(
            args.households,
            args.steps,
            not args.unsigned_orders,
            args.threads,
            args.settlement_period,
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
