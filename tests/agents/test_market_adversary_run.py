"""Market adversaries in whole runs: containment by credit, breaches without settlement,
and the credit feed to the sharded layout's cross-node selection."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from chain.layouts.sharded import ShardedLayout
from experiments.build import build
from experiments.run import run_simulation
from tests.conftest import make_config

SMALL = ("population.size=30", "time.steps=48", "output.agents_sample=0")
SHARDED = ("chain.layout=sharded", "chain.cross=partial", "chain.reselect_every=2")


def run_model(*overrides: str):
    model = build(make_config(*SMALL, *overrides))
    try:
        model.run()
    finally:
        model.runtime.close()
    return model


@pytest.fixture(scope="module")
def two_level_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("breakers")
    cfg = make_config(*SMALL, "market=two_level", "adversary=market")
    return run_dir, run_simulation(cfg, run_dir)


def test_two_level_credit_falls_below_50_and_cuts_breakers_off(two_level_run):
    run_dir, summary = two_level_run
    market = summary["security"]["market"]
    assert market["adversaries"] == 4 and market["contract_breakers"] == 4
    assert market["breaches_attempted"] > 0
    assert market["breaches_penalised"] == market["breaches_attempted"]
    assert market["adversaries_cut_off"] >= 1
    assert market["adversary_credit_min"] < 50.0
    assert len(market["cut_off_steps"]) == market["adversaries_cut_off"]
    assert market["sybil_identities"] == {"attempted": 12, "refused": 12, "registered": 0}
    model = pd.read_parquet(run_dir / "model.parquet")
    credit = model["market_adv_credit_min"].to_numpy()
    assert credit[1] >= 50.0 and credit[-1] < 50.0
    assert model["market_adv_cut_off"].iloc[-1] == market["adversaries_cut_off"]
    assert model["honest_cost_coins"].iloc[-1] == pytest.approx(market["honest_cost_coins"])
    # Cut off: no breach after the last adversary that sold was powered off.
    breaches = model["market_adv_breaches"].to_numpy()
    assert breaches[-1] == market["breaches_attempted"]
    saved = json.loads((run_dir / "summary.json").read_text())
    assert saved["security"]["market"] == market


def test_sorted_pairing_breaches_are_measured_but_not_contained(tmp_path):
    summary = run_simulation(
        make_config(*SMALL, "market=sorted_pairing", "adversary=market"), tmp_path
    )
    market = summary["security"]["market"]
    assert market["breaches_attempted"] > 0 and market["misallocated_kwh"] > 0
    assert market["breaches_penalised"] == 0 and market["adversaries_cut_off"] == 0
    assert market["adversary_credit"] == [100.0] * 4
    assert market["misallocated_coins"] > 0  # the victims' premium (tariff - price) * dE


def test_honest_run_has_no_market_adversaries(tmp_path):
    summary = run_simulation(make_config(*SMALL, "market=sorted_pairing"), tmp_path)
    market = summary["security"]["market"]
    assert market["adversaries"] == 0 and market["breaches_attempted"] == 0
    assert market["honest_users"] == 40 and market["honest_cost_coins"] != 0


def test_cross_node_selection_follows_the_users_credit(monkeypatch):
    fed = run_model("market=two_level", "adversary=market", *SHARDED)
    nodes = fed.ledger_layout.cross_nodes
    states = fed.runtime.market_states()
    for area, state in enumerate(states):
        np.testing.assert_array_equal(nodes.credit[area], state.credit)
    assert any(s.node != 0 for s in nodes.history)  # credit moved a cross-node
    # Without the feed every user keeps the initial credit: node 0 stays.
    monkeypatch.setattr(ShardedLayout, "set_credit", None)
    unfed = run_model("market=two_level", "adversary=market", *SHARDED)
    assert {s.node for s in unfed.ledger_layout.cross_nodes.history} == {0}


@pytest.mark.ray
def test_market_adversaries_and_credit_feed_under_ray(ray_session):
    overrides = ("market=two_level", "adversary=market", *SHARDED)
    local = run_model(*overrides)
    remote = run_model("runtime=ray", *overrides)
    heads = {cid: c.head_hash for cid, c in local.ledger_layout.chains.items()}
    assert {cid: c.head_hash for cid, c in remote.ledger_layout.chains.items()} == heads
    assert [(s.area, s.shard_height, s.node) for s in remote.ledger_layout.cross_nodes.history] == [
        (s.area, s.shard_height, s.node) for s in local.ledger_layout.cross_nodes.history
    ]
    assert remote.market_security.summary() == local.market_security.summary()


def test_resume_keeps_the_market_adversaries_tallies(tmp_path, monkeypatch):
    from tests.experiments.test_checkpoint import Interrupted, interrupt_after

    base = ("time.steps=16", "population.size=24", "market=two_level", "adversary=market")
    straight = run_simulation(make_config(*base), tmp_path / "straight")
    run_dir = tmp_path / "resumed"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 10)
        with pytest.raises(Interrupted):
            run_simulation(make_config(*base, "checkpoint.every_steps=4"), run_dir)
    resumed = run_simulation(make_config(*base, "checkpoint.every_steps=4", "resume=true"), run_dir)
    assert resumed["ledger_head"] == straight["ledger_head"]
    assert resumed["security"]["market"] == straight["security"]["market"]
