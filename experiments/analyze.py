"""The ``gridledger-analyze`` command: a Hydra multirun folder -> one table, plots, report.

Usage::

    gridledger-analyze multirun/2026-11-22/10-00-00 [--per-step] [--out DIR]

Every job directory (one with ``.hydra/overrides.yaml``) becomes one row of
``results.parquet``/``results.csv``: its overrides (``override.<key>`` columns), its
status (``ok``, ``failed`` with the error from ``error.json``, or ``incomplete``) and
its flattened ``summary.json``. ``--per-step`` also joins every job's
``model.parquet`` into ``steps.parquet``. Plots and ``report.md`` go to ``--out``
(default: the multirun folder itself).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from tqdm import tqdm

from experiments.outputs import atomic_write, write_parquet


class NotAMultirun(Exception):
    """The folder holds no Hydra job directories."""


def job_dirs(multirun_dir: Path) -> list[Path]:
    """Job directories below ``multirun_dir`` (they hold ``.hydra/overrides.yaml``)."""
    if not multirun_dir.is_dir():
        raise NotAMultirun(f"{multirun_dir} is not a directory")
    jobs = sorted(
        (p.parent.parent for p in multirun_dir.glob("**/.hydra/overrides.yaml")), key=_job_sort_key
    )
    if not jobs:
        raise NotAMultirun(
            f"{multirun_dir} holds no Hydra job directories "
            "(folders with .hydra/overrides.yaml); pass a multirun folder"
        )
    return jobs


def _job_sort_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in path.parts)


def read_job(job_dir: Path, root: Path) -> dict[str, Any]:
    """One row: overrides, status and the flattened summary of a job."""
    overrides = yaml.safe_load((job_dir / ".hydra" / "overrides.yaml").read_text()) or []
    row: dict[str, Any] = {"job": str(job_dir.relative_to(root)) if job_dir != root else "."}
    for override in overrides:
        key, _, value = override.partition("=")
        row[f"override.{key.lstrip('+~')}"] = _parse_value(value)
    summary_path, error_path = job_dir / "summary.json", job_dir / "error.json"
    if summary_path.is_file():
        row["status"] = "ok"
        summary = json.loads(summary_path.read_text())
        summary.pop("overrides", None)
        row.update(pd.json_normalize(summary, sep=".").iloc[0].to_dict())
    elif error_path.is_file():
        error = json.loads(error_path.read_text())
        row.update(status="failed", error=f"{error.get('error')}: {error.get('message')}")
    else:
        row.update(status="incomplete", error="no summary.json (job still running or killed)")
    return row


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def collect(
    multirun_dir: Path, *, per_step: bool = False, progress: bool | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read every job of a sweep into one table (and optionally the per-step table)."""
    jobs = job_dirs(multirun_dir)
    if progress is None:
        progress = sys.stderr.isatty()
    rows, steps = [], []
    for job in tqdm(jobs, desc="reading jobs", unit="job", disable=not progress):
        row = read_job(job, multirun_dir)
        rows.append(row)
        if per_step and row["status"] == "ok" and (job / "model.parquet").is_file():
            frame = pd.read_parquet(job / "model.parquet")
            frame.insert(0, "job", row["job"])
            steps.append(frame)
    table = pd.DataFrame(rows)
    return table, (pd.concat(steps, ignore_index=True) if steps else None)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(
        prog="gridledger-analyze",
        description="Join a gridledger sweep into one table, plots and a report.",
    )
    parser.add_argument("multirun_dir", type=Path, help="a Hydra multirun folder")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the table, plots and report (default: the folder)",
    )
    parser.add_argument(
        "--per-step",
        action="store_true",
        help="also join every job's model.parquet into steps.parquet",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        table, steps = collect(
            args.multirun_dir, per_step=args.per_step, progress=False if args.no_progress else None
        )
    except NotAMultirun as error:
        print(f"gridledger-analyze: error: {error}", file=sys.stderr)
        return 2
    out = args.out or args.multirun_dir
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / "results.parquet", _parquet_safe(table))
    atomic_write(out / "results.csv", lambda tmp: table.to_csv(tmp, index=False))
    if steps is not None:
        write_parquet(out / "steps.parquet", steps)
    if not args.no_plots:
        from experiments.report import write_report

        write_report(table, args.multirun_dir, out)
    counts = table["status"].value_counts().to_dict()
    statuses = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"gridledger-analyze: {len(table)} jobs ({statuses}); results in {out}")
    for _, row in table[table.status != "ok"].iterrows():
        print(f"  {row['status']}: {row['job']}: {row.get('error')}")
    return 0


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed types (e.g. an override swept over ints and strings) as strings."""
    safe = table.copy()
    for column in safe.columns:
        kinds = {type(v) for v in safe[column].dropna()}
        if len(kinds) > 1 and not kinds <= {int, float}:
            safe[column] = safe[column].map(lambda v: None if v is None else str(v))
    return safe


if __name__ == "__main__":
    sys.exit(main())
