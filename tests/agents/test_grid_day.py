"""A day on the SCE 56 feeder with seed 003's PV: both power-flow engines agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.run import run_simulation
from tests.conftest import make_config


@pytest.mark.slow
def test_sce56_day_reports_voltages_and_losses_and_engines_agree(tmp_path):
    runs = {
        engine: run_simulation(
            make_config("grid=sce56", f"grid.power_flow.engine={engine}", "output.progress=false"),
            tmp_path / engine,
        )
        for engine in ("lindistflow", "pandapower")
    }
    fast, reference = runs["lindistflow"]["power_flow"], runs["pandapower"]["power_flow"]
    assert fast["steps"] == reference["steps"] == 96
    assert fast["loss_kwh"] == pytest.approx(reference["loss_kwh"], rel=0.01)
    assert fast["v_min_pu"] == pytest.approx(reference["v_min_pu"], abs=1e-3)
    frames = {e: pd.read_parquet(tmp_path / e / "model.parquet") for e in runs}
    ratio = frames["lindistflow"]["pf_v_min_pu"] / frames["pandapower"]["pf_v_min_pu"]
    assert np.max(np.abs(ratio - 1.0)) < 0.005
    # Same market either way: physics is observed, not fed back (yet).
    assert runs["lindistflow"]["ledger_head"] == runs["pandapower"]["ledger_head"]
