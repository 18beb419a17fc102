"""The console entry point: a run from any directory, and bad input stopped at the door."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def gridledger(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    # Use the installed package when there is one; fall back to the source tree.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    return subprocess.run(
        [sys.executable, "-m", "experiments.run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_default_run_from_another_directory(tmp_path):
    result = gridledger("population.size=8", "time.steps=4", "hydra.run.dir=out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["steps"] == 4
    assert "ledger head" in result.stdout


@pytest.mark.parametrize(
    "override,key",
    [
        ("population.size=-5", "population.size"),
        ("time.step_minutes=0", "time.step_minutes"),
        ("market=nosuch", "market=nosuch"),
        ("chain=nosuch", "chain=nosuch"),
        (
            "population.households.battery_capacity_kwh=-1",
            "population.households.battery_capacity_kwh",
        ),
        ("chain.n_validators=1000", "chain.n_validators"),
        ("population.size=abc", "population.size"),
        ("market.price_rule=best", "market.price_rule"),
        ("population.bogus=1", "population.bogus"),
        ("chain.block_period_s=0", "chain.block_period_s"),
        ("population.pv_share=1.5", "population.pv_share"),
        ("grid.n_areas=0", "grid.n_areas"),
        ("seed=-3", "seed"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, override, key):
    result = gridledger(override, "hydra.run.dir=out", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gridledger: error: ")
    assert key in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.slow
def test_multirun_sweep_writes_one_run_per_job(tmp_path):
    result = gridledger(
        "-m", "population.size=4,8", "time.steps=2", "hydra.sweep.dir=sweep", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    sizes = sorted(
        json.loads(p.read_text())["counts"]["households"]
        for p in (tmp_path / "sweep").glob("*/summary.json")
    )
    assert sizes == [4, 8]


def test_installed_console_scripts_run_and_verify(tmp_path):
    """`pip install .` must give working `gridledger` and `gridledger-verify` anywhere."""
    bin_dir = Path(sys.executable).parent
    run, verify = bin_dir / "gridledger", bin_dir / "gridledger-verify"
    if not (run.exists() and verify.exists()):
        pytest.skip("console scripts not installed in this environment")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    done = subprocess.run(
        [str(run), "experiment=quick", "hydra.run.dir=run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    checked = subprocess.run(
        [str(verify), "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ledger OK" in checked.stdout
