"""One station area: agents, physics, signed orders, local clearing and settlement."""

from __future__ import annotations

import dataclasses
import json
from itertools import pairwise

import numpy as np
import pytest

from agents.area import Area
from agents.behaviour import generator_offer_blocks, limit_price
from agents.kinds import Aggregator, ElectricVehicle, Prosumer, ServiceProvider
from agents.population import Population
from agents.settlement import SettlementBatch
from agents.tariff import TimeOfUseTariff
from agents.topology import RadialFeeders, area_buses
from agents.trips import route
from chain.keys import Identity
from market import BUY, SELL
from tests.agents.helpers import FEED_IN, GRAPH, STEPS_PER_DAY, RecordingMarket, make_spec


@pytest.fixture(scope="module")
def day():
    """An area run for a whole day, with every book and per-step state recorded."""
    recorder = RecordingMarket()
    area = Area(make_spec(market=recorder))
    steps = []
    for step in range(STEPS_PER_DAY):
        decision = area.decide(step)
        steps.append(
            dict(
                decision=decision,
                soc=area.households.soc_kwh.copy(),
                net=area.households.net_kwh.copy(),
                charge=area.households.charge_kwh.copy(),
                discharge=area.households.discharge_kwh.copy(),
                ev_plugged=area.evs.plugged.copy(),
                ev_wh=area.evs.charge_wh.copy(),
                ev_soc=area.evs.soc_kwh.copy(),
                ev_driven=area.evs.driven_kwh.copy(),
                ev_cells=[v.cell.coordinate for v in area.vehicles],
            )
        )
    return area, recorder.books, steps


def test_counts_and_agents_per_kind():
    area = Area(make_spec())
    counts = area.counts
    assert (
        counts.households,
        counts.with_pv,
        counts.with_battery,
        counts.evs,
        counts.providers,
    ) == (20, 10, 3, 5, 1)
    area.place_agents()
    by_type = area.world.agents_by_type
    assert len(by_type[Prosumer]) == 20
    assert len(by_type[ElectricVehicle]) == 5
    assert len(by_type[ServiceProvider]) == 1
    assert len(by_type[Aggregator]) == 1
    assert (area.households.pv_peak_kw > 0).sum() == 10
    assert (area.households.battery_capacity_kwh > 0).sum() == 3
    # Batteries only in PV homes; initial SoC half of capacity.
    assert (area.households.pv_peak_kw[area.households.battery_capacity_kwh > 0] > 0).all()
    np.testing.assert_array_equal(
        area.households.soc_kwh, area.households.battery_capacity_kwh * 0.5
    )
    # Wallets: households and EVs 1000 coins, provider 100, in micro-coins.
    np.testing.assert_array_equal(area.wallets.wallet_micro, [1_000_000_000] * 25 + [100_000_000])
    assert len(set(area.public_keys)) == 26
    assert area.public_keys[0] == Identity.derive(1, "agent/1").public_hex
    assert area.public_keys[25] == Identity.derive(1, "agent/26").public_hex
    assert list(area.genesis_balances_micro.values()) == area.wallets.wallet_micro.tolist()


def test_vectorised_path_creates_mesa_agents_only_when_asked():
    lazy = Area(make_spec())
    assert [type(a) for a in lazy.world.agents] == [Aggregator]
    eager = Area(make_spec(agent_path="per_agent"))
    for step in range(40):  # past the morning commute: some EVs are at work
        lazy.decide(step)
        eager.decide(step)
    assert len(lazy.world.agents) == 1
    # Placed late, every EV sits where its trip has taken it, like the moved ones.
    assert [v.cell.coordinate for v in lazy.vehicles] == [v.cell.coordinate for v in eager.vehicles]
    assert len(lazy.world.agents) == len(eager.world.agents) == 27
    assert lazy.prosumers[3].identity.public_hex == Identity.derive(1, "agent/4").public_hex
    seen = {tuple(v.cell.coordinate for v in lazy.vehicles)}
    for step in range(40, 96):  # the rest of the day: the placed EVs follow their trips
        lazy.decide(step)
        eager.decide(step)
        cells = [v.cell.coordinate for v in lazy.vehicles]
        assert cells == [v.cell.coordinate for v in eager.vehicles]
        seen.add(tuple(cells))
    assert len(seen) > 1  # some EV did move after it was placed


