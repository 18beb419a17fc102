"""Per-order market columns from agent state, and the market state they feed back into."""

from __future__ import annotations

import numpy as np
import pytest

import market
from agents.area import Area
from agents.market_columns import BUILDERS, OrderRows, build_columns, check_columns
from agents.market_feedback import (
    INCENTIVE_KIND,
    PENALTY_KIND,
    MarketFeedback,
    apply_feedback,
    feedback_of,
    transfers_of,
)
from agents.population import Population
from agents.state import MarketState
from market import BUY, SELL, MarketContext, OrderBook, TwoLevel
from tests.agents.helpers import make_spec


def _rows(h=(), e=(), p=(), block=(), block_wh=()):
    arr = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    return OrderRows(arr(h), arr(e), arr(p), arr(block), np.array(block_wh, dtype=float))


def test_every_mechanism_column_has_a_builder():
    for cls in market.MECHANISMS.values():
        check_columns(market.book_columns_of(cls))
    with pytest.raises(ValueError, match="book_columns"):
        check_columns(["no_such_column"])


def test_ev_columns_hand_computed():
    area = Area(make_spec(market=market.Stackelberg()))
    ev = area.evs
    # EV 0: leaves at 08:00 (step 32), back at 17:30 (step 70), 1.9 kWh each way,
    # keeps a 4 kWh reserve, charged 1 kWh this step, no V2G.
    ev.depart_step[0], ev.arrive_step[0], ev.leg_kwh[0], ev.reserve_kwh[0] = 32, 70, 1.9, 4.0
    ev.capacity_kwh[0], ev.soc_kwh[0], ev.charge_wh[0], ev.discharge_wh[0] = 20.0, 10.9, 1000.0, 0
    ev.range_km[0], ev.position_bus[0] = 120.0, ev.home_bus[0]
    cols = build_columns(
        area,
        [
            "plug_in_hour", "plug_out_hour", "energy_need_wh", "soc", "e_min_wh",
            "is_ev", "is_provider", "alpha_max_wh", "soc_max", "threshold_wh", "max_range_km",
        ],
        _rows(e=[0]),
    )  # fmt: skip
    assert cols["plug_in_hour"][0] == 17.0
    assert cols["plug_out_hour"][0] == 7.0
    # there and back 2 x 1.9 = 3.8 kWh, at the meter / 0.9 efficiency.
    assert cols["energy_need_wh"][0] == pytest.approx(3800.0 / 0.9)
    # Before charging: 10.9 - 1.0 x 0.9 = 10.0 kWh of 20.
    assert cols["soc"][0] == pytest.approx(0.5)
    # e_min: trip 3.8 + reserve 4.0 - 10.0 stored < 0 -> 0.
    assert cols["e_min_wh"][0] == 0.0
    ev.soc_kwh[0] = 0.9 + 2.0  # 2.0 kWh before charging: 3.8 + 4.0 - 2.0 = 5.8 kWh short
    assert build_columns(area, ["e_min_wh"], _rows(e=[0]))["e_min_wh"][0] == pytest.approx(5800.0)
    assert cols["is_ev"].dtype == bool and cols["is_ev"][0] and not cols["is_provider"][0]
    assert cols["alpha_max_wh"][0] == 7200.0
    assert cols["soc_max"][0] == 0.9
    assert cols["threshold_wh"][0] == pytest.approx(4000.0)
    assert cols["max_range_km"][0] == 120.0
    # A V2G EV that discharged 0.9 kWh: before the step it held 0.9 / 0.9 = 1 kWh more.
    ev.charge_wh[0], ev.discharge_wh[0], ev.soc_kwh[0] = 0.0, 900.0, 9.0
    assert build_columns(area, ["soc"], _rows(e=[0]))["soc"][0] == pytest.approx(0.5)


def test_provider_block_costs_add_up_to_the_generator_cost():
    area = Area(make_spec(market=market.DoubleAuction()))
    c1, c2 = area.providers.c1[0], area.providers.c2[0]
    cols = build_columns(
        area,
        ["cost_c1", "cost_c2", "hourly_capacity_wh", "is_provider"],
        _rows(p=[0, 0, 0], block=[0, 1, 2], block_wh=[2000, 2000, 2000]),
    )
    assert list(cols["cost_c2"]) == pytest.approx([c2, c2 + 2 * c1 * 2.0, c2 + 2 * c1 * 4.0])
    assert list(cols["cost_c1"]) == [c1] * 3
    assert list(cols["hourly_capacity_wh"]) == [8000.0] * 3
    # Cost of the three full blocks = the generator's cost of 6 kWh.
    blocks = sum(c1 * 2.0**2 + cols["cost_c2"][k] * 2.0 for k in range(3))
    assert blocks == pytest.approx(c1 * 36.0 + c2 * 6.0)


