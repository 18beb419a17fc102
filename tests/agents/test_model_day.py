"""A whole day on three areas: money, energy and generator cost checked against the trades."""

from __future__ import annotations

import numpy as np
import pytest

import market
from agents.accounting import summarize
from agents.model import GRID_OPERATOR_ID, GridModel
from agents.population import Population
from agents.runtime import LocalRuntime
from agents.settlement import GRID_EXPORT, GRID_IMPORT, P2P_CROSS, P2P_LOCAL
from agents.tariff import TimeOfUseTariff
from agents.topology import RadialFeeders
from chain.consensus.poa import ProofOfAuthority

TARIFF = TimeOfUseTariff()


@pytest.fixture(scope="module")
def day():
    model = GridModel(
        market=market.SortedPairing(),
        consensus=ProofOfAuthority(),
        grid=RadialFeeders(n_areas=3, buses_per_area=5),
        population=Population(size=24, evs_per_household=0.5),
        tariff=TARIFF,
        runtime=LocalRuntime(),
        steps=96,
        seed=5,
    )
    per_step = []
    for _ in range(96):
        model.step()
        net = np.concatenate([a.households.net_kwh for a in model.runtime.local_areas()])
        per_step.append((net, dict(model.metrics)))
    model.finish()
    trades = {k: np.concatenate([log[k] for log in model.trade_log]) for k in model.trade_log[0]}
    return model, per_step, trades


def test_all_trade_kinds_occur(day):
    _, _, trades = day
    for kind in (P2P_LOCAL, P2P_CROSS, GRID_IMPORT, GRID_EXPORT):
        assert (trades["kind"] == kind).any(), kind
    grid = trades["kind"] >= GRID_IMPORT
    assert ((trades["buyer"] == GRID_OPERATOR_ID) == (trades["kind"] == GRID_EXPORT)).all()
    assert ((trades["seller"] == GRID_OPERATOR_ID) == (trades["kind"] == GRID_IMPORT)).all()
    assert (trades["buyer"][~grid] != GRID_OPERATOR_ID).all()


def test_prices_stay_between_feed_in_and_retail(day):
    _, _, trades = day
    retail = TARIFF.retail_price((trades["step"] + 0.5) / 4)
    p2p = trades["kind"] <= P2P_CROSS
    assert (trades["price"][p2p] >= 0.10).all()
    assert (trades["price"][p2p] <= retail[p2p]).all()
    np.testing.assert_array_equal(
        trades["price"][trades["kind"] == GRID_IMPORT], retail[trades["kind"] == GRID_IMPORT]
    )
    np.testing.assert_array_equal(trades["price"][trades["kind"] == GRID_EXPORT], 0.10)
    np.testing.assert_array_equal(
        trades["amount_micro"],
        (trades["quantity_wh"] * trades["price_micro_per_kwh"] + 500) // 1000,
    )


def test_energy_balance_every_step(day):
    _, per_step, _ = day
    for net, m in per_step:
        expected = float(np.rint(net * 1000).sum() / 1000 - net.sum())
        assert m["energy_balance_error_kwh"] == pytest.approx(expected, abs=1e-9)
        assert abs(m["energy_balance_error_kwh"]) <= 0.0005 * m["orders"]


def test_wallets_follow_the_trades_exactly(day):
    model, _, trades = day
    n = len(model.agent_kind)
    paid = np.zeros(n, dtype=np.int64)
    received = np.zeros(n, dtype=np.int64)
    np.add.at(paid, trades["buyer"], trades["amount_micro"])
    np.add.at(received, trades["seller"], trades["amount_micro"])
    wallets = model.runtime.wallets()
    np.testing.assert_array_equal(np.concatenate([w.paid_micro for w in wallets]), paid[1:])
    np.testing.assert_array_equal(np.concatenate([w.received_micro for w in wallets]), received[1:])
    genesis = (
        np.concatenate([[10_000_000], np.select([model.agent_kind[1:] == 3], [100], 1000)])
        * 1_000_000
    )
    final = genesis - paid + received
    np.testing.assert_array_equal(np.concatenate([w.wallet_micro for w in wallets]), final[1:])
    ledger = model.chain.ledger.balances
    assert [ledger[k] for k in model.public_keys] == final.tolist()
    summary = summarize(model)
    assert summary["wallets_match_ledger"] is True
    supply = summary["coin_supply_micro"]["main"]
    assert supply["genesis"] == supply["final"] == int(genesis.sum())
    # Every trade became exactly one committed transaction with a hash in the log.
    assert summary["counts"]["transactions"] == len(trades["trade_id"])
    assert (trades["tx_hash"] != "").all()
    nonces = model.chain.ledger.nonces
    for agent in range(n):
        assert nonces.get(model.public_keys[agent], 0) == int((trades["buyer"] == agent).sum())


