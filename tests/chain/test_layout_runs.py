"""Every consensus x layout runs the default market for a day and its export verifies."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from chain import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config

# Eight 3-hour steps span a day (P2P and cross-area trades happen in daylight).
DAY_IN_8 = (
    "population.size=12",
    "time.step_minutes=180",
    "time.steps=8",
    "output.progress=false",
    "output.agents_sample=0",
)
PROTOCOLS = ["poa", "pow", "pbft", "hybrid", "central"]
LAYOUTS = [
    ("sharded", "full"),
    ("sharded", "partial"),
    ("two_layer", "partial"),
    ("dual", "partial"),
]


def _check(run_dir: Path, summary: dict, layout: str) -> None:
    assert summary["layout"] == layout
    assert summary["wallets_match_ledger"] is True
    figures = summary["chain_layout"]
    assert figures["layout"] == layout
    assert figures["committed_tx"] >= summary["counts"]["transactions"] > 0
    assert figures["mempool_size"] == 0 and figures["throughput_tx_per_s"] > 0
    assert figures["storage_bytes_full_node"] > 0
    assert set(summary["ledger_head"]) == set(summary["chain"])
    report = verify_run(run_dir)
    assert report.ok, report.problems
    assert report.layout["layout"] == layout
    if layout in ("sharded", "two_layer"):
        assert figures["cross_pending"] == 0
        assert figures["cross_payments"] == figures["cross_committed"]


@pytest.mark.parametrize("layout,cross", LAYOUTS)
@pytest.mark.parametrize("consensus", PROTOCOLS)
def test_consensus_and_layout_run_a_day_and_verify(consensus, layout, cross, tmp_path):
    overrides = (f"chain={consensus}", f"chain.layout={layout}", f"chain.cross={cross}")
    if consensus == "hybrid":
        overrides += ("chain.n_validators=3",)
    summary = run_simulation(make_config(*overrides, *DAY_IN_8), tmp_path)
    _check(tmp_path, summary, layout)
    manifest = json.loads((tmp_path / "layout.json").read_text())
    assert len(manifest["chains"]) == len(summary["chain"])


def test_sharded_day_has_cross_area_payments_and_is_deterministic(tmp_path):
    config = (
        "chain.layout=sharded",
        "chain.cross=full",
        "population.size=60",
        "time.step_minutes=60",
        "time.steps=24",
        "output.progress=false",
        "output.agents_sample=0",
    )
    first = run_simulation(make_config(*config), tmp_path / "a")
    second = run_simulation(make_config(*config), tmp_path / "b")
    assert first["chain_layout"]["cross_committed"] > 0
    assert first["ledger_head"] == second["ledger_head"]
    figures = first["chain_layout"]
    assert figures["messages_cross_prepare"] == figures["cross_payments"] * 4 * 4


def test_dual_routes_the_market_chain_tag_to_retb(tmp_path):
    """A mechanism's ``trade_columns['chain']`` (as ``local_re`` returns) picks the chain."""
    market = "market._target_=tests.chain.tagging_market.AlternatingChainMarket"
    summary = run_simulation(
        make_config("chain.layout=dual", market, "population.size=60", *DAY_IN_8[1:]), tmp_path
    )
    _check(tmp_path, summary, "dual")
    trades = pd.read_parquet(tmp_path / "trades.parquet")
    transactions = pd.read_parquet(tmp_path / "transactions.parquet")
    on_retb = transactions[transactions["chain_id"] == "main-retb"]
    assert len(on_retb) > 0
    p2p = trades[trades["kind"].astype(str).str.startswith("p2p")]
    assert set(on_retb["tx_hash"]) <= set(p2p["tx_hash"])


@pytest.mark.slow
@pytest.mark.parametrize("layout,cross", LAYOUTS)
@pytest.mark.parametrize("consensus", PROTOCOLS)
def test_full_day_every_consensus_and_layout(consensus, layout, cross, tmp_path):
    overrides = (f"chain={consensus}", f"chain.layout={layout}", f"chain.cross={cross}")
    if consensus == "hybrid":
        overrides += ("chain.n_validators=3",)
    summary = run_simulation(
        make_config(*overrides, "output.progress=false", "output.agents_sample=0"), tmp_path
    )
    _check(tmp_path, summary, layout)


@pytest.mark.slow
@pytest.mark.ray
@pytest.mark.parametrize(
    "layout",
    [
        ("chain.layout=two_layer", "chain.cross=full"),
        ("chain.layout=dual", "market._target_=tests.chain.tagging_market.AlternatingChainMarket"),
    ],
    ids=["two_layer", "dual"],
)
def test_ray_runtime_gives_the_same_ledger_heads(ray_session, layout, tmp_path):
    config = (*layout, "population.size=60", *DAY_IN_8[1:], "grid.n_areas=3")
    local = run_simulation(make_config(*config), tmp_path / "local")
    ray = run_simulation(make_config(*config, "runtime=ray"), tmp_path / "ray")
    assert ray["runtime"] == "ray"
    assert ray["ledger_head"] == local["ledger_head"]


@pytest.mark.parametrize("layout", ["sharded", "two_layer", "dual"])
def test_checkpoint_resume_reaches_the_same_heads(layout, tmp_path):
    from experiments import checkpoint
    from experiments.build import build

    cfg = make_config(
        f"chain.layout={layout}",
        "chain.cross=full",
        "population.size=60",
        "time.step_minutes=60",
        "time.steps=24",
        "output.progress=false",
    )
    straight = build(cfg)
    straight.run()
    interrupted = build(cfg)
    for _ in range(14):
        interrupted.step()
    cfg_hash = checkpoint.config_hash(cfg)
    checkpoint.write_checkpoint(interrupted, tmp_path, cfg_hash)
    resumed = checkpoint.resume(build(cfg), tmp_path, cfg_hash)
    resumed.run()
    heads = {cid: c.head_hash for cid, c in resumed.ledger_layout.chains.items()}
    assert heads == {cid: c.head_hash for cid, c in straight.ledger_layout.chains.items()}


@pytest.mark.parametrize("layout", ["sharded", "two_layer"])
def test_debug_invariants_hold_on_every_chain_of_a_layout(layout, tmp_path):
    config = (
        f"chain.layout={layout}",
        "chain.cross=full",
        "debug.invariants=true",
        "population.size=60",
        "time.step_minutes=60",
        "time.steps=24",
        "output.progress=false",
    )
    summary = run_simulation(make_config(*config), tmp_path)
    assert summary["chain_layout"]["cross_committed"] > 0
