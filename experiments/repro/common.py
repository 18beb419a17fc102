"""What every reproduction shares: the command line, figures and the run's summary."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.outputs import atomic_write  # noqa: E402


def save_figure(fig: Any, path: Path) -> str:
    """Save ``fig`` as PNG atomically; return the file name (for the report)."""
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path.name


def figure(ncols: int = 1, width: float = 5.5, height: float = 3.8):
    """A new figure with ``ncols`` side-by-side axes."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def read_summaries(directory: Path) -> list[dict[str, Any]]:
    """``summary.json`` of a run directory, or of every job of a multirun directory."""
    direct = directory / "summary.json"
    if direct.is_file():
        return [json.loads(direct.read_text())]
    found = []
    for job in sorted(directory.iterdir(), key=lambda p: (len(p.name), p.name)):
        path = job / "summary.json"
        if job.is_dir() and path.is_file():
            found.append(json.loads(path.read_text()))
    return found


def day_section(summary: dict[str, Any], figures: dict[str, tuple[str, str]]) -> str:
    """A Markdown section on the simulated day: trades and chosen mechanism figures.

    Args:
        summary: The run's ``summary.json``.
        figures: Label -> (diagnostic name, statistic) read from
            ``summary["market_diagnostics"]["diagnostics"]`` (statistic: total, mean, max).
    """
    diagnostics = (summary.get("market_diagnostics") or {}).get("diagnostics", {})
    lines = [
        "",
        "## The simulated day",
        "",
        f"`market={summary['market']}`, `chain={summary['consensus']}`, "
        f"{summary['counts']['households']} households, {summary['counts']['evs']} EVs, "
        f"{summary['counts']['providers']} providers, {summary['counts']['steps']} steps: "
        f"{summary['counts']['trades']} trades, P2P share of purchases "
        f"{summary['p2p_share_of_purchases']:.3f}.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for label, (name, statistic) in figures.items():
        value = diagnostics.get(name, {}).get(statistic)
        lines.append(f"| {label} | {'-' if value is None else f'{value:.4g}'} |")
    return "\n".join(lines) + "\n"


def cli(name: str, doc: str, study: Callable[[Path, bool, int], Path]) -> Callable:
    """A ``main(argv)`` for ``python -m experiments.repro.<name>``."""

    def main(argv: list[str] | None = None) -> int:
        prog = f"python -m experiments.repro.{name}"
        parser = argparse.ArgumentParser(prog=prog, description=doc)
        parser.add_argument("--out", type=Path, default=Path(f"repro-{name}"), help="output folder")
        parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the random instances")
        args = parser.parse_args(argv)
        if args.seed < 0:
            parser.error(f"--seed must be >= 0 (got {args.seed})")
        args.out.mkdir(parents=True, exist_ok=True)
        report = study(args.out, args.quick, args.seed)
        print(report.read_text(encoding="utf-8"))
        print(f"written: {report}")
        return 0

    return main
