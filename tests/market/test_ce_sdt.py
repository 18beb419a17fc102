"""CE-SDT contract workflow steps (1)-(9) and the §3.3.1 pricing helper (seed 004)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.ce_sdt import (
    BIDDING,
    GRID,
    Offers,
    accept_in_order,
    bill,
    broadcast,
    collect_offers,
    make_offers,
    make_request,
    route,
    serve_request,
    sort_offers,
)
from market.ce_sdt_pricing import BiddingWeights, buying_price, selling_price, suggested_price


def test_suggested_price_is_volume_weighted_and_clipped():
    assert suggested_price([], [], tariff=0.3, feed_in=0.1) == pytest.approx(0.2)
    assert suggested_price([0.15, 0.25], [1000, 3000], 0.3, 0.1) == pytest.approx(0.225)
    assert suggested_price([0.5], [10], 0.3, 0.1) == 0.3
    assert suggested_price([0.05], [10], 0.3, 0.1) == 0.1
    with pytest.raises(ValueError, match="feed_in"):
        suggested_price([], [], tariff=0.1, feed_in=0.2)


def test_route_and_broadcast():
    assert route(make_request(1, 500, bidding=False)) == GRID
    assert route(make_request(1, 0)) == GRID
    req = make_request(1, 500)
    assert route(req) == BIDDING
    np.testing.assert_array_equal(broadcast(req, [1, 2, 3, 4], [900, 0, 10, 20]), [2, 3])
    with pytest.raises(ValueError, match="^demand_wh"):
        make_request(1, -1)


def test_offers_window_sort_and_accept():
    req = make_request(9, 2500, max_price=0.25)
    offers = make_offers(
        req,
        agents=[4, 2, 7, 5],
        surplus_wh=[1000, 4000, 800, 600],
        own_ask=[0.12, 0.22, 0.26, 0.12],
        suggested=0.18,
        submitted_s=[5.0, 1.0, 2.0, 90.0],
    )
    np.testing.assert_array_equal(offers.quantity_wh, [1000, 2500, 800, 600])
    np.testing.assert_allclose(offers.price, [0.18, 0.22, 0.26, 0.18])
    in_time = collect_offers(offers, window_s=60.0)
    np.testing.assert_array_equal(in_time.agent, [4, 2, 7])
    ranked = sort_offers(in_time)
    np.testing.assert_array_equal(ranked.agent, [4, 2, 7])
    accepted, to_grid = accept_in_order(ranked, req.demand_wh, max_price=0.25)
    np.testing.assert_array_equal(accepted, [1000, 1500, 0])
    assert to_grid == 0
    b = bill(ranked, accepted, to_grid, tariff=0.3)
    assert b.peer_wh == 2500 and b.grid_wh == 0
    assert b.peer_coins == pytest.approx(1.0 * 0.18 + 1.5 * 0.22)


def test_sort_breaks_price_ties_by_time_then_agent():
    offers = Offers(
        agent=np.array([5, 3, 4, 1]),
        quantity_wh=np.array([1, 1, 1, 1]),
        price=np.array([0.2, 0.2, 0.1, 0.2]),
        submitted_s=np.array([1.0, 1.0, 3.0, 0.5]),
    )
    np.testing.assert_array_equal(sort_offers(offers).agent, [4, 1, 3, 5])


def test_serve_request_end_to_end_with_grid_remainder():
    req = make_request(0, 3000)
    result = serve_request(
        req,
        suppliers=[0, 1, 2, 3],
        surplus_wh=[5000, 1000, 500, 0],
        own_ask=[0.0, 0.15, 0.11, 0.1],
        submitted_s=[0.0, 10.0, 20.0, 0.0],
        tariff=0.30,
        feed_in=0.10,
        recent_prices=[0.14],
        recent_quantities_wh=[100],
    )
    # Suggested 0.14: agent 2 offers 500 at 0.14, agent 1 1000 at 0.15; the rest from the grid.
    np.testing.assert_array_equal(result.sellers, [2, 1])
    assert result.peer_wh == 1500 and result.grid_wh == 1500
    assert result.total_coins == pytest.approx(0.5 * 0.14 + 1.0 * 0.15 + 1.5 * 0.30)
    grid_only = serve_request(
        make_request(0, 3000, bidding=False), [1], [1000], [0.1], [0.0], tariff=0.3, feed_in=0.1
    )
    assert grid_only.peer_wh == 0 and grid_only.grid_coins == pytest.approx(0.9)


def test_bidding_objectives_hand_values():
    w = BiddingWeights()
    # 1 kWh surplus with E_ref = 1 kWh: energy term 0.3 - 0.2 * 0.5 = 0.2.
    np.testing.assert_allclose(selling_price([1.0], 0.16, 0.3, 0.1, w), [0.5 * 0.2 + 0.5 * 0.16])
    # 3 kWh needed: energy term 0.1 + 0.2 * 0.75 = 0.25.
    np.testing.assert_allclose(buying_price([3.0], 0.22, 0.3, 0.1, w), [0.5 * 0.25 + 0.5 * 0.22])
    heavy = BiddingWeights(sell_energy=1.0, sell_average=0.0)
    np.testing.assert_allclose(selling_price([0.0], 0.2, 0.3, 0.1, heavy), [0.3])
    with pytest.raises(ValueError, match="^reference_kwh"):
        BiddingWeights(reference_kwh=0)


@given(
    energy=st.lists(st.floats(0, 1e4), min_size=1, max_size=20),
    avg=st.floats(0.0, 1.0),
    w=st.tuples(st.floats(0, 2), st.floats(0, 2)),
)
def test_bidding_prices_stay_in_band_and_are_monotone(energy, avg, w):
    weights = BiddingWeights(sell_energy=w[0], sell_average=w[1], buy_energy=w[0], buy_average=w[1])
    e = np.sort(np.array(energy))
    sell = selling_price(e, avg, 0.3, 0.1, weights)
    buy = buying_price(e, avg, 0.3, 0.1, weights)
    assert np.all((sell >= 0.1) & (sell <= 0.3)) and np.all((buy >= 0.1) & (buy <= 0.3))
    assert np.all(np.diff(sell) <= 1e-12)  # more surplus: cheaper asks
    assert np.all(np.diff(buy) >= -1e-12)  # more need: higher bids
