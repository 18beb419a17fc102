"""Every market runs a simulated day end to end with the default chain and verifies."""

from __future__ import annotations

import pandas as pd
import pytest

import market
from chain.verify import verify_run
from experiments.build import build
from experiments.run import run_simulation
from tests.conftest import make_config

SHORT = ("time.steps=8", "output.progress=false", "population.size=20")
MECHANISM_KEY = {
    "double_auction": "iterations",
    "stackelberg": "par_uncoordinated",
    "two_level": "n_contracts",
    "local_re": "ops_upload_letb",
    "ev_dr": "entity_excess_before_wh",
}


def _run(tmp_path, *overrides):
    run_dir = tmp_path / "run"
    summary = run_simulation(make_config(*overrides), run_dir)
    report = verify_run(run_dir)
    assert report.ok, report.problems
    supply = summary["coin_supply_micro"]["main"]
    assert supply["genesis"] == supply["final"]
    assert summary["wallets_match_ledger"]
    return run_dir, summary


@pytest.mark.parametrize("name", sorted(market.MECHANISMS))
def test_every_market_runs_a_short_day_and_verifies(name, tmp_path):
    run_dir, summary = _run(tmp_path, f"market={name}", *SHORT)
    assert summary["market_diagnostics"]["mechanism"] == name
    frame = pd.read_parquet(run_dir / "model.parquet")
    assert "market_local_matched_wh" in frame.columns
    assert "market_cross_n_trades" in frame.columns
    if name in MECHANISM_KEY:
        key = MECHANISM_KEY[name]
        assert f"market_local_{key}" in frame.columns
        assert f"local_{key}" in summary["market_diagnostics"]["diagnostics"]


def test_breaches_move_coins_as_penalty_transactions(tmp_path):
    run_dir, summary = _run(
        tmp_path,
        "market=two_level",
        "time.steps=52",
        "output.progress=false",
        "population.size=20",
        "population.households.reliability=[0.0,0.3]",
        "debug.invariants=true",  # coins conserved and energy balanced after every step
    )
    transfers = summary["market_diagnostics"]["transfers"]
    assert transfers["count"] > 0 and transfers["coins"] > 0
    agents = summary["market_diagnostics"]["agents"]
    assert agents["penalties_paid_coins"] == pytest.approx(transfers["coins"])
    assert agents["credit_min"] < 100.0
    sampled = pd.read_parquet(run_dir / "agents.parquet")
    assert sampled["credit"].min() < 100.0 and sampled["incentive_points"].max() > 0
    txs = pd.read_parquet(run_dir / "transactions.parquet")
    penalties = txs[txs["kind"] == "market_penalty"]
    assert len(penalties) == transfers["count"]
    assert penalties["amount"].sum() == round(transfers["coins"] * 1e6)


def test_vectorised_and_per_agent_paths_agree_with_extra_columns():
    heads = []
    for path in ("vectorized", "per_agent"):
        model = build(
            make_config(
                "market=two_level",
                "time.steps=6",
                "population.size=20",
                f"simulation.agent_path={path}",
            )
        )
        model.run()
        heads.append(model.chain.head_hash)
        model.runtime.close()
    assert heads[0] == heads[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        ("market=double_auction",),
        ("market=stackelberg", "market.p_max_cents=20"),
        ("market=two_level",),
        ("market=local_re", "population=seed003"),
        ("market=ev_dr",),
    ],
    ids=lambda o: " ".join(o),
)
def test_full_day_of_the_paper_markets(overrides, tmp_path):
    run_dir, summary = _run(tmp_path, *overrides, "output.progress=false")
    assert summary["counts"]["steps"] == 96
    assert summary["market_diagnostics"]["diagnostics"]


def test_resume_keeps_the_market_state(tmp_path):
    """Credit, reputation and the diagnostics so far survive a checkpoint."""
    from experiments import checkpoint

    cfg = make_config(
        "market=two_level",
        "time.steps=52",
        "population.size=16",
        "population.households.reliability=[0.0,0.5]",
    )
    straight = build(cfg)
    straight.run()
    interrupted = build(cfg)
    for _ in range(48):
        interrupted.step()
    cfg_hash = checkpoint.config_hash(cfg)
    checkpoint.write_checkpoint(interrupted, tmp_path, cfg_hash)
    resumed = checkpoint.resume(build(cfg), tmp_path, cfg_hash)
    resumed.run()
    assert resumed.chain.head_hash == straight.chain.head_hash
    assert resumed.market_transfer_totals == straight.market_transfer_totals
    assert straight.market_transfer_totals["count"] > 0
    credit = [s.credit.tolist() for s in resumed.runtime.market_states()]
    assert credit == [s.credit.tolist() for s in straight.runtime.market_states()]


@pytest.mark.parametrize("layout", ["sharded", "dual"])
def test_market_transfers_follow_the_chain_layout(layout, tmp_path):
    """Penalties (two_level) and renewable incentives (local_re) on multi-chain layouts."""
    market_overrides = (
        ("market=two_level", "population.households.reliability=[0.0,0.5]")
        if layout == "sharded"
        else (
            "market=local_re",
            "population=seed003",
            "population.households.reliability_threshold=[0.9,1.0]",
        )
    )
    run_dir = tmp_path / "run"
    summary = run_simulation(
        make_config(
            *market_overrides,
            f"chain.layout={layout}",
            "time.steps=56",
            "population.size=20",
            "output.progress=false",
        ),
        run_dir,
    )
    assert verify_run(run_dir).ok
    assert summary["wallets_match_ledger"]
    assert summary["market_diagnostics"]["transfers"]["count"] > 0
    for supply in summary["coin_supply_micro"].values():
        assert supply["genesis"] == supply["final"]
