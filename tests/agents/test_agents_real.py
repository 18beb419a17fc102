"""Miners wired into chain=pow, EV trips/V2G/PETS, household kinds, grid supply."""

# ruff: noqa: D103

from __future__ import annotations

import numpy as np
import pytest

import market
from agents.area import Area
from agents.behaviour import charging_willingness, ev_step
from agents.params import ParameterError
from agents.population import Population
from agents.runtime import LocalRuntime
from agents.state import COMMERCIAL, INDUSTRIAL, RESIDENTIAL
from agents.tariff import GridSupply, TimeOfUseTariff
from agents.topology import RadialFeeders
from agents.trips import away_mask, legs_driven, path_km, trip_energy_kwh
from chain.consensus import ProofOfWork
from tests.agents.helpers import GRAPH, make_spec
from tests.agents.test_area import _assert_same_decision, _assert_same_state

MIXED = Population(
    size=40,
    evs_per_household=0.5,
    households={"commercial_share": 0.2, "industrial_share": 0.1},
    evs={"v2g_share": 0.5},
)


# ---------------------------------------------------------------- miners in chain=pow
def _pow_model(**population):
    from agents.model import GridModel

    return GridModel(
        market=market.SortedPairing(),
        consensus=ProofOfWork(),
        grid=RadialFeeders(n_areas=2, buses_per_area=5),
        population=Population(size=20, **population),
        tariff=TimeOfUseTariff(),
        runtime=LocalRuntime(),
        steps=2,
    )


def test_pow_takes_its_miners_and_hash_rates_from_algorithm_1():
    model = _pow_model(households={"commercial_share": 0.2}, miners={"home_threshold_kw": 0.0})
    pool = model.miner_pool
    assert len(pool) == 20 + 4  # households + EVs (2 per area) are the ordinary nodes
    sel = model.miner_selections[0]
    assert model.consensus.n_validators == len(sel.miners) == 5  # round(20 % of 24)
    assert model.consensus.hash_rates_hps == tuple(int(r) for r in pool.hash_rate_hps[sel.miners])
    assert [m.cell.coordinate for m in model.miners] == pool.bus[sel.miners].tolist()
    assert model.chain.genesis.validators == tuple(m.identity.public_hex for m in model.miners)
    model.run()
    assert model.chain.ledger.height >= 1


def test_pow_reselects_each_period_deterministically():
    a = _pow_model(miners={"home_threshold_kw": 0.0, "period_steps": 1})
    b = _pow_model(miners={"home_threshold_kw": 0.0, "period_steps": 1})
    for model in (a, b):
        model.step()
        model.step()
    assert [s.period for s in a.miner_selections] == [0, 1]
    for x, y in zip(a.miner_selections, b.miner_selections, strict=True):
        np.testing.assert_array_equal(x.miners, y.miners)


def test_pow_without_selection_keeps_the_configured_miners():
    model = _pow_model(miners={"enabled": False})
    assert model.consensus.n_validators == 4 and model.miner_pool is None


# ---------------------------------------------------------------- EV trips and V2G
def test_trip_energy_seed000_eq4():
    # 20 km with a 150 km range on a 30 kWh battery: 20 / 150 * 30 = 4 kWh.
    assert trip_energy_kwh(20.0, 150.0, 30.0) == pytest.approx(4.0)


def test_path_km_follows_line_lengths():
    import networkx as nx

    g = nx.Graph()
    g.add_edge(1, 2, length_km=0.3)
    g.add_edge(2, 3, length_km=0.2)
    g.add_edge(1, 3, length_km=1.0)
    np.testing.assert_allclose(path_km(g, np.array([1, 3, 9]), np.array([3, 1, 1])), [0.5, 0.5, 0])


def test_away_window_wraps_midnight_and_legs():
    depart, arrive = np.array([30, 90, 5]), np.array([70, 10, 5])
    np.testing.assert_array_equal(away_mask(50, depart, arrive), [True, False, False])
    np.testing.assert_array_equal(away_mask(95, depart, arrive), [False, True, False])
    np.testing.assert_array_equal(away_mask(3, depart, arrive), [False, True, False])
    np.testing.assert_array_equal(legs_driven(69, depart, arrive, 96), [1, 0, 0])
    np.testing.assert_array_equal(legs_driven(9, depart, arrive, 96), [0, 1, 0])


def test_v2g_discharge_stops_at_reserve_plus_trip():
    # 20 kWh stored, floor 15 kWh: 5 kWh x 0.9 = 4.5 kWh at the meter, power 7.2 kW x 1 h.
    charge, discharge, driven, soc = ev_step(True, True, 0.0, 20.0, 30.0, 7.2, 1.0, 0.9, 0.9, 15.0)
    assert (charge, discharge, driven) == (0.0, 4500.0, 0.0)
    assert soc == pytest.approx(15.0)
    # Below the floor nothing is sold.
    assert ev_step(True, True, 0.0, 14.0, 30.0, 7.2, 1.0, 0.9, 0.9, 15.0)[1] == 0.0
    assert charging_willingness(1.0, 7.5, 30.0) == pytest.approx(4.0)


