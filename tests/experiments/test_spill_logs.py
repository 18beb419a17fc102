"""Logs on disk (agents.run_log): a spilled run writes the same result files as one held in
memory, and a resume after a crash ignores the parts the crashed run wrote."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agents import run_log
from agents.accounting import summarize
from agents.model import GridModel
from experiments import checkpoint
from experiments.build import build
from experiments.run import run_simulation, write_results
from tests.conftest import make_config

BASE = ("time.steps=7", "population.size=24", "output.progress=false", "output.agents_sample=5")
NET = ("settlement.mode=net", "settlement.period_steps=3")
LOGS = ("trades.parquet", "agents.parquet")


class Interrupted(Exception):
    """Stands for a killed job."""


@pytest.fixture
def small_parts(monkeypatch):
    """A part every two steps, so even short runs spill several parts."""
    monkeypatch.setattr(run_log, "DEFAULT_FLUSH_ENTRIES", 2)


def assert_same_logs(a, b) -> None:
    for name in LOGS:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name))
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("overrides", [(), NET], ids=["per_trade", "net"])
def test_spilled_run_writes_the_files_of_an_in_memory_run(tmp_path, small_parts, overrides):
    cfg = make_config(*BASE, *overrides)
    spilled = tmp_path / "spilled"
    summary = run_simulation(cfg, spilled)
    assert not (spilled / ".spill").exists()  # read back into the results, then removed

    model = build(cfg)  # no spill_to: the logs stay in memory
    try:
        model.run()
        in_memory = summarize(model)
        write_results(model, tmp_path / "memory")
    finally:
        model.runtime.close()
    assert len(model.trade_log) == 7 and model.trade_log.directory is None
    # The agent log is bounded by the sample, not the population: at most
    # ceil(sample / areas) agents per area and step.
    assert max(model.agent_log.lengths) <= 5 + model.n_areas - 1
    assert_same_logs(spilled, tmp_path / "memory")
    assert summary["prices_coins_per_kwh"] == in_memory["prices_coins_per_kwh"]
    trades = pd.read_parquet(spilled / "trades.parquet")
    assert list(trades["kind"].cat.categories) == [
        "p2p_local",
        "p2p_cross",
        "grid_import",
        "grid_export",
    ]
    assert (trades["tx_hash"].str.len() == 64).all()  # every trade names its payment
    imports = trades[trades["kind"] == "grid_import"]
    expected = np.average(imports["price_coins_per_kwh"], weights=imports["quantity_wh"])
    assert summary["prices_coins_per_kwh"]["grid_import_mean"] == pytest.approx(expected, 1e-12)


@pytest.mark.parametrize(
    ("overrides", "every", "kill_at"),
    # per trade: part 0 = steps 1-2, checkpoint after 3, part 1 = steps 3-4, killed in 6;
    # net (windows of 3 steps stay in memory until settled): part 0 = steps 1-3,
    # checkpoint after 4, part 1 = steps 4-6, killed in 7.
    [((), 3, 6), (NET, 4, 7)],
    ids=["per_trade", "net"],
)
def test_resume_ignores_parts_written_after_the_checkpoint(
    tmp_path, monkeypatch, small_parts, overrides, every, kill_at
):
    straight = tmp_path / "straight"
    run_simulation(make_config(*BASE, *overrides), straight)
    run_dir = tmp_path / "resumed"
    original = GridModel.step

    def step(self):
        if self.steps >= kill_at:
            raise Interrupted(f"killed at step {self.steps}")
        original(self)

    with monkeypatch.context() as patch:
        patch.setattr(GridModel, "step", step)
        with pytest.raises(Interrupted):
            run_simulation(
                make_config(*BASE, *overrides, f"checkpoint.every_steps={every}"), run_dir
            )
    assert checkpoint.read_header(run_dir)["steps_done"] == every
    logs = run_dir / ".spill" / "logs"
    written = sorted(p.name for p in logs.glob("trades-*.parquet"))
    assert written == ["trades-000000.parquet", "trades-000001.parquet"]
    (logs / "trades-000001.parquet").write_bytes(b"torn")  # written after the checkpoint
    resumed = run_simulation(
        make_config(*BASE, *overrides, f"checkpoint.every_steps={every}", "resume=true"), run_dir
    )
    assert_same_logs(straight, run_dir)
    heads = json.loads((straight / "summary.json").read_text())["ledger_head"]
    assert resumed["ledger_head"] == heads


def test_kept_checkpoint_keeps_its_spilled_parts(tmp_path, small_parts):
    run_dir = tmp_path / "kept"
    cfg = ("checkpoint.every_steps=4", "checkpoint.keep=true")
    first = run_simulation(make_config(*BASE, *cfg), run_dir)
    assert (run_dir / checkpoint.CHECKPOINT_FILE).is_file()
    assert any((run_dir / ".spill" / "logs").glob("trades-*.parquet"))
    copy = tmp_path / "first"
    copy.mkdir()
    for name in LOGS:
        (copy / name).write_bytes((run_dir / name).read_bytes())
    again = run_simulation(make_config(*BASE, *cfg, "resume=true"), run_dir)
    assert again["ledger_head"] == first["ledger_head"]
    assert_same_logs(copy, run_dir)
