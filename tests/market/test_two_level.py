"""Two-level demand-response contract of seed 002 §5: matching LP, settlement, credit."""

from __future__ import annotations

import numpy as np
import pytest

from market import BUY, SELL, MarketContext, OrderBook, TwoLevel
from market.two_level import (
    Confirm,
    GetUsersInformation,
    Initial,
    MaxUsersProfit,
    PriceIncentives,
    Punish,
    QualificationVerification,
    SettlementAmount,
    settlement_cycle,
)

CTX = MarketContext(step=7, tariff=0.3, feed_in_tariff=0.1)


def _book(**extra) -> OrderBook:
    cols = {
        "credit": [100.0, 100.0, 100.0, 60.0, 45.0],
        "reliability": [1.0, 1.0, 1.0, 0.0, 1.0],
    }
    cols.update(extra)
    return OrderBook.from_columns(
        agent=[1, 2, 3, 4, 5],
        side=[BUY, BUY, SELL, SELL, SELL],
        quantity_wh=[2000, 1000, 1500, 3000, 1000],
        limit_price=[0.30, 0.25, 0.12, 0.15, 0.10],
        area=[0, 1, 0, 1, 0],
        extra=cols,
    )


def test_upper_level_lp_hand_example():
    book, params = _book(), TwoLevel()
    info = GetUsersInformation(book, params)
    buyers, sellers = QualificationVerification(info, params)
    assert buyers.tolist() == [0, 1] and sellers.tolist() == [2, 3]  # credit 45 < 50 is out
    m = MaxUsersProfit(book, buyers, sellers, params)
    # Margins per kWh: (0,2) 0.173 same area, (0,3) 0.141 cross, (1,2) 0.121 cross, (1,3) 0.093.
    assert list(zip(m.buyer.tolist(), m.seller.tolist(), m.contract_wh.tolist(), strict=True)) == [
        (0, 2, 1500),
        (0, 3, 500),
        (1, 3, 1000),
    ]
    assert m.group_profit == pytest.approx(1.5 * 0.173 + 0.5 * 0.141 + 1.0 * 0.093)
    np.testing.assert_allclose(m.price, [0.21, 0.225, 0.20])
    assert m.comfort_cost == pytest.approx(0.005 * 3.0)
    assert m.communication_cost == pytest.approx(0.002 * 2.5 + 0.004 * 0.5)
    assert Confirm(book, m).contract_wh.tolist() == m.contract_wh.tolist()


def test_settlement_cycle_keeps_breaks_and_punishes():
    book = _book()
    result = TwoLevel().clear(book, CTX)
    t = result.trades
    # Seller 4 (row 3, reliability 0) breaks both contracts; only row 2 delivers.
    assert t.buyer_order.tolist() == [0] and t.seller_order.tolist() == [2]
    assert t.quantity_wh.tolist() == [1500] and t.price.tolist() == [pytest.approx(0.21)]
    np.testing.assert_array_equal(result.residual_wh, [500, 1000, 0, 3000, 1000])
    cols = result.order_columns
    np.testing.assert_allclose(cols["credit_after"], [104, 102, 102, 52, 45])
    assert cols["cut_off"].tolist() == [False, False, False, False, True]
    # Unplanned load 1.5 kWh served by the grid at beta * p_m = 1.2 * 0.3.
    np.testing.assert_allclose(cols["penalty_coins"], [0, 0, 0, 0.54, 0])
    np.testing.assert_allclose(cols["incentive_points"], [0, 0, 1.5 * 1.02, 0, 0])
    np.testing.assert_allclose(cols["price_incentive_factor"][3], 1 - 0.1 * 0.48)
    d = result.diagnostics
    assert (d["n_contracts"], d["n_broken"], d["n_cut_off"]) == (3.0, 2.0, 1.0)
    assert d["unplanned_load_wh"] == 1500.0 and d["grid_cost_coins"] == pytest.approx(0.54)


def test_comfort_budget_limits_the_matching():
    m = TwoLevel(comfort_budget=0.01).clear(_book(), CTX)
    # Best margin per unit of comfort and communication cost: pair (0, 2) at 0.007/kWh.
    assert m.diagnostics["n_contracts"] == 1.0
    assert m.trades.quantity_wh.tolist() == [1428]


