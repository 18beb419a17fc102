"""The determinism contract: same config and seed, same trades and ledger head, anywhere."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.run import run_simulation
from tests.conftest import make_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BASE = ("population.size=24", "grid.n_areas=3", "time.steps=40")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("local")
    return run_dir, run_simulation(make_config(*BASE), run_dir)


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_matches_local(ray_session, local_run, tmp_path, workers):
    local_dir, local = local_run
    ray_summary = run_simulation(
        make_config(*BASE, "runtime=ray", f"runtime.num_workers={workers}"), tmp_path
    )
    assert ray_summary["runtime"] == "ray"
    assert ray_summary["ledger_head"] == local["ledger_head"]
    local_trades = pd.read_parquet(local_dir / "trades.parquet")
    ray_trades = pd.read_parquet(tmp_path / "trades.parquet")
    pd.testing.assert_frame_equal(local_trades, ray_trades)


def test_ray_matches_local_with_market_state_feedback(ray_session, tmp_path):
    """two_level's credit and penalties travel to the Ray actors and back identically."""
    overrides = (
        "market=two_level",
        "population.size=24",
        "grid.n_areas=3",
        "time.steps=52",
        "population.households.reliability=[0.0,0.5]",
    )
    local = run_simulation(make_config(*overrides), tmp_path / "local")
    ray_run = run_simulation(
        make_config(*overrides, "runtime=ray", "runtime.num_workers=2"), tmp_path / "ray"
    )
    assert local["market_diagnostics"]["transfers"]["count"] > 0
    assert ray_run["ledger_head"] == local["ledger_head"]
    assert ray_run["market_diagnostics"] == local["market_diagnostics"]
