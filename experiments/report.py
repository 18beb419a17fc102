"""Plots and ``report.md`` for an analysed sweep (see :mod:`experiments.analyze`)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.outputs import atomic_write  # noqa: E402

HOUSEHOLDS = "counts.households"


def write_report(table: pd.DataFrame, multirun_dir: Path, out: Path) -> list[Path]:
    """Draw the sweep's plots into ``out`` and write ``report.md`` embedding them."""
    ok = table[table["status"] == "ok"].copy()
    if len(ok):
        ok["label"] = _labels(ok)
    figures = []
    exponents: dict[str, float] = {}
    if len(ok) and HOUSEHOLDS in ok:
        exponents = _plot_scaling(ok, out / "scaling.png")
        figures.append(("Wall time and memory vs population", "scaling.png"))
        _plot_market(ok, out / "market.png")
        figures.append(("P2P share and household cost vs population", "market.png"))
        if _column(ok, "throughput_tx_per_s") is not None:
            _plot_chain(ok, out / "chain.png")
            figures.append(("Chain throughput and latency", "chain.png"))
        if _plot_day(ok, multirun_dir, out / "day.png"):
            figures.append(("Price and grid import over the day, per market", "day.png"))
    text = _report_text(table, ok, multirun_dir, figures, exponents)
    atomic_write(out / "report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return [out / name for _, name in figures] + [out / "report.md"]


def _labels(ok: pd.DataFrame) -> pd.Series:
    """Group label per job: the categorical choices that vary across the sweep."""
    keys = [k for k in ("market", "consensus", "runtime") if k in ok]
    varying = [k for k in keys if ok[k].nunique() > 1] or keys[:1]
    return ok[varying].astype(str).agg(" / ".join, axis=1)


def _column(frame: pd.DataFrame, suffix: str) -> pd.Series | None:
    """The first ``chain.<id>.<suffix>`` column (chains are keyed by their id)."""
    pattern = re.compile(rf"^chain\.[^.]+\.{re.escape(suffix)}$")
    columns = [c for c in frame.columns if pattern.match(c)]
    return frame[columns[0]] if columns else None


def fit_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Slope of log y against log x (the scaling exponent); NaN below two distinct x."""
    mask = (x > 0) & (y > 0)
    if len(np.unique(x[mask])) < 2:
        return math.nan
    slope, _ = np.polyfit(np.log(x[mask]), np.log(y[mask]), 1)
    return float(slope)


def _plot_scaling(ok: pd.DataFrame, path: Path) -> dict[str, float]:
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    exponents = {}
    for label, group in ok.groupby("label"):
        group = group.sort_values(HOUSEHOLDS)
        x = group[HOUSEHOLDS].to_numpy(float)
        y = group["wall_time_s.total"].to_numpy(float)
        exponent = fit_exponent(x, y)
        exponents[label] = exponent
        tag = f"{label} (slope {exponent:.2f})" if np.isfinite(exponent) else label
        ax_time.plot(x, y, "o-", label=tag)
        if "peak_rss_bytes" in group:
            ax_mem.plot(x, group["peak_rss_bytes"] / 2**20, "o-", label=label)
    for ax, ylabel in ((ax_time, "wall time per run [s]"), (ax_mem, "peak memory [MiB]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("households")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax_time.set_title("Simulation cost (log-log, fitted exponent)")
    ax_mem.set_title("Peak resident memory of the job's process")
    _save(fig, path)
    return exponents


def _plot_market(ok: pd.DataFrame, path: Path) -> None:
    fig, (ax_share, ax_cost) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, group in ok.groupby("label"):
        group = group.sort_values(HOUSEHOLDS)
        x = group[HOUSEHOLDS]
        ax_share.plot(x, 100 * group["p2p_share_of_purchases"], "o-", label=label)
        if "costs_coins.household.mean_cost" in group:
            line = ax_cost.plot(x, group["costs_coins.household.mean_cost"], "o-", label=label)
            ax_cost.plot(
                x,
                group["costs_coins.household.mean_grid_only_cost"],
                "--",
                color=line[0].get_color(),
                alpha=0.6,
                label=f"{label}: grid only",
            )
    ax_share.set_ylabel("P2P share of purchased energy [%]")
    ax_cost.set_ylabel("mean household cost per run [coins]")
    for ax in (ax_share, ax_cost):
        ax.set_xscale("log")
        ax.set_xlabel("households")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path)


def _plot_chain(ok: pd.DataFrame, path: Path) -> None:
    throughput = _column(ok, "throughput_tx_per_s")
    latency = _column(ok, "confirmation_latency_mean_ms")
    frame = ok.assign(_throughput=throughput, _latency=latency)
    x_keys = [HOUSEHOLDS] + (["counts.validators"] if ok["counts.validators"].nunique() > 1 else [])
    fig, axes = plt.subplots(len(x_keys), 2, figsize=(11, 4.2 * len(x_keys)), squeeze=False)
    for row, x_key in enumerate(x_keys):
        for label, group in frame.groupby("label"):
            group = group.sort_values(x_key)
            axes[row, 0].plot(group[x_key], group["_throughput"], "o-", label=label)
            axes[row, 1].plot(group[x_key], group["_latency"] / 1000, "o-", label=label)
        for col, ylabel in enumerate(
            ("throughput [tx per simulated s]", "mean confirmation latency [s]")
        ):
            ax = axes[row, col]
            ax.set_xlabel(x_key.split(".")[-1])
            ax.set_ylabel(ylabel)
            if x_key == HOUSEHOLDS:
                ax.set_xscale("log")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    _save(fig, path)


def _plot_day(ok: pd.DataFrame, multirun_dir: Path, path: Path) -> bool:
    frames = []
    for _, row in ok.iterrows():
        model_path = multirun_dir / row["job"] / "model.parquet"
        if model_path.is_file():
            steps = pd.read_parquet(model_path)
            steps["grid_import_per_household_kwh"] = steps["grid_import_kwh"] / max(
                row[HOUSEHOLDS], 1
            )
            steps["market"] = row.get("market", row["label"])
            frames.append(steps)
    if not frames:
        return False
    day = pd.concat(frames, ignore_index=True)
    mean = (
        day.groupby(["market", "hour"])
        .agg(
            price=("p2p_mean_price_coins_per_kwh", "mean"),
            tariff=("tariff_coins_per_kwh", "mean"),
            feed_in=("feed_in_coins_per_kwh", "mean"),
            grid_import=("grid_import_per_household_kwh", "mean"),
        )
        .reset_index()
    )
    fig, (ax_price, ax_grid) = plt.subplots(1, 2, figsize=(11, 4.2))
    first = mean[mean.market == mean.market.iloc[0]]
    ax_price.step(first.hour, first.tariff, where="mid", color="k", lw=1, label="retail tariff")
    ax_price.step(
        first.hour, first.feed_in, where="mid", color="grey", lw=1, ls="--", label="feed-in tariff"
    )
    for market, group in mean.groupby("market"):
        if group.price.notna().any():
            ax_price.plot(group.hour, group.price, ".-", label=f"{market}: P2P price")
        ax_grid.plot(group.hour, group.grid_import, "-", label=market)
    ax_price.set_ylabel("price [coins/kWh]")
    ax_grid.set_ylabel("grid import per household per step [kWh]")
    for ax in (ax_price, ax_grid):
        ax.set_xlabel("hour of day")
        ax.set_xlim(0, 24)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path)
    return True


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


HEADLINE = [
    ("job", "job"),
    ("status", "status"),
    ("market", "market"),
    ("consensus", "chain"),
    ("runtime", "runtime"),
    (HOUSEHOLDS, "households"),
    ("p2p_share_of_purchases", "P2P share"),
    ("costs_coins.household.cost_ratio", "household cost / grid-only"),
    ("counts.transactions", "transactions"),
    ("counts.blocks", "blocks"),
    ("wall_time_s.total", "wall s"),
]


def _report_text(table, ok, multirun_dir, figures, exponents) -> str:
    lines = [f"# Sweep report: `{multirun_dir}`", ""]
    counts = table["status"].value_counts().to_dict()
    lines.append(f"{len(table)} jobs: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
    lines += ["", "## Headline numbers", ""]
    columns = [(key, name) for key, name in HEADLINE if key in table]
    lines.append("| " + " | ".join(name for _, name in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(_cell(row.get(key)) for key, _ in columns) + " |")
    if exponents:
        lines += ["", "Fitted scaling exponents of wall time vs households (log-log slope):", ""]
        lines += [
            f"- {label}: {value:.2f}"
            if np.isfinite(value)
            else f"- {label}: needs two or more population sizes"
            for label, value in exponents.items()
        ]
    failed = table[table["status"] != "ok"]
    if len(failed):
        lines += ["", "## Jobs without results", ""]
        lines += [
            f"- `{row['job']}` ({row['status']}): {row.get('error')}"
            for _, row in failed.iterrows()
        ]
    for title, name in figures:
        lines += ["", f"## {title}", "", f"![{title}]({name})"]
    lines += ["", "The full table is in `results.parquet` / `results.csv`.", ""]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