def test_agents_sit_on_cells_of_their_bus():
    area = Area(make_spec())
    station = 1
    assert area.station == station
    buses = set(area_buses(GRAPH, 0))
    for i, agent in enumerate(area.prosumers):
        assert agent.cell.coordinate == area.households.bus[i]
        assert agent.cell.coordinate in buses - {station}
        assert agent in agent.cell.agents
        assert agent.global_id == 1 + i and agent.wallet_row == i
    for j, ev in enumerate(area.vehicles):
        assert ev.cell.coordinate == area.evs.home_bus[j]
        assert ev.global_id == 21 + j
        # Every EV's home is some household's bus.
        assert area.evs.home_bus[j] in set(area.households.bus.tolist())
    for provider in area.service_providers:
        assert provider.cell.coordinate == station and provider.global_id == 26
    assert area.aggregator.cell.coordinate == station


def test_orders_are_positive_and_priced_in_band(day):
    area, books, steps = day
    assert len(books) == STEPS_PER_DAY
    block_wh, block_price = generator_offer_blocks(50.0, 0.25, 0.004, 0.14, 4)
    first_ev, first_provider = 1 + 20, 1 + 25
    for step, ((book, ctx), rec) in enumerate(zip(books, steps)):
        assert ctx.step == step
        assert ctx.feed_in_tariff == FEED_IN
        assert ctx.tariff == TimeOfUseTariff().retail_price((step + 0.5) / 4)
        assert rec["decision"].orders == len(book)
        assert rec["decision"].orders_rejected == 0
        assert (book.quantity_wh > 0).all()
        assert (book.area == 0).all()
        peer = ~book.dispatchable
        assert (book.limit_price[peer] >= ctx.feed_in_tariff).all()
        assert (book.limit_price[peer] <= ctx.tariff).all()
        # Households: one order per non-zero whole-Wh net, side from the sign.
        households = book.agent < first_ev
        net_wh = np.rint(rec["net"] * 1000).astype(np.int64)
        np.testing.assert_array_equal(book.agent[households] - 1, np.flatnonzero(net_wh))
        np.testing.assert_array_equal(book.quantity_wh[households], np.abs(net_wh[net_wh != 0]))
        np.testing.assert_array_equal(
            book.side[households], np.where(net_wh[net_wh != 0] > 0, BUY, SELL)
        )
        # Buyers bid with their bid markup, sellers ask with their ask markup.
        rows = book.agent[households] - 1
        markup = np.where(
            book.side[households] == BUY,
            area.households.bid_markup[rows],
            area.households.ask_markup[rows],
        )
        np.testing.assert_array_equal(
            book.limit_price[households], limit_price(markup, ctx.tariff, ctx.feed_in_tariff)
        )
        # EVs: a buy order for exactly the Wh they charge.
        evs = (book.agent >= first_ev) & (book.agent < first_provider)
        assert (book.side[evs] == BUY).all()
        np.testing.assert_array_equal(book.agent[evs] - first_ev, np.flatnonzero(rec["ev_wh"]))
        np.testing.assert_array_equal(book.quantity_wh[evs], rec["ev_wh"][rec["ev_wh"] > 0])
        np.testing.assert_array_equal(
            book.limit_price[evs],
            limit_price(
                area.evs.bid_markup[book.agent[evs] - first_ev], ctx.tariff, ctx.feed_in_tariff
            ),
        )
        # The provider: four dispatchable blocks at marginal cost.
        gen = book.agent == first_provider
        assert gen.sum() == 4
        assert (book.dispatchable == gen).all()
        assert (book.side[gen] == SELL).all()
        np.testing.assert_array_equal(book.quantity_wh[gen], [block_wh] * 4)
        np.testing.assert_array_equal(book.limit_price[gen], block_price)
    # Over a day there are both buyers and sellers among households.
    all_sides = np.concatenate([b.side[b.agent < first_ev] for b, _ in books])
    assert (all_sides == BUY).any() and (all_sides == SELL).any()


