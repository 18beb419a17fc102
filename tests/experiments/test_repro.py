"""Paper reproductions: the replication table, the studies and the Hydra callback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.repro import pets, v2g_dr
from experiments.repro.callback import Replicate
from experiments.repro.replication import Comparison, render


def test_comparison_judges_by_tolerance_or_trend():
    assert Comparison("x", 10.0, 12.4, tolerance=0.25).agrees is True
    assert Comparison("x", 10.0, 12.6, tolerance=0.25).agrees is False
    assert Comparison("x", 10.0, 12.6, tolerance=0.25).difference == pytest.approx(2.6)
    assert Comparison("x", "trend", 1.0, tolerance=None, holds=False).agrees is False
    assert Comparison("x", 10.0, math.nan).agrees is False
    assert Comparison("x", None, 3.0, tolerance=None).agrees is None


def test_render_lists_every_row_and_figure():
    rows = [Comparison("a, %", 50.0, 40.0, tolerance=0.1, why="inputs differ")]
    text = render("paper", "our inputs", rows, ["fig.png"])
    assert "| a, % | 50 | 40 | -10 | within 10% | no | inputs differ |" in text
    assert "0 of 1 rows agree" in text and "![fig](fig.png)" in text


@pytest.mark.slow
def test_v2g_dr_study_writes_numbers_from_the_run(tmp_path):
    report = v2g_dr.study(tmp_path / "a", quick=True, seed=0)
    text = report.read_text()
    assert "mean rounds to converge" in text
    for name in ("welfare_convergence.png", "iterations.png", "prices_energy.png"):
        assert (tmp_path / "a" / name).stat().st_size > 1000
    other = v2g_dr.study(tmp_path / "b", quick=True, seed=100).read_text()
    # Another seed gives other instances, so the measured column changes.
    assert _row(text, "mean buying price") != _row(other, "mean buying price")
    # The thesis's properties hold on every instance (IR, WBB, convergence).
    for key in ("individually rational", "weakly budget balanced", "converged within"):
        assert "| yes |" in _row(text, key)


def test_pets_study_writes_its_report(tmp_path):
    report = pets.study(tmp_path, quick=True, seed=0)
    text = report.read_text()
    assert "PAR reduction" in text and "within [8, 14] cents" in text
    assert "| yes |" in _row(text, "within [8, 14] cents")
    assert (tmp_path / "load_convergence.png").is_file()


def test_pets_fleet_windows_and_generations_to_within():
    fleet = pets.draw_fleet(30, seed=1)
    assert fleet.window.any(axis=1).all()
    assert ((fleet.energy_kwh >= 5) & (fleet.energy_kwh <= 25)).all()
    import numpy as np

    assert pets.generations_to_within(np.array([-5.0, 50.0, 99.5, 100.0]), 0.01) == 3


def test_replicate_callback_rejects_unknown_papers_and_skips_failed_runs(tmp_path):
    with pytest.raises(ValueError, match="paper must be one of"):
        Replicate("nosuch")
    from omegaconf import OmegaConf

    callback = Replicate("pets", quick=True)
    config = OmegaConf.create({"hydra": {"run": {"dir": str(tmp_path)}}})
    callback.on_run_end(config)  # no summary.json: the run failed, nothing to report
    assert not (tmp_path / "replication.md").exists()


def _row(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if key in line)


@pytest.mark.slow
def test_ce_sdt_preset_sweeps_and_reports(tmp_path):
    # A tiny version of `gridledger -m experiment=ce_sdt`: the command line's sweep
    # replaces the preset's, and the callback writes the report into the sweep folder.
    import subprocess
    import sys

    sweep = tmp_path / "sweep"
    done = subprocess.run(
        [
            sys.executable, "-m", "experiments.run", "-m", "experiment=ce_sdt",
            "population.pv_share=0.3,0.5,0.7", "population.size=10,20", "time.steps=48",
            f"hydra.sweep.dir={sweep}",
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = (sweep / "replication.md").read_text()
    assert "consumers' cost at 50 % generating users" in text
    assert "A sweep of 6 finished jobs" in text
    for name in ("cost_vs_share.png", "usage_vs_share.png", "usage_vs_users.png"):
        assert (sweep / name).stat().st_size > 1000
    # The cost row is computed from the 20-household job at 50 % PV.
    import json

    from experiments.analyze import collect

    table, _ = collect(sweep, progress=False)
    row = table[
        (table["override.population.size"] == 20) & (table["override.population.pv_share"] == 0.5)
    ]
    ratio = 100 * row["costs_coins.household_consumer.load_cost_ratio"].iloc[0]
    assert f"| {ratio:.4g} |" in _row(text, "consumers' cost at 50 %")
    assert json.loads((sweep / "0" / "summary.json").read_text())["counts"]["evs"] == 0


def test_load_cost_baseline_counts_the_whole_household_load():
    # Without PV, storage or market, paying for the whole load at the tariff is the cost.
    from experiments.build import build
    from tests.conftest import make_config

    model = build(
        make_config(
            "population.size=4", "population.pv_share=0", "population.evs_per_household=0",
            "population.providers_per_area=0", "time.steps=4", "market=grid_only",
        )
    )  # fmt: skip
    try:
        model.run()
        wallets = model.runtime.wallets()
        for w in wallets:
            assert not w.generates.any()
            np.testing.assert_array_equal(w.load_cost_micro, w.paid_micro - w.received_micro)
    finally:
        model.runtime.close()
