"""PETS Stackelberg game (seed 001 ch. 3): leader auction, best responses, GA, mechanism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from market import BUY, SELL, MarketContext, MissingColumnError, OrderBook, Stackelberg
from market.counter_rng import CounterRandom
from market.stackelberg import PetsSettings, cost_coefficients, solve_pets
from market.stackelberg_ga import GAParameters, decode, gene_bits, penalised_fitness
from market.stackelberg_game import (
    Followers,
    best_response,
    bills,
    leader_profit,
    peak_to_average,
    select_leader,
    uncoordinated_schedule,
    window_mask,
)


def test_second_price_reverse_auction():
    sel = select_leader(np.array([12.0, 9.0, 10.0, 9.0]))
    assert (sel.leader, sel.leader_bid, sel.price_cap) == (1, 9.0, 9.0)
    sel = select_leader(np.array([12.0, 9.5, 10.0]))
    assert (sel.leader, sel.price_cap) == (1, 10.0)
    assert select_leader(np.array([7.0])).price_cap == float("inf")
    with pytest.raises(ValueError):
        select_leader(np.array([]))


def test_window_mask_wraps_past_midnight():
    mask = window_mask(np.array([22, 3]), np.array([1, 5]), 24)
    assert list(np.flatnonzero(mask[0])) == [0, 1, 22, 23]
    assert list(np.flatnonzero(mask[1])) == [3, 4, 5]


def test_best_response_hand_example_eqs_3_16_3_17():
    f = Followers(np.ones((1, 3), bool), np.array([5.0]), np.array([1.0]), np.array([3.0]))
    x = best_response(np.array([10.0, 8.0, 9.0]), f)
    np.testing.assert_allclose(x, [[1.0, 3.0, 1.0]])
    assert bills(np.array([10.0, 8.0, 9.0]), x)[0] == pytest.approx(10 + 24 + 9)


def _random_followers(seed: int, n: int, hours: int = 24) -> Followers:
    rng = CounterRandom(seed, 11)
    start = rng.integers(hours, n)
    length = rng.integers(hours, n)
    window = window_mask(start, start + length, hours)
    m = window.sum(axis=1)
    a_min = rng.random(n) * 1.0
    a_max = a_min + 0.5 + 6.0 * rng.random(n)
    energy = m * (a_min + (a_max - a_min) * rng.random(n))
    return Followers(window, energy, a_min, a_max)


@pytest.mark.parametrize("seed", range(12))
def test_best_response_equals_linear_programming_optimum(seed):
    f = _random_followers(seed, 6)
    rng = CounterRandom(seed, 12)
    prices = np.round(8 + 6 * rng.random(24), 1)  # ties are frequent
    x = best_response(prices, f)
    for j in range(6):
        hours = np.flatnonzero(f.window[j])
        res = linprog(
            prices[hours],
            A_eq=np.ones((1, len(hours))),
            b_eq=[f.energy_kwh[j]],
            bounds=[(f.alpha_min_kwh[j], f.alpha_max_kwh[j])] * len(hours),
            method="highs",
        )
        assert res.status == 0
        assert bills(prices, x[j : j + 1])[0] == pytest.approx(res.fun, rel=1e-9, abs=1e-9)
        assert x[j].sum() == pytest.approx(f.energy_kwh[j])
        assert np.all(x[j][~f.window[j]] == 0)
        assert np.all(x[j][hours] >= f.alpha_min_kwh[j] - 1e-12)
        assert np.all(x[j][hours] <= f.alpha_max_kwh[j] + 1e-12)


def test_par_and_uncoordinated_charging():
    assert peak_to_average(np.array([1.0, 1.0, 2.0])) == pytest.approx(1.5)
    assert peak_to_average(np.zeros(4)) == 0.0
    f = Followers(
        window_mask(np.array([1]), np.array([4]), 6), np.array([5.0]), np.zeros(1), np.array([2.0])
    )
    np.testing.assert_allclose(uncoordinated_schedule(f), [[0, 2, 2, 1, 0, 0]])


def test_gene_bits_and_decoding_follow_eq_3_20():
    assert gene_bits(8.0, 14.0, 0.01) == 10  # 2**9 <= 600 <= 2**10 (Eq. 3.21)
    chrom = np.array([[[0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]])
    np.testing.assert_allclose(decode(chrom, 8.0, 0.01), [[8.01, 8.0 + 10.23]])
    fit, feas = penalised_fitness(
        np.array([5.0, 5.0]), np.array([[True, True], [True, False]]), np.ones((2, 2), bool)
    )
    assert feas.tolist() == [True, False]
    assert fit[0] == 5.0 and fit[1] == pytest.approx(-(1e9 - 3 * 1e9 / 4))


@pytest.mark.parametrize("seed", range(4))
def test_ga_within_two_percent_of_exhaustive_search(seed):
    hours = 3
    f = _random_followers(seed, 4, hours)
    settings = PetsSettings(
        resolution_cents=0.1, m_day=0.05, m_night=0.04, ga=GAParameters(seed=seed, patience=60)
    )
    bids = np.array([8.5, 13.0])
    cap = np.full(hours, f.energy_kwh.sum())  # never binding: every price vector is feasible
    out = solve_pets(f, bids, cap, settings)
    assert out.feasible
    levels = 8.5 + 0.1 * np.arange(46)  # [leader bid, second bid] at 0.1 cents
    grid = np.array(list(itertools.product(levels, repeat=hours)))
    m, q, r = cost_coefficients(settings, hours)
    profit = leader_profit(grid, best_response(grid, f).sum(axis=1), m, q, r)
    best = profit.max()
    assert out.profit_cents >= best - 0.02 * abs(best)
    assert out.generations >= out.converged_generation


def test_ga_is_deterministic_and_respects_the_price_cap():
    f = _random_followers(3, 10)
    settings = PetsSettings(ga=GAParameters(population=20, max_generations=40, patience=20, seed=5))
    a = solve_pets(f, np.array([9.0, 11.0, 12.5]), np.full(24, 1e6), settings)
    b = solve_pets(f, np.array([9.0, 11.0, 12.5]), np.full(24, 1e6), settings)
    np.testing.assert_array_equal(a.prices_cents, b.prices_cents)
    assert a.leader == 0 and a.price_cap_cents == 11.0
    assert np.all(a.prices_cents >= 9.0) and np.all(a.prices_cents <= 11.0)
    assert a.par > 0 and a.par_uncoordinated > 0


def _ev_book(limit: float = 0.2) -> OrderBook:
    n_ev = 6
    return OrderBook.from_columns(
        agent=np.arange(n_ev + 2),
        side=[BUY] * n_ev + [SELL, SELL],
        quantity_wh=[10_000] * n_ev + [50_000, 50_000],
        limit_price=[limit] * n_ev + [0.09, 0.12],
        extra={
            "plug_in_hour": [18, 19, 20, 22, 17, 21, 0, 0],
            "plug_out_hour": [7, 6, 7, 5, 23, 7, 0, 0],
            "energy_need_wh": [20_000, 15_000, 30_000, 10_000, 8_000, 25_000, 0, 0],
            "alpha_max_wh": [3000, 3000, 5000, 3000, 4000, 5000, 0, 0],
        },
    )


def test_mechanism_trades_each_hour_of_the_schedule():
    mech = Stackelberg(population=20, max_generations=30, patience=10, step_minutes=60)
    book = _ev_book()
    bought = np.zeros(len(book), dtype=np.int64)
    for hour in range(24):
        ctx = MarketContext(step=hour, tariff=0.3, feed_in_tariff=0.1)
        result = mech.clear(book, ctx)
        t = result.trades
        price = result.diagnostics["price_now_cents"] / 100
        np.testing.assert_allclose(t.price, price)
        assert 0.09 <= price <= 0.12  # never below its bid, never above the second bid
        assert np.all(t.seller_order == 6)  # the lowest bid leads
        np.add.at(bought, t.buyer_order, t.quantity_wh)
        assert result.diagnostics["par"] >= 1.0
    # Over the day every EV gets its need (whole Wh per hour, floored).
    need = book.extra["energy_need_wh"][:6]
    assert np.all(bought[:6] <= need) and np.all(bought[:6] >= need - 24)
    # The schedule is memoised: the same book gives the same day.
    again = mech.clear(book, MarketContext(step=2, tariff=0.3, feed_in_tariff=0.1))
    first = mech.clear(book, MarketContext(step=2, tariff=0.3, feed_in_tariff=0.1, hour_of_day=2.0))
    np.testing.assert_array_equal(again.trades.quantity_wh, first.trades.quantity_wh)


def test_evs_priced_out_buy_nothing():
    mech = Stackelberg(population=20, max_generations=30, patience=10, step_minutes=60)
    for hour in (0, 3, 20):
        ctx = MarketContext(step=hour, tariff=0.3, feed_in_tariff=0.1)
        assert len(mech.clear(_ev_book(limit=0.05), ctx).trades) == 0


def test_missing_ev_columns_are_named():
    book = OrderBook.from_columns(
        agent=[1, 2], side=[BUY, SELL], quantity_wh=[5, 5], limit_price=[1, 0.1]
    )
    ctx = MarketContext(step=0, tariff=0.3, feed_in_tariff=0.1)
    with pytest.raises(MissingColumnError, match="'plug_in_hour'"):
        Stackelberg().clear(book, ctx)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_min_cents": 15.0}, "^p_min_cents"),
        ({"population": 7}, "^population"),
        ({"step_minutes": 7}, "^step_minutes"),
        ({"crossover_rate": 1.5}, "^crossover_rate"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Stackelberg(**kwargs)
