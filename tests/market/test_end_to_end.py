"""Mechanisms that run on the standard book simulate end to end and leave a valid ledger."""

from __future__ import annotations

import pytest

from chain.verify import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config


@pytest.mark.parametrize("market", ["uniform_price", "pay_as_bid", "two_level"])
def test_baseline_market_runs_and_ledger_verifies(tmp_path, market):
    summary = run_simulation(
        make_config(f"market={market}", "population.size=8", "time.steps=12"), tmp_path
    )
    assert summary["market"] == market
    report = verify_run(tmp_path)
    assert report.ok, report
    assert summary["counts"]["transactions_rejected"] == 0


def test_uniform_price_is_one_price_per_area_and_step(tmp_path):
    import pandas as pd

    summary = run_simulation(
        make_config("market=uniform_price", "population.size=16", "time.steps=56"), tmp_path
    )
    assert summary["p2p_kwh"] > 0
    trades = pd.read_parquet(tmp_path / "trades.parquet")
    local = trades[trades["kind"].astype(str) == "p2p_local"]
    prices = local.groupby(["step", "buyer_area"], observed=True)["price_micro_per_kwh"].nunique()
    assert (prices == 1).all()
    assert verify_run(tmp_path).ok