def test_battery_soc_within_bounds_and_consistent(day):
    area, _, steps = day
    cap = area.households.battery_capacity_kwh
    previous = cap * 0.5
    for rec in steps:
        soc = rec["soc"]
        assert (soc >= cap * 0.1 - 1e-9).all() and (soc <= cap * 0.9 + 1e-9).all()
        assert (rec["charge"] * rec["discharge"] == 0).all()
        np.testing.assert_allclose(
            soc, previous + rec["charge"] * 0.95 - rec["discharge"] / 0.95, atol=1e-12
        )
        assert (rec["charge"][cap == 0] == 0).all() and (rec["discharge"][cap == 0] == 0).all()
        previous = soc
    # The batteries were used in both directions during the day.
    assert sum(r["charge"].sum() for r in steps) > 0
    assert sum(r["discharge"].sum() for r in steps) > 0


def _expected_bus(graph, home, work, at_km):
    """The last bus of the shortest path home -> work whose distance is <= at_km."""
    path = route(graph, int(home), int(work))
    cum = np.concatenate([[0.0], np.cumsum([graph[a][b]["length_km"] for a, b in pairwise(path)])])
    return path[int(np.flatnonzero(cum <= at_km + 1e-9)[-1])]


def test_evs_unplugged_exactly_between_departure_and_arrival(day):
    area, _, steps = day
    ev = area.evs
    graph = area.spec.graph
    assert (ev.depart_step >= 28).all() and (ev.depart_step < 36).all()  # 07:00-09:00
    assert (ev.arrive_step >= 64).all() and (ev.arrive_step < 76).all()  # 16:00-19:00
    speed_km_per_step = area.spec.population.evs.speed_kmh * 0.25
    away_steps = ev.arrive_step - ev.depart_step
    rate = np.maximum(speed_km_per_step, 2 * ev.leg_km / away_steps)
    for step, rec in enumerate(steps):
        away = (ev.depart_step <= step) & (step < ev.arrive_step)
        np.testing.assert_array_equal(rec["ev_plugged"], ~away)
        assert (rec["ev_wh"][away] == 0).all()
        # Distance from home at the end of the step: out at the speed, back by arrival.
        k = step - ev.depart_step + 1
        at_km = np.where(away, np.minimum(ev.leg_km, rate * np.minimum(k, away_steps - k)), 0)
        expected = [
            _expected_bus(graph, h, w, d)
            for h, w, d in zip(ev.home_bus, ev.work_bus, at_km, strict=True)
        ]
        assert rec["ev_cells"] == expected
    assert area.vehicles[0].plugged_in == bool(steps[-1]["ev_plugged"][0])
    # Two legs a day (seed 000 Eq. 4), driven over the steps of the trip.
    driven = np.array([rec["ev_driven"] for rec in steps])
    np.testing.assert_allclose(driven.sum(axis=0), 2 * ev.leg_kwh, rtol=1e-12)
    out = driven[ev.depart_step, np.arange(len(ev.leg_kwh))]
    back = driven[ev.arrive_step - 1, np.arange(len(ev.leg_kwh))]
    first_km = np.minimum(ev.leg_km, rate)
    np.testing.assert_allclose(out, first_km * ev.leg_kwh / ev.leg_km, rtol=1e-12)
    np.testing.assert_allclose(back, first_km * ev.leg_kwh / ev.leg_km, rtol=1e-12)
    # Legs of 5-25 km at 7.5 km per step: longer ones take several steps each way.
    steps_on_road = (driven > 0).sum(axis=0)
    np.testing.assert_array_equal(steps_on_road, 2 * np.ceil(ev.leg_km / rate))
    # 10-40 km a day at 0.14-0.20 kWh/km.
    assert ((2 * ev.leg_kwh >= 1.4) & (2 * ev.leg_kwh <= 8.5)).all()


def test_evs_drive_their_trip_and_charge_toward_target(day):
    area, _, steps = day
    ev = area.evs
    soc = np.array([s["ev_soc"] for s in steps])
    plugged = np.array([s["ev_plugged"] for s in steps])
    # While away the SoC never rises; while plugged it never falls.
    diffs = np.diff(soc, axis=0)
    assert (diffs[~plugged[1:]] <= 0).all()
    assert (diffs[plugged[1:]] >= 0).all()
    assert (soc <= np.maximum(ev.capacity_kwh * 0.9, soc[0]) + 1e-9).all()