def test_pets_schedule_is_plugged_within_8am_to_8am():
    pop = Population(size=40, evs={"schedule": "pets"})
    area = Area(make_spec(population=pop, counts=pop.area_counts(2)[0]))
    ev = area.evs
    plug = ev.arrive_step
    assert ((plug >= 32) & (plug <= 80)).all()  # 08:00-20:00
    assert ((ev.depart_step <= 32) | (ev.depart_step >= 88)).all()  # 22:00-08:00


def _mixed_spec(**kw):
    return make_spec(
        population=kw.pop("population", MIXED),
        counts=MIXED.area_counts(2)[0],
        graph=kw.pop(
            "graph", GRAPH.subgraph([n for n, d in GRAPH.nodes(data=True) if d["area"] == 0]).copy()
        ),
        **kw,
    )


def test_kinds_v2g_per_agent_path_is_bit_identical():
    vec, per = Area(_mixed_spec()), Area(_mixed_spec(agent_path="per_agent"))
    hh = vec.households
    assert (hh.kind == RESIDENTIAL).sum() == 14
    assert (hh.kind == COMMERCIAL).sum() == 4 and (hh.kind == INDUSTRIAL).sum() == 2
    assert vec.evs.v2g.sum() == 5
    sold = 0.0
    for step in list(range(0, 40)) + list(range(60, 90)) + [96, 97]:
        a, b = vec.decide(step), per.decide(step)
        _assert_same_decision(a, b)
        _assert_same_state(vec, per)
        sold += vec.evs.discharge_wh.sum()
        assert [v.cell.coordinate for v in vec.vehicles] == [
            v.cell.coordinate for v in per.vehicles
        ]
    assert sold > 0  # V2G EVs sold in the peak band
    # Commercial and industrial loads are far larger than homes'.
    assert (
        hh.mean_load_kw[hh.kind == INDUSTRIAL].min() > hh.mean_load_kw[hh.kind == RESIDENTIAL].max()
    )


def test_v2g_sells_only_in_the_peak_band_and_never_below_the_floor():
    area = Area(_mixed_spec())
    ev = area.evs
    floor = ev.reserve_kwh + 2 * ev.leg_kwh
    for step in range(96):
        area.decide(step)
        selling = ev.discharge_wh > 0
        hour = (step + 0.5) / 4
        assert not selling.any() or 16 <= hour < 20
        assert (ev.soc_kwh[selling] >= floor[selling] - 1e-9).all()
        assert not (selling & ~ev.v2g).any()


def test_bad_ev_and_household_parameters_are_named():
    with pytest.raises(ParameterError, match="^evs.schedule"):
        Population(evs={"schedule": "random"})
    with pytest.raises(ParameterError, match="^households.industrial_share"):
        Population(households={"commercial_share": 0.8, "industrial_share": 0.3})
    with pytest.raises(ParameterError, match="^profiles"):
        Population(profiles="fancy")


# ---------------------------------------------------------------- grid supply
def test_supply_capacity_shed_and_scarcity_price():
    shed = GridSupply()  # 4 MW, seed 000
    assert shed.served_kw(4500.0) == 4000.0 and shed.shortfall_kw(4500.0) == 500.0
    assert shed.shortfall_kw(3000.0) == 0.0
    scarce = GridSupply(over_capacity="scarcity_price", scarcity_coins_per_kwh=5.0)
    assert scarce.served_kw(4500.0) == 4500.0
    # 4000 kW at 0.2 + 500 kW at 5.0 for 0.25 h.
    assert scarce.supply_cost(4500.0, 0.2, 0.25) == pytest.approx((800.0 + 2500.0) * 0.25)


def test_demand_response_signal_and_marginal_generation_price():
    supply = GridSupply(dr_trigger_share=0.9, marginal_cost_coins_per_kwh=0.08)
    np.testing.assert_array_equal(
        supply.demand_response_signal(np.array([3500.0, 3700.0])), [False, True]
    )
    assert supply.marginal_generation_price(10.0) == pytest.approx(0.12)  # beta = 0.5
    assert supply.marginal_generation_price(-10.0) == pytest.approx(0.08)  # beta -> 0
    assert supply.unplanned_cost(10.0) == pytest.approx(1.2)
    assert supply.unplanned_cost(-10.0) == 0.0
    with pytest.raises(ParameterError, match="^over_capacity"):
        GridSupply(over_capacity="blackout")


