"""Seed 000 Algorithm 1's per-period miner selection reaches the proof-of-work chain."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from chain.verify import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config

BASE = (
    "chain=pow",
    "population=seed000",
    "population.size=20",
    "population.miners.period_steps=4",
    "time.steps=12",
    "output.progress=false",
)


@pytest.fixture(scope="module")
def pow_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("pow-periods")
    summary = run_simulation(make_config(*BASE), run_dir)
    return run_dir, summary


def test_each_period_records_its_miners_and_the_next_blocks_follow(pow_run):
    run_dir, _ = pow_run
    txs = pq.read_table(run_dir / "transactions.parquet").to_pylist()
    blocks = pq.read_table(run_dir / "blocks.parquet").to_pylist()
    certs = pq.read_table(run_dir / "certificates.parquet").to_pylist()
    genesis = json.loads((run_dir / "genesis.json").read_text())
    genesis = genesis.get("chains", {}).get("main", genesis)
    records = [tx for tx in txs if tx["kind"] == "miner_set"]
    # Periods 1 and 2 of a 3-period run each change the set (steps 4 and 8).
    assert [json.loads(r["payload"])["period"] for r in records] == [1, 2]
    assert [r["timestamp_ms"] for r in records] == [4 * 900_000, 8 * 900_000]
    operator = genesis["params"]["miner_set_authority"]
    assert all(r["sender"] == operator and r["amount"] == 0 for r in records)
    sets = [(0, set(genesis["validators"]))]
    sets += [(r["block_height"], set(json.loads(r["payload"])["miners"])) for r in records]
    assert sets[0][1] != sets[1][1] != sets[2][1]
    signers: dict[int, set[str]] = {}
    for vote in certs:
        signers.setdefault(vote["height"], set()).add(vote["signer"])
    sealed_by_new = 0
    for block in blocks:
        in_force = [miners for h, miners in sets if h < block["height"]][-1]
        assert block["proposer"] in in_force
        assert signers[block["height"]] == in_force
        sealed_by_new += block["height"] > sets[1][0] and block["proposer"] not in sets[0][1]
    assert sealed_by_new > 0


def test_the_export_verifies(pow_run):
    run_dir, _ = pow_run
    report = verify_run(run_dir)
    assert report.ok, report.problems
    assert report.chains["main"]["miner_set_changes"] == 2


def test_a_single_period_run_records_no_change(tmp_path):
    summary = run_simulation(make_config(*BASE, "time.steps=4"), tmp_path)
    txs = pq.read_table(tmp_path / "transactions.parquet").to_pylist()
    assert not any(tx["kind"] == "miner_set" for tx in txs)
    assert summary["ledger_head"]


@pytest.mark.slow
@pytest.mark.ray
def test_same_head_under_ray(pow_run, ray_session, tmp_path):
    _, local = pow_run
    ray = run_simulation(make_config(*BASE, "runtime=ray", "runtime.num_workers=2"), tmp_path)
    assert ray["ledger_head"] == local["ledger_head"]


def test_vectorized_and_per_agent_paths_give_the_same_head_on_seed000_city(tmp_path):
    base = (*BASE[:1], "population=seed000", "grid=city", "time.steps=8", "output.progress=false")
    heads = [
        run_simulation(
            make_config(*base, "population.miners.period_steps=4", f"simulation.agent_path={p}"),
            tmp_path / p,
        )["ledger_head"]
        for p in ("vectorized", "per_agent")
    ]
    assert heads[0] == heads[1]
