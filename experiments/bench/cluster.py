"""A measured model of a run on a Ray cluster: ``python -m experiments.bench.cluster``.

This machine has two cores, so scaling beyond it is a **projection**, not a
measurement. What is measured here, in one process with the local runtime:

* the cost of each station area per step (``Area.decide`` + ``Area.settle``: agent
  physics, signed orders, local clearing, signing the area's payments) -- the work a
  Ray actor does;
* the driver's cost per step (everything else: cross-area clearing, grid settlement,
  chain admission and sealing, metrics), fitted as ``d0 + d1 x transactions`` over the
  measured steps;
* the bytes that cross between driver and actors per step (pickled decisions,
  settlement batches and signed transactions; Ray's serialisation is close to pickle's
  for these numpy-backed records).

The model for ``W`` workers holding ``A`` areas (round-robin, as ``RayRuntime`` does)::

    step(W) = driver(transactions) + max_w sum_{a in w} area_cost(a)
              + 2 round trips + bytes / bandwidth        (the driver's link)

Two scalings are projected: *strong* (this population on more workers: areas are split
finer, per-area cost shrinks in proportion) and *weak* (each worker keeps this run's
per-worker load, so population and transactions grow with ``W``). The driver verifies
every transaction, so its cost grows with the population; that sets the ceiling the
table shows. Latency and bandwidth are assumptions (``--rtt-ms``, ``--gbit-s``).
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from experiments.bench.common import make_config

WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class ClusterMeasurement:
    """What one local run measured (seconds per step unless said otherwise)."""

    households: int
    areas: int
    steps: int
    area_s: list[float]  # mean cost of each area per step
    driver_s: float  # mean driver cost per step
    driver_fixed_s: float  # d0 of driver = d0 + d1 * transactions
    driver_per_tx_s: float  # d1
    tx_per_step: float
    bytes_per_step: float
    step_s: float  # mean wall time of a whole step


def measure(households: int, areas: int, steps: int, seed: int = 42) -> ClusterMeasurement:
    """Run ``steps`` steps locally and time areas and driver separately."""
    from experiments.build import build

    cfg = make_config(
        f"population.size={households}",
        f"grid.n_areas={areas}",
        f"time.steps={steps}",
        f"seed={seed}",
        "output.agents_sample=0",
    )
    model = build(cfg)
    area_time = np.zeros(areas)
    wire_bytes = [0]
    for area in model.runtime.local_areas():
        _time_calls(area, area_time, wire_bytes)
    wall, driver, tx = np.zeros(steps), np.zeros(steps), []
    try:
        for k in range(steps):
            before = area_time.sum()
            start = time.perf_counter()
            model.step()
            wall[k] = time.perf_counter() - start
            driver[k] = wall[k] - (area_time.sum() - before)
            tx.append(model.metrics["transactions_submitted"])
    finally:
        model.runtime.close()
    tx_arr = np.array(tx, dtype=float)
    if np.ptp(tx_arr) > 0:
        d1, d0 = np.polyfit(tx_arr, driver, 1)
        d1, d0 = max(float(d1), 0.0), max(float(d0), 0.0)
    else:
        d1, d0 = float(driver.mean() / max(tx_arr.mean(), 1.0)), 0.0
    return ClusterMeasurement(
        households=households,
        areas=areas,
        steps=steps,
        area_s=(area_time / steps).tolist(),
        driver_s=float(driver.mean()),
        driver_fixed_s=d0,
        driver_per_tx_s=d1,
        tx_per_step=float(tx_arr.mean()),
        bytes_per_step=wire_bytes[0] / steps,
        step_s=float(wall.mean()),
    )


def _time_calls(area, totals: np.ndarray, wire_bytes: list[int]) -> None:
    """Wrap an area's ``decide``/``settle`` to add their time and payload sizes."""
    index = area.spec.area_id
    decide, settle = area.decide, area.settle

    def timed_decide(step):
        start = time.perf_counter()
        decision = decide(step)
        totals[index] += time.perf_counter() - start
        wire_bytes[0] += len(pickle.dumps(decision, protocol=5))
        return decision

    def timed_settle(batch):
        start = time.perf_counter()
        result = settle(batch)
        totals[index] += time.perf_counter() - start
        wire_bytes[0] += len(pickle.dumps(batch, protocol=5))
        wire_bytes[0] += len(pickle.dumps(result, protocol=5))
        return result

    area.decide, area.settle = timed_decide, timed_settle


def project(
    m: ClusterMeasurement,
    workers: Sequence[int] = WORKERS,
    rtt_ms: float = 0.5,
    gbit_s: float = 10.0,
) -> list[dict[str, float]]:
    """Projected seconds per step for each worker count (module docstring)."""
    per_area = float(np.mean(m.area_s))
    areas_total = per_area * m.areas  # all area work of this population, one step
    link = gbit_s * 1e9 / 8
    rows = []
    for w in workers:
        # Strong: this population split over w workers (at least one area each).
        strong_area = areas_total / w
        strong = m.driver_s + strong_area + 2 * rtt_ms / 1000 + m.bytes_per_step / link
        # Weak: each worker carries this run's whole area load; w times the population.
        tx = m.tx_per_step * w
        weak_driver = m.driver_fixed_s + m.driver_per_tx_s * tx
        weak = weak_driver + areas_total + 2 * rtt_ms / 1000 + m.bytes_per_step * w / link
        rows.append(
            {
                "workers": w,
                "strong_step_s": strong,
                "strong_speedup": (m.driver_s + areas_total) / strong,
                "weak_households": m.households * w,
                "weak_step_s": weak,
                "weak_efficiency": (m.driver_s + areas_total) / weak,
            }
        )
    return rows


def table(m: ClusterMeasurement, rows: list[dict[str, float]]) -> str:
    """The measurement and the projection as Markdown."""
    lines = [
        f"Measured here: {m.households} households in {m.areas} areas, {m.steps} steps; "
        f"per step {m.step_s * 1000:.1f} ms wall, areas {sum(m.area_s) * 1000:.1f} ms in "
        f"total ({np.mean(m.area_s) * 1000:.2f} ms each), driver {m.driver_s * 1000:.1f} ms "
        f"(= {m.driver_fixed_s * 1000:.2f} ms + {m.driver_per_tx_s * 1e6:.1f} us x "
        f"{m.tx_per_step:.0f} transactions), {m.bytes_per_step / 1e6:.2f} MB over the wire.",
        "",
        "| workers | strong: s/step | strong: speed-up | weak: households | weak: s/step "
        "| weak: efficiency |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['strong_step_s']:.4f} | {r['strong_speedup']:.2f} | "
            f"{r['weak_households']:,} | {r['weak_step_s']:.4f} | {r['weak_efficiency']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure here, project to a cluster, print the table (and write JSON)."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench.cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--households", type=int, default=4000)
    parser.add_argument("--areas", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="driver-actor round trip")
    parser.add_argument("--gbit-s", type=float, default=10.0, help="driver link bandwidth")
    parser.add_argument("--out", type=Path, help="write measurement and projection as JSON")
    args = parser.parse_args(argv)
    for name in ("households", "areas", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1 (got {getattr(args, name)})")
    m = measure(args.households, args.areas, args.steps)
    rows = project(m, rtt_ms=args.rtt_ms, gbit_s=args.gbit_s)
    print(table(m, rows))
    if args.out:
        from experiments.outputs import write_json

        payload: dict[str, Any] = {"measurement": asdict(m), "projection": rows}
        payload["assumptions"] = {"rtt_ms": args.rtt_ms, "gbit_s": args.gbit_s}
        write_json(args.out, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
