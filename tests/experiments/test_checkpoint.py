"""Checkpoint and resume: an interrupted run resumed from its checkpoint ends exactly as an
uninterrupted one (same ledger head, same trades, same tables)."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from agents.model import GridModel
from experiments import checkpoint
from experiments import run as run_module
from experiments.build import build
from experiments.errors import ConfigError
from experiments.run import run_simulation
from tests.conftest import make_config

REPO = Path(__file__).resolve().parents[2]
BASE = ("time.steps=8", "population.size=24", "output.progress=false")
TABLES = ("model.parquet", "trades.parquet", "agents.parquet", "blocks.parquet",
          "transactions.parquet")  # fmt: skip


class Interrupted(Exception):
    """Stands for a killed job."""


def interrupt_after(monkeypatch, steps_done: int) -> None:
    """Make the run die at the start of step ``steps_done + 1`` (after ``steps_done`` steps)."""
    original = GridModel.step

    def step(self):
        if self.steps >= steps_done + 1:  # mesa has already counted the step being started
            raise Interrupted(f"killed at step {self.steps}")
        original(self)

    monkeypatch.setattr(GridModel, "step", step)


def uninterrupted(tmp_path, *overrides):
    run_dir = tmp_path / "straight"
    summary = run_simulation(make_config(*BASE, *overrides), run_dir)
    return run_dir, summary


def assert_same_results(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name))
    assert (a / "genesis.json").read_bytes() == (b / "genesis.json").read_bytes()
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for key in ("ledger_head", "counts", "energy_kwh", "costs_coins", "chain"):
        assert sa.get(key) == sb.get(key), key


def test_resume_after_a_kill_reaches_the_uninterrupted_head(tmp_path, monkeypatch):
    straight, summary = uninterrupted(tmp_path)
    run_dir = tmp_path / "resumed"
    cfg = make_config(*BASE, "checkpoint.every_steps=3")
    with monkeypatch.context() as patch:
        interrupt_after(patch, 5)
        with pytest.raises(Interrupted):
            run_simulation(cfg, run_dir)
    header = checkpoint.read_header(run_dir)
    assert header["steps_done"] == 3  # the checkpoint after step 6 was never reached
    assert not (run_dir / "summary.json").exists()
    resumed = run_simulation(make_config(*BASE, "checkpoint.every_steps=3", "resume=true"), run_dir)
    assert resumed["ledger_head"] == summary["ledger_head"]
    assert_same_results(straight, run_dir)
    assert not (run_dir / checkpoint.CHECKPOINT_FILE).exists()  # removed once complete


def test_resume_with_another_config_is_refused(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 4)
        with pytest.raises(Interrupted):
            run_simulation(make_config(*BASE, "checkpoint.every_steps=2"), run_dir)
    with pytest.raises(ConfigError, match="different config"):
        run_simulation(make_config(*BASE, "seed=7", "resume=true"), run_dir)
    # settings that do not change results may differ
    summary = run_simulation(make_config(*BASE, "resume=true", "debug.invariants=true"), run_dir)
    assert summary["counts"]["steps"] == 8


def test_config_hash_ignores_only_the_resume_settings():
    base = checkpoint.config_hash(make_config(*BASE))
    for same in ("resume=true", "checkpoint.every_steps=5", "output.progress=true"):
        assert checkpoint.config_hash(make_config(*BASE, same)) == base, same
    for other in ("seed=1", "market=uniform_price", "runtime=ray", "output.agents_sample=3"):
        assert checkpoint.config_hash(make_config(*BASE, other)) != base, other


def test_checkpoint_is_written_atomically_with_a_versioned_header(tmp_path):
    run_dir = tmp_path / "run"
    run_simulation(make_config(*BASE, "checkpoint.every_steps=4", "checkpoint.keep=true"), run_dir)
    header = checkpoint.read_header(run_dir)
    assert header["format"] == checkpoint.CHECKPOINT_FORMAT
    assert header["steps_done"] == 4  # the last step (8) completes the run instead
    # No temporary file left behind; .spill stays with a kept checkpoint (its log parts).
    hidden = [p.name for p in run_dir.iterdir() if p.name.startswith(".")]
    assert hidden == [".spill"]
    (run_dir / checkpoint.CHECKPOINT_FILE).write_bytes(pickle.dumps({"format": "other/9"}))
    with pytest.raises(ConfigError, match="has format 'other/9'"):
        checkpoint.read_header(run_dir)


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        (["resume=true"], "has no checkpoint.pkl"),
        (["checkpoint.every_steps=-1"], "checkpoint.every_steps must be an integer >= 0"),
        (["checkpoint.every_steps=two"], "checkpoint.every_steps"),
        (["resume=maybe"], "resume"),
        (["debug.invariants=sometimes"], "debug.invariants"),
    ],
)
def test_bad_checkpoint_settings_are_one_line_exit_2(
    overrides, fragment, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(sys, "argv", ["gridledger", *BASE, *overrides, "hydra.run.dir=out"])
    with pytest.raises(SystemExit) as stopped:
        run_module.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gridledger: error: ") and fragment in err[0], err
    assert not (tmp_path / "out").exists()


def test_cli_resume_with_a_different_config_exits_2_and_keeps_the_checkpoint(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "out"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        with pytest.raises(Interrupted):
            run_simulation(make_config(*BASE, "checkpoint.every_steps=2"), run_dir)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(
        sys, "argv", ["gridledger", *BASE, "population.size=30", "resume=true", "hydra.run.dir=out"]
    )
    with pytest.raises(SystemExit) as stopped:
        run_module.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different config" in err[0], err
    assert checkpoint.read_header(run_dir)["steps_done"] == 2


@pytest.mark.ray
@pytest.mark.slow
def test_resume_under_ray_matches_local(ray_session, tmp_path, monkeypatch):
    straight, summary = uninterrupted(tmp_path)
    run_dir = tmp_path / "ray"
    ray_cfg = ("runtime=ray", "runtime.num_workers=2", "grid.n_areas=3", "checkpoint.every_steps=3")
    with monkeypatch.context() as patch:
        interrupt_after(patch, 5)
        with pytest.raises(Interrupted):
            run_simulation(make_config(*BASE, *ray_cfg), run_dir)
    resumed = run_simulation(make_config(*BASE, *ray_cfg, "resume=true"), run_dir)
    local = run_simulation(make_config(*BASE, "grid.n_areas=3"), tmp_path / "local3")
    assert resumed["ledger_head"] == local["ledger_head"]
    assert_same_results(tmp_path / "local3", run_dir)
    assert summary["ledger_head"] != local["ledger_head"]  # 3 areas is another run


@pytest.mark.parametrize(
    "overrides",
    [
        ("grid=sce56", "grid.power_flow.engine=pandapower"),  # holds the pandapower module
        ("chain=pow",),
        ("chain=hybrid", "chain.n_validators=5"),
        ("simulation.agent_path=per_agent",),
    ],
    ids=lambda o: o[0],
)
def test_resume_reaches_the_same_head_with_other_plug_ins(tmp_path, overrides):
    cfg = make_config("time.steps=6", "population.size=16", *overrides)
    straight = build(cfg)
    straight.run()
    interrupted = build(cfg)
    for _ in range(4):
        interrupted.step()
    cfg_hash = checkpoint.config_hash(cfg)
    checkpoint.write_checkpoint(interrupted, tmp_path, cfg_hash)
    resumed = checkpoint.resume(build(cfg), tmp_path, cfg_hash)
    assert resumed.steps == 4
    resumed.run()
    assert resumed.chain.head_hash == straight.chain.head_hash
    assert resumed.chain.ledger.height == straight.chain.ledger.height


@pytest.mark.slow
def test_sigkilled_process_resumes_to_the_uninterrupted_head(tmp_path):
    """A real kill: the gridledger process gets SIGKILL once a checkpoint is on disk."""
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    args = ["population.size=200", "time.steps=48", "output.progress=false"]
    command = [sys.executable, "-m", "experiments.run", *args, "checkpoint.every_steps=4"]

    def gridledger(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    straight = gridledger("hydra.run.dir=straight")
    assert straight.returncode == 0, straight.stderr
    process = subprocess.Popen([*command, "hydra.run.dir=killed"], cwd=tmp_path, env=env)
    saved = tmp_path / "killed" / checkpoint.CHECKPOINT_FILE
    deadline = time.monotonic() + 300
    while not saved.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    steps_done = checkpoint.read_header(tmp_path / "killed")["steps_done"]
    assert 4 <= steps_done < 48
    assert not (tmp_path / "killed" / "summary.json").exists()
    resumed = gridledger("hydra.run.dir=killed", "resume=true")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_results(tmp_path / "straight", tmp_path / "killed")
