"""settlement.mode=net end to end: same trades and costs, fewer signatures, verified links."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chain.verify import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config

BASE = ("population.size=40", "grid.n_areas=2", "time.steps=64")
NET = ("settlement.mode=net", "settlement.period_steps=12")
# Ledger head of BASE-like runs on main before net settlement existed (commit 3563d74).
GOLDEN = ("population.size=12", "grid.n_areas=2", "time.steps=64")
GOLDEN_HEAD = "85320f877f8bf1391464df8921106948d1c0bbff39d68948ca71c0735de41ba0"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    out = {}
    for name, extra in (("per_trade", ()), ("net", (*NET, "debug.invariants=true"))):
        run_dir = tmp_path_factory.mktemp(name)
        out[name] = run_dir, run_simulation(make_config(*BASE, *extra), run_dir)
    return out


def test_per_trade_default_head_unchanged(tmp_path) -> None:
    summary = run_simulation(make_config(*GOLDEN, "settlement.period_steps=4"), tmp_path)
    assert summary["ledger_head"]["main"] == GOLDEN_HEAD
    assert summary["settlement"]["mode"] == "per_trade"


def test_net_keeps_trades_costs_and_final_balances(runs) -> None:
    (gross_dir, gross), (net_dir, net) = runs["per_trade"], runs["net"]
    columns = lambda df: df.drop(columns=["tx_hash"])  # noqa: E731
    pd.testing.assert_frame_equal(
        columns(pd.read_parquet(gross_dir / "trades.parquet")),
        columns(pd.read_parquet(net_dir / "trades.parquet")),
    )
    assert net["costs_coins"] == gross["costs_coins"]
    assert net["energy_kwh"] == gross["energy_kwh"]
    assert net["wallets_match_ledger"] and gross["wallets_match_ledger"]
    assert net["counts"]["trades"] == gross["counts"]["trades"] > 0
    # What was signed: one transaction per trade vs a few per window.
    assert gross["settlement"]["signed_transactions"] == gross["counts"]["trades"]
    assert net["settlement"] == {
        "mode": "net",
        "period_steps": 12,
        "windows": 6,  # 64 steps: five of 12 and the last four
        "signed_transactions": net["counts"]["transactions"],
    }
    assert net["counts"]["transactions"] < gross["counts"]["transactions"] / 3


def test_net_ledger_links_every_trade(runs) -> None:
    run_dir, _ = runs["net"]
    report = verify_run(run_dir)
    assert report.ok, report.problems
    assert report.settlement["windows"] == 6
    txs = pd.read_parquet(run_dir / "transactions.parquet")
    assert set(txs["kind"]) == {"net_payment", "net_payout", "clearing_transfer"}
    trades = pd.read_parquet(run_dir / "trades.parquet")
    linked = trades["tx_hash"] != ""
    assert linked.mean() > 0.9
    assert set(trades.loc[linked, "tx_hash"]) <= set(txs["tx_hash"])


def _tampered(run_dir: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    table = pq.read_table(copy / "trades.parquet").to_pandas()
    edit(table)
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), copy / "trades.parquet")
    return copy


def test_tampered_amount_fails(runs, tmp_path) -> None:
    def edit(df):
        df.loc[5, "amount_micro"] += 1

    report = verify_run(_tampered(runs["net"][0], tmp_path, edit))
    assert not report.ok
    joined = " ".join(report.problems)
    assert "amount_micro" in joined and "is not the sum of its trades" in joined


def test_tampered_energy_and_link_fail(runs, tmp_path) -> None:
    def edit(df):
        df.loc[3, "quantity_wh"] += 10
        df.loc[7, "tx_hash"] = "0" * 64

    report = verify_run(_tampered(runs["net"][0], tmp_path, edit))
    assert not report.ok
    assert any("trade 3: amount_micro" in p for p in report.problems)
    assert any("trade 7: tx_hash does not name" in p for p in report.problems)


def test_hand_sized_run_three_households_two_steps(tmp_path) -> None:
    """3 households and the grid over 2 steps, one window: chain amounts = trade sums."""
    cfg = make_config(
        "population.size=3", "grid.n_areas=1", "time.steps=2", "population.evs_per_household=0",
        "population.providers_per_area=0", *NET,
    )  # fmt: skip
    summary = run_simulation(cfg, tmp_path)
    trades = pd.read_parquet(tmp_path / "trades.parquet")
    txs = pd.read_parquet(tmp_path / "transactions.parquet")
    assert summary["settlement"]["windows"] == 1
    # Night: each household imports; each pays its two imports once, the clearing
    # account passes the total to the grid operator.
    for _, tx in txs[txs["kind"] == "net_payment"].iterrows():
        agent = json.loads(tx["payload"])["agent"]
        assert tx["amount"] == trades.loc[trades["buyer"] == agent, "amount_micro"].sum()
    (surplus,) = txs.loc[txs["kind"] == "clearing_transfer", "amount"]
    assert surplus == trades["amount_micro"].sum()
    assert len(txs) == (txs["kind"] == "net_payment").sum() + 1
    assert verify_run(tmp_path).ok


@pytest.mark.ray
@pytest.mark.slow
def test_ray_matches_local_in_net_mode(ray_session, runs, tmp_path) -> None:
    _, local = runs["net"]
    ray_run = run_simulation(
        make_config(*BASE, *NET, "runtime=ray", "runtime.num_workers=2"), tmp_path
    )
    assert ray_run["ledger_head"] == local["ledger_head"]


def test_resume_mid_window_matches_uninterrupted(tmp_path, monkeypatch) -> None:
    from tests.experiments.test_checkpoint import Interrupted, interrupt_after

    base = ("time.steps=8", "population.size=24", "output.progress=false", "settlement.mode=net")
    net = (*base, "settlement.period_steps=4")
    straight = run_simulation(make_config(*net), tmp_path / "straight")
    run_dir = tmp_path / "resumed"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 5)
        with pytest.raises(Interrupted):
            run_simulation(make_config(*net, "checkpoint.every_steps=3"), run_dir)
    resumed = run_simulation(make_config(*net, "checkpoint.every_steps=3", "resume=true"), run_dir)
    assert resumed["ledger_head"] == straight["ledger_head"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "straight" / "trades.parquet"),
        pd.read_parquet(run_dir / "trades.parquet"),
    )
    assert verify_run(run_dir).ok