def test_grid_only_cost_matches_books(day):
    area, books, _ = day
    expected = np.zeros(26, dtype=np.int64)
    for book, ctx in books:
        retail = round(ctx.tariff * 1_000_000)
        for agent, side, q, disp in zip(book.agent, book.side, book.quantity_wh, book.dispatchable):
            if side == BUY:
                expected[agent - 1] += (int(q) * retail + 500) // 1000
            elif not disp:
                expected[agent - 1] -= (int(q) * 100_000 + 500) // 1000
    np.testing.assert_array_equal(area.wallets.grid_only_cost_micro, expected)
    assert area.wallets.grid_only_cost_micro[25] == 0  # the provider


def test_local_trades_and_residual_conserve_orders(day):
    _, books, steps = day
    for (book, _), rec in zip(books, steps):
        d = rec["decision"]
        traded = np.zeros(len(book), dtype=np.int64)
        np.add.at(traded, d.local_trades.buyer_order, d.local_trades.quantity_wh)
        np.add.at(traded, d.local_trades.seller_order, d.local_trades.quantity_wh)
        left = book.quantity_wh - traded
        assert (left >= 0).all()
        np.testing.assert_array_equal(d.residual.quantity_wh, left[left > 0])
        np.testing.assert_array_equal(d.residual.agent, book.agent[left > 0])


def test_energy_totals(day):
    area, _, steps = day
    energy = steps[-1]["decision"].energy_kwh
    hh, ev = area.households, area.evs
    assert energy["load_kwh"] == pytest.approx(hh.load_kwh.sum(), abs=1e-12)
    assert energy["battery_stored_kwh"] == pytest.approx(hh.soc_kwh.sum(), abs=1e-12)
    assert energy["ev_charge_kwh"] == ev.charge_wh.sum() / 1000
    assert energy["evs_plugged"] == float(ev.plugged.sum())
    assert energy["battery_loss_kwh"] == pytest.approx(
        (hh.charge_kwh * 0.05).sum() + (hh.discharge_kwh * (1 / 0.95 - 1)).sum(), abs=1e-12
    )
    assert energy["household_net_kwh"] == pytest.approx(
        (hh.load_kwh - hh.pv_kwh + hh.charge_kwh - hh.discharge_kwh).sum(), abs=1e-12
    )
    # PV only by day: the last step (23:45) has none, noon has plenty.
    assert energy["pv_kwh"] == 0.0
    assert steps[52]["decision"].energy_kwh["pv_kwh"] > 1.0


def _assert_same_decision(a, b):
    for name, col in a.local_trades.to_columns().items():
        np.testing.assert_array_equal(col, getattr(b.local_trades, name), err_msg=name)
    for name in ("agent", "side", "quantity_wh", "limit_price", "area", "dispatchable"):
        np.testing.assert_array_equal(
            getattr(a.residual, name), getattr(b.residual, name), err_msg=name
        )
    assert a.energy_kwh == b.energy_kwh
    assert (a.orders, a.orders_rejected) == (b.orders, b.orders_rejected)


def _assert_same_state(x: Area, y: Area):
    for kind in ("households", "evs", "providers", "wallets"):
        sx, sy = getattr(x, kind), getattr(y, kind)
        for field in dataclasses.fields(sx):
            np.testing.assert_array_equal(
                getattr(sx, field.name), getattr(sy, field.name), err_msg=f"{kind}.{field.name}"
            )


def test_per_agent_path_is_bit_identical_to_vectorised():
    vec, per = Area(make_spec()), Area(make_spec(agent_path="per_agent"))
    # Run past departures (steps 28-36) and arrivals (64-76), into the next day.
    for step in list(range(0, 40)) + list(range(60, 80)) + [96, 97]:
        _assert_same_decision(vec.decide(step), per.decide(step))
        _assert_same_state(vec, per)
        assert [v.cell.coordinate for v in vec.vehicles] == [
            v.cell.coordinate for v in per.vehicles
        ]


def test_unknown_agent_path_is_rejected():
    with pytest.raises(ValueError, match="agent_path"):
        Area(make_spec(agent_path="batched"))


def test_same_spec_twice_gives_identical_decisions():
    a, b = Area(make_spec()), Area(make_spec())
    assert a.public_keys == b.public_keys
    for step in range(0, 96, 7):
        _assert_same_decision(a.decide(step), b.decide(step))
    _assert_same_state(a, b)
    # A different area seed draws a different area.
    c = Area(make_spec(seed=np.random.SeedSequence(2)))
    assert not np.array_equal(c.households.mean_load_kw, a.households.mean_load_kw)


