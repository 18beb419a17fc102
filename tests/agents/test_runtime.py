"""Runtimes: the in-process one, and the pure bookkeeping of the Ray one (no Ray started)."""

from __future__ import annotations

import pytest

from agents.params import ParameterError
from agents.runtime import LocalRuntime, RayRuntime
from tests.agents.helpers import make_spec


def test_ray_runtime_checks_worker_count():
    with pytest.raises(ParameterError) as info:
        RayRuntime(num_workers=0)
    assert info.value.key == "num_workers"
    assert RayRuntime().num_workers == 2 and RayRuntime().name == "ray"


@pytest.mark.parametrize(("n_areas", "n_workers"), [(5, 2), (3, 3), (4, 1), (7, 3)])
def test_ray_gather_restores_area_order(n_areas, n_workers):
    runtime = RayRuntime(num_workers=n_workers)
    runtime._n_areas = n_areas
    # Worker w holds areas w, w + n, w + 2n, ... (as ray_workers.start_workers assigns).
    per_worker = [list(range(n_areas))[w::n_workers] for w in range(n_workers)]
    assert runtime._gather(per_worker) == list(range(n_areas))
    assert runtime.local_areas() == []


def test_local_runtime_round_trip():
    runtime = LocalRuntime()
    assert runtime.name == "local"
    runtime.start([make_spec(), make_spec(area_id=1, id_offset=27)])
    assert [a.spec.area_id for a in runtime.local_areas()] == [0, 1]
    balances = runtime.genesis_balances()
    assert [len(b) for b in balances] == [26, 26]
    assert list(balances[0]) == runtime.public_keys()[0]
    decisions = runtime.decide(3)
    assert [d.area_id for d in decisions] == [0, 1]
    assert [w.wallet_micro.sum() for w in runtime.wallets()] == [25_100_000_000] * 2
    runtime.close()