def test_no_demand_response_signal_means_no_contracts():
    params = TwoLevel(dr_signal=False)
    assert not Initial(params)
    result = settlement_cycle(_book(), CTX, params)
    assert len(result.trades) == 0
    np.testing.assert_allclose(result.order_columns["credit_after"], [100, 100, 100, 60, 45])


def test_breaking_is_a_deterministic_draw_from_reliability():
    book = _book(reliability=[1.0, 1.0, 0.5, 0.5, 1.0])
    runs = [
        TwoLevel(seed=3).clear(book, MarketContext(step=s, tariff=0.3, feed_in_tariff=0.1))
        for s in range(40)
    ]
    again = TwoLevel(seed=3).clear(book, MarketContext(step=5, tariff=0.3, feed_in_tariff=0.1))
    np.testing.assert_array_equal(again.trades.quantity_wh, runs[5].trades.quantity_wh)
    broken = np.array([r.diagnostics["n_broken"] for r in runs])
    assert 0 < broken.mean() < 3  # about half the contracts break over many cycles


def test_lower_level_beta_is_zero_without_unplanned_load():
    from market.two_level import Matching

    m = Matching(
        np.array([0, 1]), np.array([2, 3]), np.array([1000, 1000]), np.array([0.2, 0.2]), 0, 0, 0
    )
    penalty, cost = SettlementAmount(m, np.array([1000, 400]), marginal_price=0.25, beta=1.5)
    np.testing.assert_allclose(penalty, [0.0, 0.6 * 0.25 * 1.5])
    assert cost == pytest.approx(0.225)


def test_price_incentives_and_punish():
    params = TwoLevel()
    np.testing.assert_allclose(
        PriceIncentives(np.array([100.0, 150.0, 0.0, 500.0]), params), [1.0, 1.05, 0.9, 1.2]
    )
    assert Punish(np.array([49.9, 50.0]), params).tolist() == [True, False]


def test_defaults_without_columns():
    book = OrderBook.from_columns(
        agent=[1, 2], side=[BUY, SELL], quantity_wh=[1000, 1000], limit_price=[0.3, 0.1]
    )
    result = TwoLevel().clear(book, CTX)
    assert result.trades.quantity_wh.tolist() == [1000]
    np.testing.assert_allclose(result.order_columns["credit_after"], [102, 102])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta": -1}, "^beta"),
        ({"incentive_cap": 1.0}, "^incentive_cap"),
        ({"breach_delivery_fraction": 2}, "^breach"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TwoLevel(**kwargs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hub_lp_reaches_the_pairwise_optimum(seed):
    """Large books solve the upper level through area hubs: same group profit, and
    every contract within both limits and the orders' quantities."""
    from market.bench import paper_book

    book = paper_book(60, seed)
    info = GetUsersInformation(book, TwoLevel())
    buyers, sellers = QualificationVerification(info, TwoLevel())
    params = TwoLevel(comfort_budget=0.05 if seed == 2 else 1.0e6)
    pairwise = MaxUsersProfit(book, buyers, sellers, params)
    hubs = MaxUsersProfit(book, buyers, sellers, params, pair_limit=0)
    # Equal optima; the whole-Wh rounding of the contracts differs by a few Wh.
    assert hubs.group_profit == pytest.approx(pairwise.group_profit, rel=1e-3, abs=1e-6)
    assert np.all(hubs.price >= book.limit_price[hubs.seller])
    assert np.all(hubs.price <= book.limit_price[hubs.buyer])
    margin = (
        book.limit_price[hubs.buyer]
        - book.limit_price[hubs.seller]
        - params.comfort_coefficient
        - np.where(book.area[hubs.buyer] == book.area[hubs.seller], 0.002, 0.004)
    )
    assert np.all(margin >= -1e-9)
    for rows in (hubs.buyer, hubs.seller):
        used = np.bincount(rows, weights=hubs.contract_wh, minlength=len(book))
        assert np.all(used <= book.quantity_wh)
    # Whole-Wh rounding loses at most 1 Wh per order against the LP's volume.
    assert abs(hubs.contract_wh.sum() - pairwise.contract_wh.sum()) <= len(book)
