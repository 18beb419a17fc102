"""Sweeps: jobs isolated from each other, failures recorded, the batch analysed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from experiments.analyze import main as analyze
from experiments.report import fit_exponent
from tests.experiments.test_cli import gridledger

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two markets x two sizes plus one impossible size, in one process."""
    root = tmp_path_factory.mktemp("sweep")
    result = gridledger(
        "-m",
        "population.size=4,-1,8",
        "market=sorted_pairing,grid_only",
        "time.steps=24",
        "output.agents_sample=5",
        "hydra.sweep.dir=sw",
        cwd=root,
    )
    return root / "sw", result


def test_failed_job_leaves_the_others_intact(sweep):
    sweep_dir, result = sweep
    assert result.returncode == 1, result.stderr
    assert "2 job(s) failed" in result.stderr
    summaries = sorted(sweep_dir.glob("*/summary.json"))
    errors = sorted(sweep_dir.glob("*/error.json"))
    assert len(summaries) == 4 and len(errors) == 2
    error = json.loads(errors[0].read_text())
    assert error["config_error"] is True
    assert "population.size" in error["message"]


def test_analyze_builds_table_plots_and_report(sweep, tmp_path):
    sweep_dir, _ = sweep
    assert analyze([str(sweep_dir), "--out", str(tmp_path), "--per-step", "--no-progress"]) == 0
    table = pd.read_parquet(tmp_path / "results.parquet")
    assert len(table) == 6
    assert sorted(table.status.value_counts().items()) == [("failed", 2), ("ok", 4)]
    ok = table[table.status == "ok"]
    assert set(ok["override.market"]) == {"sorted_pairing", "grid_only"}
    assert (ok["counts.households"] == ok["override.population.size"]).all()
    assert (ok.loc[ok.market == "grid_only", "p2p_kwh"] == 0).all()
    assert pd.read_csv(tmp_path / "results.csv").shape[0] == 6
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    assert len(steps) == 4 * 24
    for name in ("scaling.png", "market.png", "chain.png", "day.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    report = (tmp_path / "report.md").read_text()
    assert "![" in report and "Jobs without results" in report
    assert report.count("| ok |") == 4


def test_jobs_in_one_process_do_not_leak_state(tmp_path):
    result = gridledger(
        "-m", "seed=3,4,3", "population.size=6", "time.steps=6", "hydra.sweep.dir=sw", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    heads = [
        json.loads((tmp_path / "sw" / str(job) / "summary.json").read_text())["ledger_head"]["main"]
        for job in range(3)
    ]
    assert heads[0] == heads[2] != heads[1]


def test_joblib_launcher_runs_jobs_in_parallel_processes(tmp_path):
    result = gridledger(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "population.size=4,8",
        "time.steps=4",
        "hydra.sweep.dir=sw",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "sw").glob("*/summary.json"))) == 2


def test_analyze_rejects_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert analyze([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gridledger-analyze: error:")


def test_fit_exponent_recovers_a_power_law():
    x = np.array([10.0, 100.0, 1000.0])
    assert fit_exponent(x, 3 * x**1.5) == pytest.approx(1.5)
    assert np.isnan(fit_exponent(np.array([5.0, 5.0]), np.array([1.0, 2.0])))
