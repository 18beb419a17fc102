"""Market adversaries: metering of lies and breaches, the market's rule, config checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from agents.adversary import AdversaryConfig
from agents.market_adversary import AdversarialMarket, MarketAdversaries, delivered_per_trade
from agents.params import ParameterError
from chain.attacks import ATTACK_KINDS
from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.result import Trades
from market.sorted_pairing import SortedPairing
from market.two_level import TwoLevel

CTX = MarketContext(step=0, tariff=0.25, feed_in_tariff=0.05)


def adversaries(breakers=(), liars=(), lie_factor=2.0, fraction=0.0) -> MarketAdversaries:
    ids = np.array(sorted({*breakers, *liars}), np.int64)
    return MarketAdversaries(
        ids, np.array(breakers, np.int64), np.array(liars, np.int64), np.zeros(0, np.int64),
        lie_factor, fraction,
    )  # fmt: skip


def pair_book(extra=None) -> OrderBook:
    """Agent 1 buys 1000 Wh at <= 0.30; agent 2 sells 500 Wh at >= 0.10 (same area)."""
    return OrderBook.from_columns(
        agent=[1, 2], side=[BUY, SELL], quantity_wh=[1000, 500], limit_price=[0.30, 0.10],
        extra=extra,
    )  # fmt: skip


def test_delivered_per_trade_fills_a_liars_real_surplus_in_trade_order():
    trades = Trades._trusted(
        buyer=np.array([5, 6, 7]), seller=np.array([2, 2, 3]),
        buyer_order=np.array([0, 1, 2]), seller_order=np.array([3, 3, 4]),
        buyer_area=np.zeros(3, np.int64), seller_area=np.zeros(3, np.int64),
        quantity_wh=np.array([200, 200, 1000]), price=np.full(3, 0.2),
    )  # fmt: skip
    true_wh = np.array([0, 0, 0, 300, 1000])
    capped = np.array([False, False, False, True, False])
    fraction = np.array([1.0, 1.0, 1.0, 1.0, 0.25])
    # Liar order 3 has 300 Wh: the first trade gets 200, the second the last 100;
    # breaker order 4 delivers a quarter of its 1000 Wh.
    assert delivered_per_trade(trades, true_wh, capped, fraction).tolist() == [200, 100, 250]


def test_liar_without_settlement_victim_buys_the_shortfall_at_the_tariff():
    market = AdversarialMarket(SortedPairing(), adversaries(liars=[2]))
    result = market.clear(pair_book(), CTX)
    # The liar showed 1000 Wh and sold 1000 Wh at the midpoint 0.20 but had 500 Wh:
    # the meter records 500 Wh, the buyer's other 500 Wh go back to the grid.
    assert result.trades.quantity_wh.tolist() == [500]
    assert result.trades.price.tolist() == [pytest.approx(0.20)]
    assert result.residual_wh.tolist() == [500, 0]
    d = result.diagnostics
    assert d["adv_breaches"] == 1
    assert d["adv_undelivered_wh"] == 500
    assert d["adv_misallocated_coins"] == pytest.approx((0.25 - 0.20) * 0.5)
    assert d["adv_penalised"] == 0 and d["adv_penalty_coins"] == 0


def test_breaker_without_settlement_keeps_its_energy_and_is_not_penalised():
    market = AdversarialMarket(SortedPairing(), adversaries(breakers=[2], fraction=0.5))
    result = market.clear(pair_book(), CTX)
    # 500 Wh sold at 0.20, half delivered; the other half returns to both residuals.
    assert result.trades.quantity_wh.tolist() == [250]
    assert result.residual_wh.tolist() == [750, 250]
    assert result.diagnostics["adv_misallocated_coins"] == pytest.approx(0.05 * 0.25)
    assert result.diagnostics["adv_penalised"] == 0


def test_honest_book_is_untouched_by_the_wrapper():
    plain = SortedPairing().clear(pair_book(), CTX)
    wrapped = AdversarialMarket(SortedPairing(), adversaries(breakers=[9])).clear(pair_book(), CTX)
    assert wrapped.trades.quantity_wh.tolist() == plain.trades.quantity_wh.tolist()
    assert wrapped.residual_wh.tolist() == plain.residual_wh.tolist()
    assert wrapped.diagnostics["adv_breaches"] == 0


def two_level_book(credit: float) -> OrderBook:
    return pair_book(
        extra={"credit": [100.0, credit], "reliability": [1.0, 1.0], "qualified": [True, True]}
    )


def test_breaker_under_two_level_is_priced_by_the_contract_rule():
    plain = TwoLevel().clear(two_level_book(100.0), CTX)
    assert plain.trades.quantity_wh.tolist() == [500]  # the contract
    market = AdversarialMarket(TwoLevel(), adversaries(breakers=[2]))
    result = market.clear(two_level_book(100.0), CTX)
    # Nothing delivered: no trade, the buyer's whole 1000 Wh go to the grid.
    assert len(result.trades) == 0
    assert result.residual_wh.tolist() == [1000, 500]  # the breaker exports what it kept
    cols = result.order_columns
    assert cols["credit_after"].tolist() == [102.0, 96.0]  # +2 kept / -4 broken
    assert cols["penalty_coins"].tolist() == [0.0, pytest.approx(1.2 * 0.25 * 0.5)]  # beta p_m dE
    d = result.diagnostics
    assert d["adv_breaches"] == 1 and d["adv_penalised"] == 1
    assert d["adv_undelivered_wh"] == 500
    price = plain.trades.price[0]
    assert d["adv_misallocated_coins"] == pytest.approx((0.25 - price) * 0.5)


def test_breakers_credit_falls_below_50_and_punish_cuts_them_off():
    market = AdversarialMarket(TwoLevel(), adversaries(breakers=[2]))
    credit, cut = 100.0, []
    for _ in range(14):
        result = market.clear(two_level_book(credit), CTX)
        credit = float(result.order_columns["credit_after"][1])
        cut.append(bool(result.order_columns["cut_off"][1]))
    # 100 - 4k < 50 first at k = 13 (credit 48); from then on no contract (credit < 50).
    assert cut.index(True) == 12
    assert credit == 48.0


def test_wrapper_pickles_with_its_adversaries():
    market = AdversarialMarket(SortedPairing(), adversaries(liars=[2]))
    back = pickle.loads(pickle.dumps(market))
    assert back.name == "sorted_pairing"
    assert back.adversaries.liars.tolist() == [2]


def test_choose_draws_the_share_deterministically():
    config = AdversaryConfig(share=0.1, kinds=["contract_breaker", "market_sybil"])
    a = MarketAdversaries.choose(config, 7, 40)
    assert len(a.agents) == 4 and a.agents.tolist() == sorted(a.agents.tolist())
    assert a.breakers.tolist() == a.agents.tolist() and len(a.liars) == 0
    assert a.agents.tolist() == MarketAdversaries.choose(config, 7, 40).agents.tolist()
    assert not MarketAdversaries.choose(
        AdversaryConfig(share=0.1, kinds=["forge"]), 7, 40
    ).trades_dishonestly


def test_all_expands_in_place_and_keeps_market_kinds():
    config = AdversaryConfig(share=0.1, kinds=["all", "surplus_liar"])
    assert config.chain_kinds == ATTACK_KINDS
    assert config.market_kinds == ("surplus_liar",)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lie_factor": 1.0}, "lie_factor"),
        ({"breach_delivery_fraction": 1.0}, "breach_delivery_fraction"),
        ({"breach_delivery_fraction": -0.1}, "breach_delivery_fraction"),
        ({"kinds": ["contract_breaker", "cheat"]}, "kinds"),
    ],
)
def test_bad_market_adversary_values(kwargs, name):
    with pytest.raises(ParameterError) as err:
        AdversaryConfig(**kwargs)
    assert str(err.value).startswith(name)