def test_grid_only_cost_from_trades(day):
    model, _, trades = day
    # Each household/EV sends at most one order a step, always filled in full (by peers
    # or the grid), so its step volume is the sum of its trades that step.
    expected = np.zeros(len(model.agent_kind), dtype=np.int64)
    for step in range(96):
        at = trades["step"] == step
        retail = round(TARIFF.retail_price((step + 0.5) / 4) * 1_000_000)
        bought = np.bincount(
            trades["buyer"][at], weights=trades["quantity_wh"][at], minlength=len(expected)
        ).astype(np.int64)
        sold = np.bincount(
            trades["seller"][at], weights=trades["quantity_wh"][at], minlength=len(expected)
        ).astype(np.int64)
        expected += (bought * retail + 500) // 1000
        expected -= np.where(model.agent_kind == 3, 0, (sold * 100_000 + 500) // 1000)
    expected[model.agent_kind == 3] = 0
    grid_only = np.concatenate([w.grid_only_cost_micro for w in model.runtime.wallets()])
    np.testing.assert_array_equal(grid_only, expected[1:])
    costs = summarize(model)["costs_coins"]
    households = model.agent_kind[1:] == 1
    assert costs["household"]["total_grid_only_cost"] == pytest.approx(
        grid_only[households].sum() / 1e6, abs=1e-9
    )
    # Peer trading saves money against the grid-only baseline.
    assert costs["household"]["total_cost"] < costs["household"]["total_grid_only_cost"]
    assert costs["ev"]["total_cost"] <= costs["ev"]["total_grid_only_cost"]


def test_provider_generation_and_cost(day):
    model, per_step, trades = day
    params = model.population.providers
    sold_by_provider = model.agent_kind[trades["seller"]] == 3
    assert sold_by_provider.any()
    cost = 0.0
    for step in range(96):
        at = sold_by_provider & (trades["step"] == step)
        for provider in np.unique(trades["seller"][at]):
            s = trades["quantity_wh"][at & (trades["seller"] == provider)].sum() / 1000
            cost += (
                params.cost_quadratic_coins_per_kwh2 * s**2 + params.cost_linear_coins_per_kwh * s
            )
        generation = trades["quantity_wh"][at].sum() / 1000
        assert per_step[step][1]["provider_generation_kwh"] == pytest.approx(generation, abs=1e-9)
    assert model.provider_cost_coins == pytest.approx(cost, abs=1e-9)
    assert summarize(model)["provider_generation_cost_coins"] == model.provider_cost_coins
    # Generators only sell when a buyer bids at least their cheapest block (0.1525).
    assert (trades["price"][sold_by_provider] >= 0.1525).all()


def test_totals_add_up_the_steps(day):
    model, per_step, trades = day
    for key in ("load_kwh", "pv_kwh", "ev_charge_kwh", "grid_import_kwh", "p2p_local_kwh"):
        assert model.totals[key] == pytest.approx(sum(m[key] for _, m in per_step), abs=1e-9)
    assert model.totals["trades"] == len(trades["trade_id"])
    p2p = trades["kind"] <= P2P_CROSS
    summary = summarize(model)
    assert summary["p2p_kwh"] == pytest.approx(trades["quantity_wh"][p2p].sum() / 1000, abs=1e-9)
    bought = trades["quantity_wh"][p2p | (trades["kind"] == GRID_IMPORT)].sum() / 1000
    assert summary["p2p_share_of_purchases"] == pytest.approx(summary["p2p_kwh"] / bought)
    assert summary["prices_coins_per_kwh"]["grid_export_mean"] == pytest.approx(0.10)
