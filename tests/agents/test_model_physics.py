"""The driver runs the grid's power flow each step and keeps the last result."""

from __future__ import annotations

from experiments.build import build
from tests.conftest import make_config


def test_sce56_step_keeps_power_flow_result_and_metrics():
    model = build(make_config("grid=sce56", "population.size=8", "time.steps=2"))
    try:
        model.step()
        assert model.power_flow is not None
        assert 0.9 < model.metrics["pf_v_min_pu"] <= model.metrics["pf_v_max_pu"] < 1.1
        assert model.metrics["pf_loss_kw"] > 0
    finally:
        model.runtime.close()


def test_radial_grid_has_no_power_flow():
    model = build(make_config("population.size=4", "time.steps=1"))
    try:
        model.step()
        assert model.power_flow is None
    finally:
        model.runtime.close()
