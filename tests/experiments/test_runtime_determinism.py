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
