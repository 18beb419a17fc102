"""Debug-mode invariants: silent on honest runs, and each one fires on a broken state
with a message naming the invariant, the step and the numbers."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pandas as pd
import pytest

from agents import model as model_module
from agents.area import Area
from agents.invariants import (
    CheckedMarket,
    InvariantViolation,
    check_trades_within_orders,
)
from chain.node import Chain
from experiments import run as run_module
from experiments.build import build
from market import BUY, SELL, MarketContext, OrderBook, Trades
from tests.conftest import make_config

SMALL = ("time.steps=12", "population.size=24", "debug.invariants=true")


def run(*overrides: str, steps: int | None = None):
    model = build(make_config(*SMALL, *overrides))
    try:
        if steps is None:
            model.run()
        else:
            for _ in range(steps):
                model.step()
    finally:
        model.runtime.close()
    return model


@pytest.mark.parametrize(
    "overrides",
    [
        ("market=sorted_pairing",),
        ("market=uniform_price",),
        ("market=pay_as_bid",),
        ("market=two_level",),
        ("market=grid_only",),
        ("market=sorted_pairing", "chain=pbft"),
        ("market=uniform_price", "chain=pow"),
        ("market=sorted_pairing", "simulation.agent_path=per_agent"),
    ],
    ids=lambda o: "-".join(o),
)
def test_honest_runs_keep_every_invariant(overrides):
    model = run(*overrides, "time.steps=48")  # to noon: P2P trades in and across areas
    p2p = model.totals["p2p_local_kwh"] + model.totals["p2p_cross_kwh"]
    assert (p2p == 0) == ("market=grid_only" in overrides)
    assert isinstance(model.market, CheckedMarket)
    assert model.invariants is not None
    assert all(r.height == model.chain.ledger.height > 0 for r in model.invariants.replicas)


def test_debug_mode_changes_no_result():
    checked = run("time.steps=6")
    plain = build(make_config("time.steps=6", "population.size=24"))
    plain.run()
    assert checked.chain.head_hash == plain.chain.head_hash


def test_debug_mode_is_off_by_default():
    model = build(make_config("time.steps=1", "population.size=4"))
    assert model.invariants is None and not isinstance(model.market, CheckedMarket)


def test_coins_created_in_the_ledger_are_caught(monkeypatch):
    original = Chain.advance_to

    def advance_to(self, time_ms):
        blocks = original(self, time_ms)
        if time_ms > 4 * 900_000:  # from step 4 on
            key = next(iter(self.ledger.balances))
            self.ledger.balances[key] += 7
        return blocks

    monkeypatch.setattr(Chain, "advance_to", advance_to)
    with pytest.raises(InvariantViolation) as caught:
        run()
    error = caught.value
    assert error.invariant == "coins_conserved" and error.step == 4
    assert "difference 7" in str(error) and "at step 4" in str(error)


def test_balances_moved_without_a_block_are_caught(monkeypatch):
    original = Chain.advance_to

    def advance_to(self, time_ms):
        blocks = original(self, time_ms)
        if time_ms == 3 * 900_000:  # end of step 2: coins conserved, but not by any block
            first, second = list(self.ledger.balances)[:2]
            self.ledger.balances[first] -= 5
            self.ledger.balances[second] += 5
        return blocks

    monkeypatch.setattr(Chain, "advance_to", advance_to)
    with pytest.raises(InvariantViolation, match="re-validating its blocks gives") as caught:
        run()
    assert caught.value.invariant == "valid_blocks" and caught.value.step == 2


@pytest.mark.parametrize("field", ["amount", "signature", "proposer_signature"])
def test_invalid_committed_block_is_caught(monkeypatch, field):
    original = Chain.advance_to

    def advance_to(self, time_ms):
        blocks = original(self, time_ms)
        if time_ms == 2 * 900_000 and blocks:  # step 1: forge the block just committed
            block = self.ledger.blocks[-1]
            if field == "proposer_signature":
                forged = dataclasses.replace(block, proposer_signature="ab" * 64)
            else:
                stx = block.transactions[0]
                if field == "amount":
                    stx = dataclasses.replace(stx, tx=dataclasses.replace(stx.tx, amount=1))
                else:
                    stx = dataclasses.replace(stx, signature="cd" * 64)
                forged = dataclasses.replace(block, transactions=(stx, *block.transactions[1:]))
            self.ledger.blocks[-1] = forged
        return blocks

    monkeypatch.setattr(Chain, "advance_to", advance_to)
    with pytest.raises(InvariantViolation) as caught:
        run()
    assert caught.value.invariant == "valid_blocks" and caught.value.step == 1
    expected = {
        "amount": "tx_hash does not match",
        "signature": "signature does not verify for the sender",
        "proposer_signature": "proposer_signature does not verify",
    }[field]
    assert expected in str(caught.value)


def test_energy_imbalance_is_caught(monkeypatch):
    original = Area._energy_totals

    def energy_totals(self):
        totals = original(self)
        if self._step == 5 and self.spec.area_id == 0:
            totals["load_kwh"] += 0.25  # load that nobody supplied
        return totals

    monkeypatch.setattr(Area, "_energy_totals", energy_totals)
    with pytest.raises(InvariantViolation) as caught:
        run()
    error = caught.value
    assert error.invariant == "energy_balance" and error.step == 5
    off = float(str(error).split("off by ")[1].split()[0])
    assert off == pytest.approx(-0.25, abs=0.016)  # within the rounding allowance


def test_grid_trade_at_a_wrong_price_is_caught(monkeypatch):
    original = model_module.settle_with_grid

    def settle(book, residual_wh, ctx, grid_agent):
        trades = original(book, residual_wh, ctx, grid_agent)
        return dataclasses.replace(trades, price=trades.price * 1.5)

    monkeypatch.setattr(model_module, "settle_with_grid", settle)
    with pytest.raises(InvariantViolation, match="grid trade at .* the tariff is") as caught:
        run()
    assert caught.value.invariant == "trades_within_orders" and caught.value.step == 0


def test_trade_above_the_bid_in_an_area_is_caught():
    model = build(make_config(*SMALL, "time.steps=48"))  # P2P trades start with the sun
    inner = model.market.market

    class Greedy:
        name = "greedy"

        def clear(self, book, ctx):
            result = inner.clear(book, ctx)
            return dataclasses.replace(
                result, trades=dataclasses.replace(result.trades, price=result.trades.price + 1)
            )

    model.market.market = Greedy()  # the areas share the wrapper in-process
    with pytest.raises(InvariantViolation, match="above the buyer's limit") as caught:
        model.run()  # the first step with a local trade stops it
    assert "market=greedy" in str(caught.value)


# ---------------------------------------------------------------- the trade check itself
BOOK = OrderBook.from_columns(
    agent=[1, 2, 3, 4],
    side=[BUY, BUY, SELL, SELL],
    quantity_wh=[100, 50, 80, 60],
    limit_price=[0.25, 0.20, 0.15, 0.18],
    dispatchable=[False, False, False, True],
)
CTX = MarketContext(step=0, tariff=0.3, feed_in_tariff=0.1)


def trades(rows: list[tuple]) -> Trades:
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 6
    b, s, bo, so, q, p = (np.array(c) for c in cols)
    return Trades(
        buyer=b, seller=s, buyer_order=bo, seller_order=so,
        buyer_area=np.zeros(len(b)), seller_area=np.zeros(len(b)), quantity_wh=q, price=p,
    )  # fmt: skip


HONEST = [(1, 3, 0, 2, 80, 0.2), (1, 0, 0, -1, 20, 0.3), (2, 0, 1, -1, 50, 0.3)]


def test_honest_book_settlement_passes():
    check_trades_within_orders(BOOK, trades(HONEST), where="t", grid_agent=0, ctx=CTX)
    market_only = trades(HONEST[:1])
    check_trades_within_orders(BOOK, market_only, where="t", residual_wh=np.array([20, 50, 0, 60]))


@pytest.mark.parametrize(
    "rows,fragment",
    [
        ([(1, 3, 0, 2, 80, 0.26), *HONEST[1:]], "above the buyer's limit 0.25"),
        ([(1, 4, 0, 3, 60, 0.17), (1, 0, 0, -1, 40, 0.3), HONEST[2]], "below the seller's limit"),
        (
            [(1, 3, 0, 2, 80, 0.2), (1, 0, 0, -1, 30, 0.3), HONEST[2]],
            "order 0 of 100 Wh traded 110",
        ),
        ([(1, 3, 0, 2, 80, 0.2), HONEST[2]], "order 0 of 100 Wh settled only 80"),
        ([*HONEST[:2], (2, 0, 1, -1, 50, 0.25)], "the tariff is 0.3"),
        ([(3, 1, 2, 0, 80, 0.2), *HONEST[1:]], "is not a buy order"),
        ([(1, 3, 0, 2, 80, 0.2), (1, 9, 0, -1, 20, 0.3), HONEST[2]], "is not the grid's"),
    ],
)
def test_each_broken_trade_is_named(rows, fragment):
    with pytest.raises(InvariantViolation, match="trades_within_orders") as caught:
        check_trades_within_orders(BOOK, trades(rows), where="t", step=3, grid_agent=0, ctx=CTX)
    assert fragment in str(caught.value) and "at step 3" in str(caught.value)


def test_residual_must_complete_each_order():
    with pytest.raises(InvariantViolation, match="traded 80 Wh \\+ residual 10 Wh"):
        check_trades_within_orders(
            BOOK, trades(HONEST[:1]), where="t", residual_wh=np.array([20, 50, 10, 60])
        )


def test_violation_stops_the_cli_with_one_line_and_keeps_results(tmp_path, monkeypatch, capsys):
    original = Area._energy_totals

    def energy_totals(self):
        totals = original(self)
        if self._step == 3:
            totals["pv_kwh"] += 1.0
        return totals

    monkeypatch.setattr(Area, "_energy_totals", energy_totals)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["gridledger", *SMALL, "hydra.run.dir=out"])
    with pytest.raises(SystemExit) as stopped:
        run_module.main()
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("gridledger: error: invariant energy_balance violated at step 3")
    out = tmp_path / "out"
    assert pd.read_parquet(out / "model.parquet")["step"].tolist() == [0, 1, 2]
    assert not (out / "summary.json").exists()


@pytest.mark.ray
def test_checked_market_travels_to_ray_actors(ray_session):
    model = run("runtime=ray", "time.steps=48")
    assert model.chain.head_hash == run("time.steps=48").chain.head_hash
