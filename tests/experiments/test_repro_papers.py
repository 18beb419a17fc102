"""Paper presets load_trading (seed 002) and dual_chain (seed 003): runs and their reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.repro import dual_chain, load_trading
from experiments.repro.callback import PAPERS, Replicate
from experiments.run import run_simulation
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
# Eight 3-hour steps: a whole day (PV, trading, the evening peak) in a few seconds.
TINY = ("time.steps=8", "time.step_minutes=180", "output.progress=false")


def _run(tmp_path: Path, name: str, *extra: str) -> Path:
    directory = tmp_path / "_".join([name, *extra]).replace("=", "-")
    directory.mkdir()
    run_simulation(make_config(f"experiment={name}", *TINY, *extra), directory)
    return directory


def _row(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if key in line)


def test_both_presets_are_registered_papers():
    assert {"load_trading", "dual_chain"} <= set(PAPERS)
    assert Replicate("load_trading", quick=True).paper == "load_trading"


def test_load_trading_preset_composes_the_papers_setting():
    cfg = make_config("experiment=load_trading")
    assert "two_level" in cfg.market._target_ and "hybrid" in cfg.chain._target_.lower()
    assert cfg.chain.layout == "sharded" and cfg.chain.cross == "partial"


def test_dual_chain_preset_composes_the_papers_setting():
    cfg = make_config("experiment=dual_chain")
    assert cfg.chain.layout == "dual" and cfg.grid.pv_placement == "seed003"
    assert cfg.population.renewable_providers_per_area == 1
    assert cfg.population.battery_share_of_pv == 1.0


def test_load_trading_report_numbers_come_from_the_run(tmp_path):
    first = _run(tmp_path, "load_trading")
    text = load_trading.report(first, quick=True).read_text()
    for name in ("time_cost.png", "storage.png", "time_vs_nodes.png", "credit.png"):
        assert (first / name).stat().st_size > 1000
    # Storage of a normal node is 1/s of a cross-node's (Fig. 10), exactly up to headers.
    assert "| 50 | 50 | 0 | within 5% | yes |" in _row(text, "storage, %, s = 2")
    assert "| yes |" in _row(text, "+2 (kept) and -4 (broken)")
    assert "(§6.2.2)" in text and "(§6.2.1)" in text
    # Another seed draws other users and keep/break outcomes: the day's rows change.
    rows = {}
    for directory in (first, _run(tmp_path, "load_trading", "seed=7")):
        summary = json.loads((directory / "summary.json").read_text())
        agents = pd.read_parquet(directory / "agents.parquet")
        rows[directory] = [row.ours for row in load_trading.credit_rows(summary, agents)]
    assert rows[first] != list(rows.values())[1]
    assert f"{rows[first][3]:.4g}" in _row(text, "mean user credit")


def test_dual_chain_report_numbers_come_from_the_run(tmp_path):
    first = _run(tmp_path, "dual_chain")
    text = dual_chain.report(first, quick=True).read_text()
    for name in ("operations.png", "load_battery.png", "deficiency.png", "load_cost.png"):
        assert (first / name).stat().st_size > 1000
    assert "| yes |" in _row(text, "daily demand on the grid")
    assert "| yes |" in _row(text, "daily electricity cost")
    other = _run(tmp_path, "dual_chain", "seed=7")
    again = dual_chain.report(other, quick=True).read_text()
    assert _row(text, "daily electricity cost") != _row(again, "daily electricity cost")


def test_dual_chain_hourly_before_and_after_by_hand():
    model = pd.DataFrame(
        {
            "step": [0, 1],
            "hour": [10.0, 10.5],
            "tariff_coins_per_kwh": [0.2, 0.3],
            "load_kwh": [3.0, 4.0],
            "battery_charge_kwh": [0.0, 0.0],
            "battery_discharge_kwh": [0.0, 1.0],
            "provider_generation_kwh": [5.0, 5.0],
            "grid_import_kwh": [1.0, 2.0],
            "p2p_local_kwh": [2.0, 0.0],
            "p2p_cross_kwh": [0.0, 0.0],
            "market_local_letb_wh": [500.0, 0.0],
            "market_local_retb_wh": [1500.0, 0.0],
        }
    )
    trades = pd.DataFrame(
        {
            "step": [0, 0, 0, 1],
            "kind": ["grid_import", "p2p_local", "grid_export", "grid_import"],
            "quantity_wh": [1000, 2000, 700, 2000],
            "amount_micro": [200_000, 240_000, 70_000, 600_000],
        }
    )
    day = dual_chain.hourly(model, trades)
    hour = day.loc[10]
    assert hour["demand_kwh"] == pytest.approx(5.0)  # 1 + 2 bought in step 0, 2 in step 1
    assert hour["deficiency_kwh"] == pytest.approx(4.5)  # demand minus 0.5 kWh on LETB
    assert hour["retb_kwh"] == pytest.approx(1.5)
    # before: 3 kWh at 0.2 + 2 kWh at 0.3; after: 0.2 + 0.24 + 0.6 coins (exports excluded).
    assert hour["cost_before"] == pytest.approx(1.2)
    assert hour["cost_after"] == pytest.approx(1.04)
    assert day.loc[11, "demand_kwh"] == 0.0


def test_load_trading_credit_rows_by_hand():
    agents = pd.DataFrame(
        {
            "step": [0, 1, 2, 0, 1, 2],
            "agent": [1, 1, 1, 2, 2, 2],
            "kind": ["household"] * 6,
            "credit": [102.0, 98.0, 104.0, 60.0, 48.0, 48.0],
            "incentive_points": [1.0, 2.0, 3.0, 0.0, 0.0, 0.0],
        }
    )
    summary = {"overrides": [], "market_diagnostics": {"agents": {"agents_cut_off": 1}}}
    rows = {row.quantity: row for row in load_trading.credit_rows(summary, agents)}
    cut = rows["users whose credit fell below 50 and were cut off (Punish)"]
    assert cut.ours == 1 and cut.agrees is True
    assert rows["a cut-off user's credit stays frozen (no more contracts)"].agrees is True
    even = rows["credit updates are sums of +2 (kept) and -4 (broken): share of even changes"]
    assert even.ours == 1.0 and even.agrees is True
    assert rows["mean user credit at the end of the day (start 100)"].ours == 76.0
    points = rows["power incentive points per user (mean; users who delivered)"]
    assert points.ours == pytest.approx(1.5)
    # A credit change that +2 / -4 cannot produce, or an uncounted cut-off, is flagged.
    agents.loc[1, "credit"] = 97.0
    summary["market_diagnostics"]["agents"]["agents_cut_off"] = 0
    rows = {row.quantity: row for row in load_trading.credit_rows(summary, agents)}
    assert rows["users whose credit fell below 50 and were cut off (Punish)"].agrees is False
    assert not rows[even.quantity].agrees
    assert np.isclose(rows[even.quantity].ours, 3 / 5)  # changes 2, -5, 7, -40, -12


@pytest.mark.slow
def test_dual_chain_preset_command_writes_its_report(tmp_path):
    """`gridledger experiment=dual_chain`: the Hydra callback writes the report."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "experiments.run", "experiment=dual_chain", *TINY,
         "hydra.callbacks.replicate.quick=true", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "replication.md").is_file()
    assert (tmp_path / "run" / "load_cost.png").is_file()