def test_state_columns_read_the_market_state_by_wallet_row():
    area = Area(make_spec(market=market.TwoLevel()))
    h, e = area.counts.households, area.counts.evs
    area.market_state.credit[[1, h + 2, h + e]] = [90.0, 80.0, 70.0]
    area.market_state.cut_off[h + 2] = True
    cols = build_columns(
        area, ["credit", "qualified", "reputation"], _rows(h=[1], e=[2], p=[0], block=[0])
    )
    assert list(cols["credit"]) == [90.0, 80.0, 70.0]
    assert list(cols["qualified"]) == [True, False, True]
    assert list(cols["reputation"]) == [0.5] * 3


def test_positions_come_from_bus_coordinates():
    area = Area(make_spec(market=market.EvDemandResponse()))
    bus = int(area.households.bus[0])
    x, y = area.spec.graph.nodes[bus]["pos"]
    cols = build_columns(area, ["x_km", "y_km", "is_ev"], _rows(h=[0]))
    assert (cols["x_km"][0], cols["y_km"][0]) == (x, y)
    assert not cols["is_ev"][0]


def test_area_books_carry_the_mechanism_columns_and_nothing_else():
    for name, cls in market.MECHANISMS.items():
        recorded = []

        class Recording(cls):
            def clear(self, book, ctx, _inner=cls, _log=recorded):
                _log.append(book)
                return _inner.clear(self, book, ctx)

        area = Area(make_spec(market=Recording()))
        for step in (0, 70):
            area.decide(step)
        assert all(set(b.extra) == set(cls.book_columns) for b in recorded), name


def test_market_state_draws_reliability_in_the_configured_ranges():
    pop = Population(
        size=40,
        households={"reliability": [0.2, 0.3], "reliability_threshold": [0.5, 0.6]},
        evs={"reliability": [0.7, 0.8]},
        renewable_providers_per_area=1,
        renewables={"reliability": 0.4},
    )
    counts = pop.area_counts(2)[0]
    state = MarketState.draw(counts, pop, np.random.default_rng(0))
    h, e = counts.households, counts.evs
    assert np.all((state.reliability[:h] >= 0.2) & (state.reliability[:h] <= 0.3))
    assert np.all((state.reliability[h : h + e] >= 0.7) & (state.reliability[h : h + e] <= 0.8))
    assert list(state.reliability[h + e :]) == [1.0, 0.4]  # the generator, then the REP
    assert np.all(state.reliability_threshold[:h] >= 0.5)
    assert np.all(state.credit == 100.0) and not state.cut_off.any()


# ---------------------------------------------------------------- feedback and transfers
def _two_level_book(reliability_seller: float) -> OrderBook:
    # Agent 5 sells 2 kWh at 0.10, agent 7 buys 2 kWh at 0.20, both at credit 100.
    return OrderBook.from_columns(
        agent=[5, 7],
        side=[SELL, BUY],
        quantity_wh=[2000, 2000],
        limit_price=[0.10, 0.20],
        extra={
            "credit": [100.0, 100.0],
            "reliability": [reliability_seller, 1.0],
            "qualified": [True, True],
        },
    )


def test_breach_moves_credit_and_charges_a_penalty_to_the_grid():
    book = _two_level_book(0.0)  # always breaks
    ctx = MarketContext(step=3, tariff=0.25, feed_in_tariff=0.10)
    result = TwoLevel(beta=1.2).clear(book, ctx)
    assert result.diagnostics["n_broken"] == 1.0
    fb = feedback_of(book, result)
    assert list(fb.agent) == [5, 7]
    assert list(fb.credit_delta) == [-4.0, 2.0]
    transfers = transfers_of(book, result, grid_operator=0)
    # Unplanned 2 kWh x beta 1.2 x p_m 0.25 = 0.6 coins, seller -> grid operator.
    assert list(transfers.payer) == [5] and list(transfers.payee) == [0]
    assert list(transfers.amount_micro) == [600_000]
    assert list(transfers.kind) == [PENALTY_KIND]
    # Applied to an area whose first wallet holder is agent 5 (rows 0 and 2).
    state = MarketState.draw(
        Population(size=2, evs_per_household=0.0, providers_per_area=1).area_counts(1)[0],
        Population(size=2, evs_per_household=0.0, providers_per_area=1),
        np.random.default_rng(0),
    )
    apply_feedback(state, fb, id_offset=5)
    assert list(state.credit) == [96.0, 100.0, 102.0]


