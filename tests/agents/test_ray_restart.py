"""A Ray actor killed mid-run is replaced and the run ends as if nothing had happened;
if it cannot be replaced, the run stops with one line and keeps what it had written."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import sys
import time

import pandas as pd
import pytest

from agents import ray_workers
from agents.runtime import RayRuntime, WorkerLost
from experiments import run as run_module
from experiments.build import build
from experiments.run import run_simulation
from tests.conftest import make_config

pytestmark = [pytest.mark.ray]

BASE = ("time.steps=6", "population.size=30", "grid.n_areas=3", "output.progress=false")
RAY = ("runtime=ray", "runtime.num_workers=2")


@pytest.fixture(scope="module")
def local_head() -> str:
    model = build(make_config(*BASE))
    model.run()
    return model.chain.head_hash


def wait_until_dead(ray, actor) -> None:
    """Block until a ``ray.kill`` of ``actor`` has landed (the kill is asynchronous).

    Without this, a call sent right after the kill may still run, and the death would
    surface one call later than the test means it to.
    """
    for _ in range(400):
        try:
            ray.get(actor.payments_dropped.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - RayActorError / ActorDiedError once it is dead
            return
        time.sleep(0.05)
    raise AssertionError("the killed actor is still answering")


def kill_worker_before(monkeypatch, ray, method: str, step: int, worker: int) -> list[int]:
    """Kill actor ``worker`` (no Ray restart) just before ``method`` of ``step`` is sent."""
    killed = []
    original = getattr(RayRuntime, method)

    def wrapped(self, arg):
        current = arg if method == "decide" else arg[0].step
        if current == step and not killed:
            ray.kill(self._workers[worker], no_restart=True)
            wait_until_dead(ray, self._workers[worker])
            killed.append(current)
        return original(self, arg)

    monkeypatch.setattr(RayRuntime, method, wrapped)
    return killed


@pytest.mark.parametrize("method,step,worker", [("decide", 2, 0), ("settle", 3, 1)])
def test_killed_actor_is_replaced_and_the_head_is_unchanged(
    ray_session, local_head, monkeypatch, method, step, worker
):
    killed = kill_worker_before(monkeypatch, ray_session, method, step, worker)
    model = build(make_config(*BASE, *RAY))
    try:
        model.run()
        assert killed == [step]
        assert model.runtime.restarts == 1
        assert model.chain.head_hash == local_head
    finally:
        model.runtime.close()


def test_replacement_replays_from_the_last_checkpoint(
    ray_session, local_head, tmp_path, monkeypatch
):
    killed = kill_worker_before(monkeypatch, ray_session, "decide", 5, 0)
    summary = run_simulation(make_config(*BASE, *RAY, "checkpoint.every_steps=2"), tmp_path)
    assert killed == [5]
    assert summary["ledger_head"]["main"] == local_head


def dying_replacements(monkeypatch, ray, killed: list[int]) -> None:
    """Every actor started after the first kill dies at once."""
    real = ray_workers.new_worker

    def dying(specs):
        worker = real(specs)
        if killed:
            ray.kill(worker, no_restart=True)
            wait_until_dead(ray, worker)
        return worker

    monkeypatch.setattr(ray_workers, "new_worker", dying)


def test_unreplaceable_actor_stops_the_run_and_keeps_completed_steps(
    ray_session, tmp_path, monkeypatch
):
    killed = kill_worker_before(monkeypatch, ray_session, "decide", 3, 1)
    dying_replacements(monkeypatch, ray_session, killed)
    with pytest.raises(WorkerLost, match=r"actor of areas \[1\] died during decide"):
        run_simulation(make_config(*BASE, *RAY), tmp_path)
    assert not (tmp_path / "summary.json").exists()
    steps = pd.read_parquet(tmp_path / "model.parquet")["step"].tolist()
    assert steps == [0, 1, 2]
    trades = pd.read_parquet(tmp_path / "trades.parquet")
    assert set(trades["step"]) == {0, 1, 2}
    assert (tmp_path / "blocks.parquet").is_file()


def test_cli_reports_a_lost_actor_on_one_line_with_exit_1(
    ray_session, tmp_path, monkeypatch, capsys
):
    killed = kill_worker_before(monkeypatch, ray_session, "settle", 1, 0)
    dying_replacements(monkeypatch, ray_session, killed)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "argv", ["gridledger", *BASE, *RAY, "runtime.max_restarts=2", "hydra.run.dir=out"]
    )
    with pytest.raises(SystemExit) as stopped:
        run_module.main()
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "could not be restarted (2 of max_restarts=2 used)" in err[0]
    assert (tmp_path / "out" / "model.parquet").is_file()
    assert not (tmp_path / "out" / "summary.json").exists()
    assert json.loads((tmp_path / "out" / "genesis.json").read_text())["format"]


@pytest.mark.slow
def test_run_stopped_by_a_lost_actor_resumes_from_its_checkpoint(
    ray_session, local_head, tmp_path, monkeypatch
):
    cfg = (*BASE, *RAY, "checkpoint.every_steps=2")
    with monkeypatch.context() as patch:
        killed = kill_worker_before(patch, ray_session, "decide", 3, 0)
        dying_replacements(patch, ray_session, killed)
        with pytest.raises(WorkerLost):
            run_simulation(make_config(*cfg), tmp_path)
    summary = run_simulation(make_config(*cfg, "resume=true"), tmp_path)
    assert summary["ledger_head"]["main"] == local_head