def test_forged_order_is_rejected_by_the_aggregator():
    recorder = RecordingMarket()
    area = Area(make_spec(market=recorder))
    # The aggregator now knows household 0 under someone else's key.
    area.public_keys[0] = Identity.derive(99, "intruder").public_hex
    decision = area.decide(0)
    book, _ = recorder.books[0]
    assert decision.orders_rejected == 1
    assert decision.orders == len(book) + 1
    assert 1 not in book.agent.tolist()
    assert area.aggregator.orders_rejected == 1
    assert area.aggregator.orders_received == len(book) + 1


def test_unsigned_orders_skip_verification():
    area = Area(make_spec(sign_orders=False))
    area.public_keys[0] = Identity.derive(99, "intruder").public_hex
    assert area.decide(0).orders_rejected == 0


# ---------------------------------------------------------------- settlement
def _batch(
    area, step, trade_id, payer, receiver_rows, amount, receipt_agent, receipt_micro, receipt_wh
):
    n = len(trade_id)
    return SettlementBatch(
        step=step,
        timestamp_ms=step * 900_000,
        trade_id=np.array(trade_id, np.int64),
        payer=np.array(payer, np.int64),
        receiver_key=[area.public_keys[r] for r in receiver_rows],
        amount_micro=np.array(amount, np.int64),
        kind=["p2p_payment"] * n,
        energy_wh=np.array([100 * (i + 1) for i in range(n)], np.int64),
        price_micro=np.array([150_000] * n, np.int64),
        receipt_agent=np.array(receipt_agent, np.int64),
        receipt_micro=np.array(receipt_micro, np.int64),
        receipt_energy_wh=np.array(receipt_wh, np.int64),
    )


def test_settle_signs_payments_with_consecutive_nonces_and_books_money():
    area = Area(make_spec(sample_size=5))
    area.decide(0)
    # Global ids: households 1-20, EVs 21-25, provider 26.
    batch = _batch(
        area,
        0,
        trade_id=[10, 11, 12, 13],
        payer=[3, 21, 3, 3],
        receiver_rows=[25, 25, 4, 25],
        amount=[15, 30_000, 7, 1],
        receipt_agent=[26, 26, 5, 26],
        receipt_micro=[15, 30_000, 7, 1],
        receipt_wh=[100, 200, 300, 400],
    )
    signed, sample = area.settle(batch)
    assert [s.tx.nonce for s in signed] == [0, 0, 1, 2]
    assert [s.tx.sender for s in signed] == [area.public_keys[r] for r in (2, 20, 2, 2)]
    assert [s.tx.receiver for s in signed] == [area.public_keys[r] for r in (25, 25, 4, 25)]
    assert [s.tx.amount for s in signed] == [15, 30_000, 7, 1]
    assert [s.tx.payload["trade_id"] for s in signed] == [10, 11, 12, 13]
    assert [s.tx.payload["energy_wh"] for s in signed] == [100, 200, 300, 400]
    assert all(s.tx.payload["price_micro_per_kwh"] == 150_000 for s in signed)
    assert all(s.tx.payload["step"] == 0 and s.tx.timestamp_ms == 0 for s in signed)
    assert all(s.tx.chain_id == "main" and s.tx.kind == "p2p_payment" for s in signed)
    assert all(s.verify_signature() for s in signed)
    w = area.wallets
    genesis = 1_000_000_000
    assert w.wallet_micro[2] == genesis - 23 and w.paid_micro[2] == 23
    assert w.wallet_micro[20] == genesis - 30_000 and w.paid_micro[20] == 30_000
    assert w.wallet_micro[4] == genesis + 7 and w.received_micro[4] == 7
    assert w.wallet_micro[25] == 100_000_000 + 30_016 and w.received_micro[25] == 30_016
    np.testing.assert_array_equal(w.nonce[[2, 20]], [3, 1])
    assert w.nonce.sum() == 4
    assert w.paid_micro.sum() == w.received_micro.sum() == 30_023
    assert area.providers.sold_wh.tolist() == [700]
    # Sample of 5 agents spread over the 26 rows.
    np.testing.assert_array_equal(sample["agent"], [1, 7, 13, 19, 26])
    np.testing.assert_array_equal(sample["step"], [0] * 5)
    assert sample["wallet_coins"][-1] == 100.030016
    assert sample["net_kwh"][-1] == -0.7

    # The next step carries the nonces on, and the provider's sales restart.
    batch = _batch(
        area,
        1,
        trade_id=[20],
        payer=[3],
        receiver_rows=[25],
        amount=[5],
        receipt_agent=[26],
        receipt_micro=[5],
        receipt_wh=[50],
    )
    signed, _ = area.settle(batch)
    assert signed[0].tx.nonce == 3
    assert signed[0].tx.timestamp_ms == 900_000
    assert area.wallets.wallet_micro[2] == genesis - 28
    assert area.providers.sold_wh.tolist() == [50]