def test_grid_operator_keeps_area_lmps():
    from agents.model import GridModel
    from agents.powerflow.network import FeederNetwork

    model = GridModel(
        market=market.SortedPairing(),
        consensus=ProofOfWork(n_validators=2),
        grid=RadialFeeders(n_areas=2, buses_per_area=3),
        population=Population(size=4, miners={"enabled": False}),
        tariff=TimeOfUseTariff(),
        runtime=LocalRuntime(),
        steps=1,
    )
    net = FeederNetwork.from_graph(model.graph, base_kv=0.4)
    demand = np.full(net.n_bus, 5.0)
    model.grid_operator.update_lmps(net, demand, model.station_of_area, retail_price=0.2)
    np.testing.assert_allclose(model.grid_operator.area_lmps, [0.2, 0.2])


# ---------------------------------------------------------------- limits and LMPs in a run
def _sce56_day(rule: str, **grid):
    from agents.feeders import Sce56Feeder
    from agents.model import GridModel
    from chain.consensus import ProofOfAuthority

    model = GridModel(
        market=market.SortedPairing(),
        consensus=ProofOfAuthority(),
        grid=Sce56Feeder(
            load_scale=0.0,
            pv_placement="none",
            rating_scale=0.0003,  # ratings of a few kW: providers' sales overload lines
            limits={"rule": rule},
            lmp=True,
            **grid,
        ),
        population=Population(
            size=40,
            providers={
                "capacity_kw": 400.0,
                "cost_linear_coins_per_kwh": 0.11,
                "cost_quadratic_coins_per_kwh2": 0.0,
            },
        ),
        tariff=TimeOfUseTariff(),
        runtime=LocalRuntime(),
        step_minutes=60,
        steps=24,
    )
    model.run()
    return model


@pytest.fixture(scope="module")
def limited_days():
    return {rule: _sce56_day(rule) for rule in ("none", "curtail", "price")}


def test_curtail_cuts_provider_sales_and_keeps_the_books(limited_days):
    none, curtail = limited_days["none"], limited_days["curtail"]
    assert none.operator_step.limited_wh == 0 and curtail.operator_step.limited_wh > 0
    cut_kwh = curtail.operator_step.limited_wh / 1000.0
    assert curtail.totals["provider_generation_kwh"] == pytest.approx(
        none.totals["provider_generation_kwh"] - cut_kwh, abs=1e-6
    )
    assert curtail.totals["grid_import_kwh"] == pytest.approx(
        none.totals["grid_import_kwh"] + cut_kwh, abs=1e-6
    )
    for model in (none, curtail):
        assert model.totals["transactions_rejected"] == 0
        assert model.totals["max_abs_energy_balance_error_kwh"] < 0.01


def test_price_rule_wheels_the_excess_and_charges_it(limited_days):
    none, price = limited_days["none"], limited_days["price"]
    assert price.operator_step.limited_wh == limited_days["curtail"].operator_step.limited_wh
    # Penalty 0.3 exceeds the trade prices (0.11-0.3): the seller gets 0 for the excess.
    assert (
        0
        < price.operator_step.network_charge_coins
        <= 0.3 * price.operator_step.limited_wh / 1000.0 + 1e-9
    )
    assert price.totals["provider_generation_kwh"] == pytest.approx(
        none.totals["provider_generation_kwh"]
    )
    assert price.totals["transactions_rejected"] == 0


def test_lmps_and_supply_signals_are_reported(limited_days):
    model = limited_days["none"]
    assert model.grid_operator.area_lmps.shape == (4,)
    assert np.isfinite(model.metrics["lmp_min_coins_per_kwh"])
    assert model.metrics["grid_shortfall_kw"] == 0.0 and model.metrics["dr_signal"] == 0.0


def test_limits_without_a_power_flow_are_refused():
    from agents.model import GridModel

    with pytest.raises(ParameterError, match="^limits.rule"):
        GridModel(
            market=market.SortedPairing(),
            consensus=ProofOfWork(n_validators=2),
            grid=RadialFeeders(limits={"rule": "curtail"}),
            population=Population(size=4),
            tariff=TimeOfUseTariff(),
            runtime=LocalRuntime(),
        )


@pytest.mark.slow
@pytest.mark.ray
def test_pow_miners_trips_and_kinds_match_under_ray(ray_session, tmp_path):
    from experiments.run import run_simulation
    from tests.conftest import make_config

    base = (
        "chain=pow",
        "population=seed000",
        "population.size=20",
        "time.steps=24",
        "output.progress=false",
        "output.agents_sample=0",
    )
    local = run_simulation(make_config(*base), tmp_path / "local")
    ray = run_simulation(
        make_config(*base, "runtime=ray", "runtime.num_workers=2"), tmp_path / "ray"
    )
    assert ray["ledger_head"] == local["ledger_head"]
    genesis = (tmp_path / "local" / "genesis.json").read_text()
    assert genesis == (tmp_path / "ray" / "genesis.json").read_text()
