"""Iterative double auction (seed 001 ch. 4): efficiency, IR, WBB, bid deviations, book mapping."""

from __future__ import annotations

import numpy as np
import pytest

from market import BUY, SELL, DoubleAuction, MarketContext, MissingColumnError, OrderBook
from market.counter_rng import CounterRandom
from market.double_auction_iteration import (
    feasible_instance,
    run_double_auction,
    solve_oap,
    sp_profit,
)
from market.double_auction_model import (
    DoubleAuctionInstance,
    feasibility_violation,
    random_instance,
    solve_swm_direct,
    utility,
    welfare,
)

SIZES = [(3, 2), (6, 2), (8, 3), (5, 4)]
CTX = MarketContext(step=0, tariff=0.3, feed_in_tariff=0.1)


def _run(seed: int, n_ev: int, n_sp: int):
    inst = random_instance(seed, n_ev, n_sp)
    rng = CounterRandom(seed, 99)
    # Initial bids as in the thesis' settings: EV price 10-60, SP price 5-50.
    out = run_double_auction(inst, 10 + 50 * rng.random((n_ev, n_sp)), 5 + 45 * rng.random(n_sp))
    return inst, out


@pytest.fixture(scope="module")
def outcomes():
    return [(*_run(seed, n, m), seed) for seed, (n, m) in enumerate(SIZES)]


def test_converges_to_the_social_welfare_optimum(outcomes):
    for inst, out, seed in outcomes:
        assert out.converged, seed
        assert out.iterations <= 40
        direct = welfare(inst, solve_swm_direct(inst))
        assert out.welfare >= direct - 0.01 * abs(direct), (seed, out.welfare, direct)
        assert feasibility_violation(inst, out.allocation_kwh) < 1e-9


def test_individually_rational_and_weakly_budget_balanced(outcomes):
    for inst, out, seed in outcomes:
        work, _ = feasible_instance(inst)
        # SPs: reward covers cost.  EVs: energy beyond the mandatory minimum is
        # worth at least what it costs (U is 0 at the minimum by Eq. 4.1).
        assert np.all(sp_profit(work, out.allocation_kwh, out.sp_reward) >= -1e-9), seed
        discretionary = out.ev_payment - out.ev_mandatory_payment
        assert np.all(utility(work, out.allocation_kwh.sum(axis=1)) - discretionary >= -1e-9), seed
        assert out.auctioneer_surplus >= -1e-9 * out.ev_payment.sum(), seed
        # Every EV pays at most its marginal value per discretionary kWh.
        np.testing.assert_allclose(
            out.ev_payment.sum() - out.sp_reward.sum(), out.auctioneer_surplus
        )


def test_no_profitable_unilateral_bid_deviation(outcomes):
    """Scaling one EV's converged bids never gains more than 3 % of its payment."""
    for inst, out, seed in outcomes[1:]:
        work, _ = feasible_instance(inst)
        base = solve_oap(work, out.bids, out.asks)
        for k in range(work.n_ev):
            pay = float((base.price / work.rho * base.allocation[k]).sum())
            payoff = utility(work, base.allocation.sum(axis=1))[k] - pay
            for factor in (0.5, 0.9, 1.1, 2.0):
                bids = out.bids.copy()
                bids[k] *= factor
                dev = solve_oap(work, bids, out.asks)
                dev_pay = float((dev.price / work.rho * dev.allocation[k]).sum())
                dev_payoff = utility(work, dev.allocation.sum(axis=1))[k] - dev_pay
                assert dev_payoff - payoff <= 0.03 * pay + 1e-9, (seed, k, factor)


def test_infeasible_minima_are_scaled_down():
    inst = DoubleAuctionInstance(
        weight=np.array([10.0, 10.0]),
        e_min_kwh=np.array([40.0, 40.0]),
        e_max_kwh=np.array([60.0, 60.0]),
        supply_max_kwh=np.array([50.0]),
        c1=np.array([0.01]),
        c2=np.array([0.015]),
        eta=0.8,
        rho=0.9,
        eligible=np.ones((2, 1), dtype=bool),
    )
    out = run_double_auction(inst, np.full((2, 1), 20.0), np.array([10.0]))
    # Minima need 80 / 0.8 = 100 kWh delivered; the SP delivers 0.9 * 50 = 45 kWh.
    assert out.min_scale == pytest.approx(0.45, rel=1e-5)
    assert out.allocation_kwh.sum() / 0.9 <= 50.0 + 1e-9


def _book(**extra) -> OrderBook:
    return OrderBook.from_columns(
        agent=[1, 2, 3, 4, 5],
        side=[BUY, BUY, BUY, SELL, SELL],
        quantity_wh=[40_000, 20_000, 30_000, 100_000, 60_000],
        limit_price=[3.0, 2.5, 2.8, 0.5, 0.8],
        extra=extra,
    )


def test_mechanism_on_a_book():
    book = _book(soc=[0.3, 0.6, 0.5, 0.0, 0.0], e_min_wh=[5000, 2000, 0, 0, 0])
    result = DoubleAuction().clear(book, CTX)
    d = result.diagnostics
    assert d["converged"] == 1.0 and 1 <= d["iterations"] <= 40
    assert d["auctioneer_surplus_coins"] >= -1e-9 and d["n_price_clipped"] == 0.0
    t = result.trades
    assert np.all(t.price <= book.limit_price[t.buyer_order])
    assert np.all(t.price >= book.limit_price[t.seller_order])
    # EV 1 (row 0) must get at least e_min / eta = 6.25 kWh.
    assert t.quantity_wh[t.buyer_order == 0].sum() >= 6249
    amounts = result.order_columns["da_amount_coins"]
    assert amounts[:3].sum() == pytest.approx(d["ev_payments_coins"])
    # The same book with utility weights given directly clears identically.
    weights = 10.0 / np.array([0.3, 0.6, 0.5, 1.0, 1.0])
    same = DoubleAuction().clear(_book(utility_weight=weights, e_min_wh=[5000, 2000, 0, 0, 0]), CTX)
    np.testing.assert_array_equal(same.trades.quantity_wh, t.quantity_wh)


def test_seller_ledger_price_leaves_the_surplus_with_the_evs():
    book = _book(soc=[0.3, 0.6, 0.5, 0.0, 0.0])
    buyer = DoubleAuction(ledger_price="buyer").clear(book, CTX)
    seller = DoubleAuction(ledger_price="seller").clear(book, CTX)
    np.testing.assert_array_equal(buyer.trades.quantity_wh, seller.trades.quantity_wh)
    assert np.all(seller.trades.price <= buyer.trades.price + 1e-12)


def test_missing_column_is_named():
    with pytest.raises(MissingColumnError, match="double_auction needs the per-order column 'soc'"):
        DoubleAuction().clear(_book(), CTX)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eta": 0.0}, "^eta must lie in"),
        ({"xi": -1.0}, "^xi must be > 0"),
        ({"c1": -0.1}, "^c1 must be >= 0"),
        ({"max_iterations": 0}, "^max_iterations"),
        ({"ledger_price": "both"}, "^ledger_price"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DoubleAuction(**kwargs)