def test_payment_with_a_bad_signature_is_dropped_and_its_nonce_reused(monkeypatch):
    area = Area(make_spec())
    area.decide(0)
    honest = Area._sign

    def tamper(self, row, message):
        signature = honest(self, row, message)
        # Flip one bit of the signature of trade 11's payment.
        if json.loads(message)["payload"]["trade_id"] == 11:
            bad = bytearray(signature)
            bad[0] ^= 1
            return bytes(bad)
        return signature

    monkeypatch.setattr(Area, "_sign", tamper)
    batch = _batch(
        area,
        0,
        trade_id=[10, 11, 12],
        payer=[3, 3, 3],
        receiver_rows=[25, 25, 25],
        amount=[1, 2, 3],
        receipt_agent=[26, 26, 26],
        receipt_micro=[1, 2, 3],
        receipt_wh=[100, 200, 300],
    )
    signed, _ = area.settle(batch)
    assert [s.tx.payload["trade_id"] for s in signed] == [10, 12]
    # The dropped payment's nonce goes to the next one: the payer's sequence has no gap.
    assert [s.tx.nonce for s in signed] == [0, 1]
    assert area.wallets.nonce[2] == 2
    assert area.aggregator.payments_dropped == 1
    assert all(s.verify_signature() for s in signed)


def test_settle_empty_batch_changes_nothing():
    area = Area(make_spec())
    area.decide(0)
    before = dataclasses.replace(area.wallets)
    before_arrays = {f.name: getattr(before, f.name).copy() for f in dataclasses.fields(before)}
    signed, _ = area.settle(_batch(area, 0, [], [], [], [], [], [], []))
    assert signed == []
    for name, arr in before_arrays.items():
        np.testing.assert_array_equal(getattr(area.wallets, name), arr)


def test_agent_views_read_their_rows():
    area = Area(make_spec())
    area.decide(40)  # 10:00, EVs away
    hh, ev = area.households, area.evs
    for i in (0, 7, 19):
        agent = area.prosumers[i]
        assert agent.state_of_charge_kwh == hh.soc_kwh[i]
        assert agent.net_load_kwh == hh.net_kwh[i]
        assert agent.wallet_coins == 1000.0
    for j, vehicle in enumerate(area.vehicles):
        assert vehicle.state_of_charge_kwh == ev.soc_kwh[j]
        assert vehicle.plugged_in is False
        assert vehicle.wallet_row == 20 + j
    assert area.service_providers[0].wallet_coins == 100.0
    assert area.service_providers[0].wallet_row == 25


def test_single_bus_area_puts_everyone_on_the_station():
    graph = RadialFeeders(n_areas=1, buses_per_area=1).build(np.random.default_rng(0))
    pop = Population(size=4)
    area = Area(
        make_spec(graph=graph.subgraph([1]).copy(), population=pop, counts=pop.area_counts(1)[0])
    )
    assert set(area.households.bus.tolist()) == {1}
    assert set(area.evs.work_bus.tolist()) <= {1}
    decision = area.decide(0)
    assert decision.orders >= 4  # provider blocks at least


def test_sample_reports_spread_rows():
    area = Area(make_spec(sample_size=3))
    np.testing.assert_array_equal(area.sample_rows, [0, 12, 25])
    area.decide(70)
    sample = area.sample()
    np.testing.assert_array_equal(sample["agent"], [1, 13, 26])
    np.testing.assert_array_equal(sample["net_kwh"][:2], area.households.net_kwh[[0, 12]])
    assert sample["net_kwh"][2] == 0.0 and sample["soc_kwh"][2] == 0.0
    assert not sample["plugged_in"].any()
    everyone = Area(make_spec(sample_size=1000))
    np.testing.assert_array_equal(everyone.sample_rows, np.arange(26))
    assert len(Area(make_spec(sample_size=0)).sample_rows) == 0
