"""A short run end to end: result files, conservation laws, and a ledger that verifies."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chain.verify import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config

# Half a day from midnight: night imports, morning PV surplus, EVs leaving.
SHORT = ("population.size=16", "time.steps=48")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    summary = run_simulation(make_config(*SHORT), run_dir)
    return run_dir, summary


def test_run_writes_every_result_file(short_run):
    run_dir, _ = short_run
    for name in (
        "summary.json",
        "model.parquet",
        "agents.parquet",
        "trades.parquet",
        "genesis.json",
        "blocks.parquet",
        "transactions.parquet",
    ):
        assert (run_dir / name).is_file(), name
    model = pd.read_parquet(run_dir / "model.parquet")
    assert list(model["step"]) == list(range(48))
    assert not list(run_dir.glob(".*.tmp*")), "temporary files left behind"


def test_summary_is_strict_json_with_headline_metrics(short_run):
    run_dir, summary = short_run
    on_disk = json.loads((run_dir / "summary.json").read_text())
    assert on_disk["ledger_head"] == summary["ledger_head"]
    assert on_disk["seed"] == 42
    assert on_disk["counts"]["households"] == 16
    assert on_disk["counts"]["transactions"] == on_disk["counts"]["trades"]
    assert on_disk["counts"]["transactions_rejected"] == 0
    assert {"household", "ev"} <= set(on_disk["costs_coins"])
    assert on_disk["versions"]["mesa"].startswith("3.")


def test_coins_are_conserved_and_wallets_mirror_the_ledger(short_run):
    _, summary = short_run
    supply = summary["coin_supply_micro"]["main"]
    assert supply["final"] == supply["genesis"]
    assert summary["wallets_match_ledger"] is True


def test_energy_balances_every_step_within_wh_rounding(short_run):
    run_dir, _ = short_run
    model = pd.read_parquet(run_dir / "model.parquet")
    supply = (
        model.pv_kwh
        + model.battery_discharge_kwh
        + model.provider_generation_kwh
        + model.grid_import_kwh
    )
    demand = model.load_kwh + model.battery_charge_kwh + model.ev_charge_kwh + model.grid_export_kwh
    tolerance = 0.0005 * model.orders + 1e-9  # half a Wh of rounding per order
    assert (np.abs(supply - demand) <= tolerance).all()
    assert np.allclose(supply - demand, model.energy_balance_error_kwh)


def test_trades_respect_tariff_band_and_pay_the_right_amount(short_run):
    run_dir, _ = short_run
    trades = pd.read_parquet(run_dir / "trades.parquet")
    model = pd.read_parquet(run_dir / "model.parquet").set_index("step")
    p2p = trades[trades.kind.isin(["p2p_local", "p2p_cross"])]
    assert len(p2p) > 0
    band_low = model.loc[p2p.step, "feed_in_coins_per_kwh"].to_numpy()
    band_high = model.loc[p2p.step, "tariff_coins_per_kwh"].to_numpy()
    assert (p2p.price_coins_per_kwh.to_numpy() >= band_low - 1e-9).all()
    assert (p2p.price_coins_per_kwh.to_numpy() <= band_high + 1e-9).all()
    expected = (trades.quantity_wh * trades.price_micro_per_kwh + 500) // 1000
    assert (trades.amount_micro == expected).all()
    assert (trades.tx_hash.str.len() == 64).all()


def test_every_trade_is_a_committed_transaction(short_run):
    run_dir, _ = short_run
    trades = pd.read_parquet(run_dir / "trades.parquet")
    txs = pd.read_parquet(run_dir / "transactions.parquet")
    assert set(trades.tx_hash) == set(txs.tx_hash)
    paid = txs.set_index("tx_hash").loc[trades.tx_hash, "amount"].to_numpy()
    assert (paid == trades.amount_micro.to_numpy()).all()


def test_exported_ledger_verifies(short_run):
    run_dir, _ = short_run
    report = verify_run(run_dir)
    assert report.ok, report.problems


@pytest.mark.parametrize("table,column", [("transactions", "amount"), ("blocks", "timestamp_ms")])
def test_edited_copy_fails_verification(short_run, tmp_path, table, column):
    run_dir, _ = short_run
    copy = tmp_path / "edited"
    shutil.copytree(run_dir, copy)
    frame = pq.read_table(copy / f"{table}.parquet").to_pandas()
    frame.loc[len(frame) // 2, column] += 1
    frame.to_parquet(copy / f"{table}.parquet", index=False)
    report = verify_run(copy)
    assert not report.ok
    assert report.problems


def test_same_seed_same_head_other_seed_other_head(short_run, tmp_path):
    _, summary = short_run
    again = run_simulation(make_config(*SHORT), tmp_path / "again")
    assert again["ledger_head"] == summary["ledger_head"]
    other = run_simulation(make_config(*SHORT, "seed=7"), tmp_path / "other")
    assert other["ledger_head"] != summary["ledger_head"]


def test_per_agent_path_matches_vectorised_path(short_run, tmp_path):
    _, summary = short_run
    per_agent = run_simulation(
        make_config(*SHORT, "simulation.agent_path=per_agent"), tmp_path / "per_agent"
    )
    assert per_agent["ledger_head"] == summary["ledger_head"]


def test_grid_only_market_trades_nothing_peer_to_peer(tmp_path):
    summary = run_simulation(make_config(*SHORT, "market=grid_only"), tmp_path)
    assert summary["p2p_kwh"] == 0
    household = summary["costs_coins"]["household"]
    assert household["mean_cost"] == pytest.approx(household["mean_grid_only_cost"])


def test_peer_market_saves_households_money_against_grid_only(tmp_path):
    overrides = ("population.size=16", "time.steps=96")
    p2p = run_simulation(make_config(*overrides), tmp_path / "p2p")
    grid = run_simulation(make_config(*overrides, "market=grid_only"), tmp_path / "grid")
    assert p2p["p2p_kwh"] > 0
    assert (
        p2p["costs_coins"]["household"]["total_cost"]
        < grid["costs_coins"]["household"]["total_cost"]
    )


def test_truncated_copy_fails_against_summary_head(short_run, tmp_path):
    """Dropping the last block leaves a valid shorter chain; summary.json's head catches it."""
    run_dir, _ = short_run
    copy = tmp_path / "truncated"
    shutil.copytree(run_dir, copy)
    blocks = pd.read_parquet(copy / "blocks.parquet")
    txs = pd.read_parquet(copy / "transactions.parquet")
    last = blocks.height.max()
    blocks[blocks.height < last].to_parquet(copy / "blocks.parquet", index=False)
    txs[txs.block_height < last].to_parquet(copy / "transactions.parquet", index=False)
    report = verify_run(copy)
    assert not report.ok
    assert any("ledger_head" in problem or "head" in problem for problem in report.problems)
