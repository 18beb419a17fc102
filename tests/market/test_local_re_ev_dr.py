"""Dual-chain local/renewable market (seed 003) and EV demand response (seed 000)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from market import (
    BUY,
    SELL,
    EvDemandResponse,
    LocalRE,
    MarketContext,
    MissingColumnError,
    OrderBook,
)
from market.local_re import incentive_price, supply_variable

CTX = MarketContext(step=40, tariff=0.3, feed_in_tariff=0.1, hour_of_day=10.0)


def _re_book(**changes) -> OrderBook:
    cols = {
        "reputation": [0.9, 0.3, 0.8, 0.5, 0.0, 0.0],
        "reliability_threshold": [0.0, 0.0, 0.0, 0.0, 0.5, 0.2],
        "lmp": [0.3, 0.3, 0.3, 0.3, 0.13, 0.25],
        "renewable": [False, False, False, True, False, False],
        "stable_from_hour": [0, 0, 0, 8, 0, 0],
        "stable_to_hour": [0, 0, 0, 16, 0, 0],
        "stable_hours": [0.0, 0.0, 0.0, 2000.0, 0.0, 0.0],
        "production_scale_kw": [0.0, 0.0, 0.0, 500.0, 0.0, 0.0],
        "stability": [0.0, 0.0, 0.0, 0.5, 0.0, 0.0],
    }
    cols.update(changes)
    return OrderBook.from_columns(
        agent=[10, 11, 12, 20, 1, 2],
        side=[SELL, SELL, SELL, SELL, BUY, BUY],
        quantity_wh=[1000, 2000, 1500, 5000, 1500, 3000],
        limit_price=[0.12, 0.10, 0.14, 0.11, 0.30, 0.30],
        extra=cols,
    )


def test_local_then_renewable_stage_hand_example():
    result = LocalRE().clear(_re_book(), CTX)
    t = result.trades
    rows = list(
        zip(t.buyer_order.tolist(), t.seller_order.tolist(), t.quantity_wh.tolist(), strict=True)
    )
    # User 1 (rt 0.5, LMP 0.13): producer 12 is reputable but above the LMP; producer 11 is not
    # reputable; it takes producer 10 and gets the rest from the REP.  User 2 takes 11 then 12.
    assert rows == [(4, 0, 1000), (5, 1, 2000), (5, 2, 1000), (4, 3, 500)]
    np.testing.assert_allclose(t.price, [0.12, 0.10, 0.14, 0.11])
    assert result.trade_columns["chain"].tolist() == [0, 0, 0, 1]
    np.testing.assert_array_equal(result.residual_wh, [0, 0, 500, 4500, 0, 0])
    np.testing.assert_allclose(
        result.order_columns["reputation_after"], [0.95, 0.35, 0.85, 0.55, 0, 0]
    )
    # Eq. 25: x = (500 / 1000) * (2000 / 1000) + 0.5 = 1.5; C_d = 0.11 (1 + log10 2.5).
    incentive = (0.11 * math.log10(2.5)) * 0.5
    assert result.order_columns["incentive_coins"][3] == pytest.approx(incentive)
    d = result.diagnostics
    assert d["letb_wh"] == 4000 and d["retb_wh"] == 500
    assert (
        d["ops_upload_letb"],
        d["ops_sort_letb"],
        d["ops_match_letb"],
        d["ops_feedback_letb"],
    ) == (5, 6, 6, 3)
    assert (
        d["ops_upload_retb"],
        d["ops_sort_retb"],
        d["ops_match_retb"],
        d["ops_feedback_retb"],
    ) == (2, 0, 1, 1)


def test_renewable_producer_outside_its_window_or_too_small_is_skipped():
    night = MarketContext(step=0, tariff=0.3, feed_in_tariff=0.1, hour_of_day=20.0)
    result = LocalRE().clear(_re_book(), night)
    assert result.diagnostics["retb_wh"] == 0 and result.residual_wh[4] == 500
    small = _re_book()
    small = small.with_quantities([1000, 2000, 1500, 400, 1500, 3000])  # the REP cannot cover 500
    assert LocalRE().clear(small, CTX).diagnostics["retb_wh"] == 0


def test_tariff_caps_prices_without_lmp_and_feedback_quality():
    book = _re_book(feedback_quality=[0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    cols = {k: v for k, v in book.extra.items() if k != "lmp"}
    no_lmp = OrderBook.from_columns(**book.columns(), extra=cols)
    cheap = MarketContext(step=0, tariff=0.11, feed_in_tariff=0.1, hour_of_day=10.0)
    result = LocalRE().clear(no_lmp, cheap)
    assert np.all(result.trades.price <= 0.11)
    assert result.order_columns["reputation_after"][0] == pytest.approx(
        0.9
    )  # not traded: 0.12 > 0.11
    mixed = LocalRE().clear(book, CTX)
    assert mixed.order_columns["reputation_after"][0] == pytest.approx(0.85)  # quality 0: -0.05


def test_incentive_formula():
    assert incentive_price(np.array([0.1]), np.array([9.0]), 10.0)[0] == pytest.approx(0.2)
    x = supply_variable(np.array([1000.0]), np.array([1000.0]), np.array([0.25]), LocalRE())
    assert x[0] == pytest.approx(1.25)


def test_local_re_names_missing_columns():
    book = OrderBook.from_columns(
        agent=[1, 2], side=[BUY, SELL], quantity_wh=[5, 5], limit_price=[1, 0.1]
    )
    with pytest.raises(
        MissingColumnError, match="local_re needs the per-order column 'reputation'"
    ):
        LocalRE().clear(book, CTX)


def _dr_book(**changes) -> OrderBook:
    cols = {
        "is_ev": [False, False, True, True, True, True],
        "x_km": [0.0, 10.0, 3.0, 1.0, 9.0, 12.0],
        "y_km": [0.0] * 6,
        "soc": [0.0, 0.0, 0.5, 0.8, 0.9, 0.5],
        "capacity_wh": [0, 0, 20_000, 20_000, 30_000, 20_000],
        "max_range_km": [1.0, 1.0, 100.0, 100.0, 150.0, 100.0],
        "threshold_wh": [0, 0, 0, 0, 20_000, 5_000],
    }
    cols.update(changes)
    return OrderBook.from_columns(
        agent=[100, 101, 1, 2, 3, 4],
        side=[SELL, BUY, BUY, BUY, SELL, SELL],
        quantity_wh=[10_000, 6_000, 40_000, 40_000, 40_000, 40_000],
        limit_price=[0.15, 0.25, 0.20, 0.20, 0.20, 0.18],
        extra=cols,
    )


def test_ev_demand_response_hand_example():
    result = EvDemandResponse().clear(_dr_book(), CTX)
    t = result.trades
    rows = list(
        zip(t.buyer_order.tolist(), t.seller_order.tolist(), t.quantity_wh.tolist(), strict=True)
    )
    # Entity 100 sells its 10 kWh excess, nearest EV first: EV 2 can take 0.2 x 20 kWh plus
    # 1 / 100 x 20 kWh of travel = 4.2 kWh, EV 1 the remaining 5.8 kWh (room 10.6 kWh).
    # Entity 101 needs 6 kWh, cheapest EV first: EV 4 can give 10 - 0.4 - 5 = 4.6 kWh,
    # EV 3 the remaining 1.4 kWh (it could give 27 - 0.2 - 20 = 6.8 kWh).
    assert rows == [(3, 0, 4200), (2, 0, 5800), (1, 5, 4600), (1, 4, 1400)]
    np.testing.assert_allclose(t.price, [0.15, 0.15, 0.18, 0.20])
    d = result.diagnostics
    assert (d["entity_need_before_wh"], d["entity_need_after_wh"]) == (6000, 0)
    assert (d["entity_excess_before_wh"], d["entity_excess_after_wh"]) == (10_000, 0)
    assert d["ev_travel_wh"] == pytest.approx(200 + 600 + 400 + 200)
    np.testing.assert_array_equal(
        result.order_columns["entity_need_before_wh"], [10_000, 6000, 0, 0, 0, 0]
    )


def test_ev_keeps_its_threshold_and_visits_one_entity():
    book = _dr_book(threshold_wh=[0, 0, 0, 0, 26_900, 9_700])
    result = EvDemandResponse().clear(book, CTX)
    # EV 4 can give 10 - 0.4 - 9.7 = -0.1 kWh: nothing; EV 3 27 - 0.2 - 26.9 = -0.1: nothing.
    assert result.diagnostics["entity_need_after_wh"] == 6000
    # An EV that bought at entity 100 does not drive on to sell elsewhere in the same step.
    assert len(set(result.trades.buyer.tolist()) & set(result.trades.seller.tolist())) == 0


def test_ev_dr_names_missing_columns():
    book = OrderBook.from_columns(
        agent=[1, 2], side=[BUY, SELL], quantity_wh=[5, 5], limit_price=[1, 0.1]
    )
    with pytest.raises(MissingColumnError, match="'is_ev'"):
        EvDemandResponse().clear(book, CTX)
    with pytest.raises(MissingColumnError, match="'x_km'"):
        EvDemandResponse().clear(book.with_extra(is_ev=[True, False]), CTX)