def test_kept_contract_gives_both_parties_two_credits_and_no_transfer():
    book = _two_level_book(1.0)
    result = TwoLevel().clear(book, MarketContext(step=0, tariff=0.25, feed_in_tariff=0.10))
    assert list(feedback_of(book, result).credit_delta) == [2.0, 2.0]
    assert len(transfers_of(book, result, 0)) == 0


def test_repeated_breaches_cut_the_user_off():
    pop = Population(size=2, evs_per_household=0.0, providers_per_area=0)
    state = MarketState.draw(pop.area_counts(1)[0], pop, np.random.default_rng(0))
    for _ in range(13):  # 100 - 13 x 4 = 48 < 50
        book = _two_level_book(0.0).with_extra(
            credit=[state.credit[0], 100.0], qualified=[not state.cut_off[0], True]
        )
        result = TwoLevel().clear(book, MarketContext(step=0, tariff=0.25, feed_in_tariff=0.1))
        fb = feedback_of(book, result)
        apply_feedback(state, fb.take(fb.agent == 5), id_offset=5)
    assert state.credit[0] == 48.0 and state.cut_off[0]
    # Cut off: no contract any more, so no further change.
    book = _two_level_book(0.0).with_extra(credit=[48.0, 100.0], qualified=[False, True])
    result = TwoLevel().clear(book, MarketContext(step=0, tariff=0.25, feed_in_tariff=0.1))
    assert result.diagnostics["n_contracts"] == 0.0


def test_reputation_feedback_once_per_producer_and_renewable_incentive():
    # Agent 3 sells in two blocks; agent 9 is a REP; agent 4 buys 3 kWh.
    book = OrderBook.from_columns(
        agent=[3, 3, 9, 4],
        side=[SELL, SELL, SELL, BUY],
        quantity_wh=[1000, 1000, 5000, 3000],
        limit_price=[0.11, 0.12, 0.11, 0.20],
        extra={
            "reputation": [0.5, 0.5, 0.5, 0.5],
            "reliability_threshold": [0.0, 0.0, 0.0, 0.3],
            "feedback_quality": [1.0, 1.0, 1.0, 1.0],
            "renewable": [False, False, True, False],
            "stable_from_hour": [0, 0, 10, 0],
            "stable_to_hour": [0, 0, 15, 0],
            "stable_hours": [0, 0, 1000, 0],
            "production_scale_kw": [0, 0, 1000, 0],
            "stability": [0, 0, 0.0, 0],
        },
    )
    ctx = MarketContext(step=48, tariff=0.2, feed_in_tariff=0.1, hour_of_day=12.0)
    result = market.LocalRE(reputation_step=0.05).clear(book, ctx)
    fb = feedback_of(book, result)
    got = dict(zip(fb.agent.tolist(), fb.reputation_delta.tolist(), strict=True))
    assert got == pytest.approx({3: 0.05, 9: 0.05})  # once per producer, not per block
    # The REP served 1 kWh: x = 1 x 1 + 0 = 1, C_d = 0.11 (1 + log10 2), incentive per kWh.
    transfers = transfers_of(book, result, grid_operator=0)
    assert list(transfers.payer) == [0] and list(transfers.payee) == [9]
    assert list(transfers.kind) == [INCENTIVE_KIND]
    assert transfers.amount_micro[0] == round(0.11 * np.log10(2.0) * 1e6)


def test_empty_feedback_changes_nothing():
    pop = Population(size=4)
    state = MarketState.draw(pop.area_counts(1)[0], pop, np.random.default_rng(0))
    before = state.credit.copy()
    apply_feedback(state, MarketFeedback.empty(), id_offset=1)
    assert np.array_equal(state.credit, before)
    assert "credit" in BUILDERS


def test_lmp_column_is_the_operators_last_price_else_the_tariff():
    area = Area(make_spec(market=market.LocalRE()))
    area.decide(40)  # 10:00-10:15, day tariff
    rows = _rows(h=[0, 1], p=[0], block=[0])
    assert list(build_columns(area, ["lmp"], rows)["lmp"]) == [0.20] * 3
    area.decide(41, lmp=0.17)
    assert list(build_columns(area, ["lmp"], rows)["lmp"]) == [0.17] * 3
