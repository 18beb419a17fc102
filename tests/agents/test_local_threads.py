"""LocalRuntime's thread pool: any thread count gives the same run, bit for bit."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from agents.params import ParameterError
from agents.runtime import LocalRuntime
from experiments.run import run_simulation
from tests.agents.helpers import make_spec
from tests.conftest import make_config

BASE = ("population.size=24", "grid.n_areas=3", "time.steps=12", "output.progress=false")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_thread_count_is_checked(bad):
    with pytest.raises(ParameterError) as info:
        LocalRuntime(threads=bad)
    assert info.value.key == "threads"


def test_default_is_one_thread_per_core(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert LocalRuntime().n_threads == 3
    assert LocalRuntime(threads=1).n_threads == 1


def test_threaded_areas_give_results_in_area_order_and_pickle():
    runtime = LocalRuntime(threads=2)
    runtime.start([make_spec(area_id=a, id_offset=1 + 26 * a) for a in range(3)])
    assert [d.area_id for d in runtime.decide(3)] == [0, 1, 2]
    assert runtime._pool is not None
    copy = pickle.loads(pickle.dumps(runtime))  # checkpoints pickle the runtime
    assert copy._pool is None and copy.threads == 2
    assert [d.area_id for d in copy.decide(4)] == [0, 1, 2]
    runtime.close()
    copy.close()
    assert runtime._pool is None


def test_one_and_two_threads_give_the_same_ledger(tmp_path):
    serial = run_simulation(make_config(*BASE, "runtime.threads=1"), tmp_path / "serial")
    threaded = run_simulation(make_config(*BASE, "runtime.threads=2"), tmp_path / "threaded")
    assert serial["counts"]["transactions"] > 0
    assert threaded["ledger_head"] == serial["ledger_head"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "serial" / "trades.parquet"),
        pd.read_parquet(tmp_path / "threaded" / "trades.parquet"),
    )
