"""Seed 004 (CE-SDT): community cost and grid usage vs share of generating users.

Run: ``gridledger -m experiment=ce_sdt`` (a sweep of the share of households with PV,
0-100 %, at two community sizes); after the last job the Hydra callback writes the
figures and ``replication.md`` into the sweep folder. ``python -m
experiments.repro.ce_sdt SWEEP_DIR`` redoes the report from a finished sweep.

The paper (§4.2, Fig. 10) reports daily cost as a share of the cost in a traditional
power system: at 50 % generating users, consumers pay 60.2 %, prosumers 19.6 % and all
users 43.1 %; above 30 % consumers pay 68.3 %; at 70 % prosumers earn money and
consumers pay 44.7 %. Figs 6-9: the power each user needs from the system stays
stable as users are added, while the grid's share falls at midday; more generating
users lower both from 9 AM.

We read the paper's baseline, "the original cost" in "a traditional power system", as
each household's whole load bought from the grid at the retail tariff (no PV, no
storage, no market): it is the only reading under which prosumers' cost can be a
positive share (19.6 %) and also turn negative (earning money at 70 %). Each run
records it per household (``costs_coins.<class>.load_cost_ratio``). Feed-in is 10
c/kWh as in the paper; its Australian hourly prices (Table 2) and NSW profiles are
replaced by our time-of-use tariff and BDEW / pvlib profiles. Each prosumer has 5 kW
of PV and a 5 kWh battery (§4.1).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analyze import NotAMultirun, collect, job_dirs
from experiments.repro.common import figure, save_figure
from experiments.repro.replication import Comparison, write_replication

SHARE = "override.population.pv_share"
SIZE = "override.population.size"
RATIO = "costs_coins.{}.load_cost_ratio"
WHY = "NSW profiles and Australian hourly prices replaced by BDEW/pvlib and our ToU tariff"


def _table(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    table, steps = collect(sweep_dir, per_step=True, progress=False)
    ok = table[table["status"] == "ok"].copy()
    if SHARE not in ok or ok.empty:
        raise NotAMultirun(f"{sweep_dir} holds no finished jobs that sweep population.pv_share")
    if SIZE not in ok:
        ok[SIZE] = ok["counts.households"]
    return ok, steps


def _ratio(ok: pd.DataFrame, size: int, share: float, who: str) -> float:
    row = ok[(ok[SIZE] == size) & np.isclose(ok[SHARE], share)]
    column = RATIO.format(who)
    if row.empty or column not in row or pd.isna(row[column].iloc[0]):
        return float("nan")
    return 100.0 * float(row[column].iloc[0])


def report(directory: Path, quick: bool = False) -> Path:
    """Figures and ``replication.md`` of a finished ``experiment=ce_sdt`` sweep."""
    del quick  # the sweep's size is set by the preset's (or the user's) sweep
    ok, steps = _table(directory)
    size = int(ok[SIZE].max())
    at = ok[ok[SIZE] == size].sort_values(SHARE)
    consumers = at[RATIO.format("household_consumer")].to_numpy(dtype=float)
    consumers = consumers[~np.isnan(consumers)]
    falls = bool(len(consumers) > 1 and np.all(np.diff(consumers) <= 0.02))
    prosumer_cost = at.set_index(SHARE)["costs_coins.household_prosumer.mean_cost"]
    earn = prosumer_cost[np.isclose(prosumer_cost.index, 0.7)]
    midday = _midday_grid_per_user(ok, steps, share=0.3)
    prosumers = at[RATIO.format("household_prosumer")].to_numpy(dtype=float)
    prosumers = prosumers[~np.isnan(prosumers)]
    half = at[np.isclose(at[SHARE], 0.5)]
    energy = (
        f"our prosumers are net exporters: {_per_user(half, 'pv_kwh', 0.5):.1f} kWh/day of PV "
        f"each against {_per_user(half, 'load_kwh', 1.0):.1f} kWh/day of load per household"
    )
    rows = [
        Comparison("consumers' cost at 50 % generating users, % of the traditional cost", 60.2,
                   _ratio(ok, size, 0.5, "household_consumer"), tolerance=0.3, why=WHY),
        Comparison("prosumers' cost at 50 %, % of the traditional cost", 19.6,
                   _ratio(ok, size, 0.5, "household_prosumer"), tolerance=0.5, why=energy),
        Comparison("all users' cost at 50 %, % of the traditional cost", 43.1,
                   _ratio(ok, size, 0.5, "household"), tolerance=0.3, why=energy),
        Comparison("consumers' cost at 30 %, % of the traditional cost", 68.3,
                   _ratio(ok, size, 0.3, "household_consumer"), tolerance=0.3, why=WHY),
        Comparison("consumers' cost at 70 %, % of the traditional cost", 44.7,
                   _ratio(ok, size, 0.7, "household_consumer"), tolerance=0.3, why=WHY),
        Comparison("prosumers earn money at 70 % (mean daily cost, coins)", "below 0",
                   float(earn.iloc[0]) if len(earn) else float("nan"), tolerance=None,
                   holds=bool(len(earn) and earn.iloc[0] < 0), why=WHY),
        Comparison("consumers' cost falls as the share rises (Fig. 10)", "falls",
                   100.0 * float(consumers[-1]) if len(consumers) else float("nan"),
                   tolerance=None,
                   holds=falls, why="ours: last share with consumers; 2 points of noise allowed"),
        Comparison("prosumers' cost falls as the share rises (Fig. 10)", "falls",
                   100.0 * float(prosumers[-1]) if len(prosumers) else float("nan"),
                   tolerance=None,
                   holds=bool(len(prosumers) > 1 and np.all(np.diff(prosumers) <= 0.02)),
                   why="more sellers compete for fewer buyers, so P2P prices fall toward "
                   "feed-in and each prosumer earns less; ours: the ratio at 100 %"),
        Comparison("grid import per user at midday falls with more users (Fig. 7), kWh",
                   "falls", midday[1], tolerance=None, holds=bool(midday[1] <= midday[0] + 1e-9),
                   why=f"{midday[2]} vs {midday[3]} households at 30 % PV, 11 AM-3 PM"),
    ]  # fmt: skip
    figures = _plots(directory, ok, steps, size)
    inputs = (
        f"A sweep of {len(ok)} finished jobs: share of households with 5 kW PV and a 5 kWh "
        f"battery {sorted(float(v) for v in ok[SHARE].unique())}, community sizes "
        f"{sorted(int(v) for v in ok[SIZE].unique())} "
        "(cost rows use the larger). " + WHY + ". Numbers come from the sweep's runs."
    )
    return write_replication(
        directory / "replication.md", "seed 004 (CE-SDT)", inputs, rows, figures
    )


def _per_user(rows: pd.DataFrame, key: str, share: float) -> float:
    """Day energy ``key`` per household (``share``: the fraction that has it)."""
    if rows.empty:
        return float("nan")
    users = float(rows[SIZE].iloc[0]) * share
    return float(rows[f"energy_kwh.{key}"].iloc[0]) / users if users else float("nan")


def _job_of(ok: pd.DataFrame, size: int, share: float) -> str | None:
    row = ok[(ok[SIZE] == size) & np.isclose(ok[SHARE], share)]
    return None if row.empty else str(row["job"].iloc[0])


def _hourly(steps: pd.DataFrame, job: str | None, column: str) -> pd.Series:
    if job is None or steps is None:
        return pd.Series(dtype=float)
    frame = steps[steps["job"] == job]
    return frame.groupby(frame["hour"].astype(int))[column].sum()


def _midday_grid_per_user(ok, steps, share: float) -> tuple[float, float, int, int]:
    """Grid import per household, 11 AM-3 PM, at the smallest and largest size."""
    sizes = sorted(int(s) for s in ok[SIZE].unique())
    values = []
    for size in (sizes[0], sizes[-1]):
        hourly = _hourly(steps, _job_of(ok, size, share), "grid_import_kwh")
        values.append(float(hourly.loc[11:14].sum() / size) if len(hourly) else float("nan"))
    return values[0], values[1], sizes[0], sizes[-1]


def _plots(directory: Path, ok: pd.DataFrame, steps: pd.DataFrame, size: int) -> list[str]:
    names = []
    at = ok[ok[SIZE] == size].sort_values(SHARE)
    fig, (ax,) = figure()
    for who, label in (
        ("household_consumer", "consumers"),
        ("household_prosumer", "prosumers"),
        ("household", "all users"),
    ):
        column = RATIO.format(who)
        if column in at:
            ax.plot(100 * at[SHARE], 100 * at[column], marker="o", label=label)
    ax.axhline(100, color="k", linewidth=0.8, linestyle="--")
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set(xlabel="households with PV, %", ylabel="cost, % of whole load at the tariff",
           title=f"Daily cost vs generating users (Fig. 10), {size} households")  # fmt: skip
    ax.legend()
    names.append(save_figure(fig, directory / "cost_vs_share.png"))
    fig, (ax1, ax2) = figure(2)
    for share in sorted(at[SHARE].unique())[::2]:
        job = _job_of(ok, size, share)
        need = _hourly(steps, job, "p2p_local_kwh") + _hourly(steps, job, "p2p_cross_kwh")
        grid = _hourly(steps, job, "grid_import_kwh")
        ax1.plot((need + grid) / size, label=f"{100 * share:.0f} %")
        ax2.plot(grid / size, label=f"{100 * share:.0f} %")
    ax1.set(xlabel="hour", ylabel="kWh per user", title="What users need from the system (Fig. 8)")
    ax2.set(xlabel="hour", ylabel="kWh per user", title="What the grid provides (Fig. 9)")
    ax2.legend(title="with PV", fontsize=8)
    names.append(save_figure(fig, directory / "usage_vs_share.png"))
    fig, (ax1, ax2) = figure(2)
    for n in sorted(int(s) for s in ok[SIZE].unique()):
        job = _job_of(ok, n, 0.5)
        need = _hourly(steps, job, "p2p_local_kwh") + _hourly(steps, job, "p2p_cross_kwh")
        grid = _hourly(steps, job, "grid_import_kwh")
        ax1.plot((need + grid) / n, label=f"{n} users")
        ax2.plot(grid / n, label=f"{n} users")
    ax1.set(xlabel="hour", ylabel="kWh per user", title="User need vs users (Fig. 6)")
    ax2.set(xlabel="hour", ylabel="kWh per user", title="Grid usage vs users (Fig. 7)")
    ax2.legend(fontsize=8)
    names.append(save_figure(fig, directory / "usage_vs_users.png"))
    return names


def main(argv: list[str] | None = None) -> int:
    """Rewrite the report of a finished sweep: ``python -m experiments.repro.ce_sdt DIR``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.repro.ce_sdt")
    parser.add_argument("sweep_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        job_dirs(args.sweep_dir)
        path = report(args.sweep_dir)
    except NotAMultirun as error:
        print(f"ce_sdt: error: {error}")
        return 2
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
