"""The bad-input catalogue: every wrong input ends with exit code 2 and one clear line.

Runs the real ``gridledger`` entry point in-process (fast); ``test_cli.py`` checks the
same contract through a subprocess for a few cases. Each case names what must appear in
the message: the offending key and what is allowed.
"""

from __future__ import annotations

import sys

import pytest

from experiments import run as run_module

CATALOGUE = [
    # value out of range
    ("population.size=-5", ["population.size", ">= 1"]),
    ("population.size=0", ["population.size", ">= 1"]),
    ("population.evs_per_household=-0.1", ["population.evs_per_household", ">= 0"]),
    ("population.providers_per_area=-1", ["population.providers_per_area", ">= 0"]),
    ("population.pv_share=1.5", ["population.pv_share", "<= 1"]),
    ("population.battery_share_of_pv=-0.2", ["population.battery_share_of_pv", ">= 0"]),
    (
        "population.households.battery_capacity_kwh=-1",
        ["population.households.battery_capacity_kwh", ">= 0"],
    ),
    ("population.households.battery_efficiency=0", ["battery_efficiency", "> 0"]),
    ("population.households.battery_efficiency=1.2", ["battery_efficiency", "<= 1"]),
    ("population.households.pv_peak_kw=-5", ["pv_peak_kw", ">= 0"]),
    ("population.households.load_noise_sigma=3", ["load_noise_sigma", "<= 2"]),
    ("population.households.wallet_coins=1e13", ["households.wallet_coins", "<="]),
    ("population.evs.charge_power_kw=-7", ["evs.charge_power_kw", ">= 0"]),
    ("population.evs.schedule=random", ["evs.schedule", "commute"]),
    ("population.evs.speed_kmh=0", ["evs.speed_kmh", "> 0"]),
    ("population.profiles=fancy", ["profiles", "standard"]),
    ("population.miners.ratio=0", ["miners.ratio", "> 0"]),
    ("population.households.commercial_share=2", ["households.commercial_share", "<= 1"]),
    ("population.evs.target_soc=1.1", ["evs.target_soc", "<= 1"]),
    ("population.evs.battery_kwh=[0,10]", ["evs.battery_kwh", "lower > 0"]),
    ("population.providers.offer_blocks=0", ["providers.offer_blocks", ">= 1"]),
    ("population.providers.capacity_kw=-50", ["providers.capacity_kw", ">= 0"]),
    ("population.grid_operator_wallet_coins=-1", ["grid_operator_wallet_coins", ">= 0"]),
    ("time.step_minutes=0", ["time.step_minutes", "divides a day"]),
    ("time.step_minutes=7", ["time.step_minutes", "divides a day"]),
    ("time.step_minutes=2000", ["time.step_minutes", "divides a day"]),
    ("time.steps=0", ["time.steps", ">= 1"]),
    ("seed=-1", ["seed", ">= 0"]),
    ("chain.block_period_s=0", ["chain.block_period_s", "> 0"]),
    ("chain.max_block_tx=0", ["chain.max_block_tx"]),
    ("chain.n_validators=0", ["chain.n_validators"]),
    ("chain.layout=ring", ["chain.layout", "single, sharded, two_layer, dual"]),
    ("chain.layout=sharded chain.cross=half", ["chain.cross", "full, partial"]),
    ("chain.reselect_every=0", ["chain.reselect_every", ">= 1"]),
    ("chain.cross_reserve_coins=-1", ["chain.cross_reserve_coins", "[0, 1e12]"]),
    ("chain.dual_block_period_s=0", ["chain.dual_block_period_s", "> 0"]),
    ("adversary=all chain.layout=sharded", ["chain.layout must be single", "adversary"]),
    ("grid.n_areas=0", ["grid.n_areas", "from 1"]),
    ("grid.buses_per_area=0", ["grid.buses_per_area", ">= 1"]),
    ("grid.line_length_km=[0.3,0.1]", ["grid.line_length_km", "lower <= upper"]),
    ("grid.trunk_length_km=0", ["grid.trunk_length_km", "> 0"]),
    ("tariff.peak_coins_per_kwh=0.05", ["tariff.peak_coins_per_kwh", ">= feed_in"]),
    ("tariff.feed_in_coins_per_kwh=-0.1", ["tariff.feed_in_coins_per_kwh", ">= 0"]),
    ("tariff.peak_start_h=25", ["tariff.day_start_h", "<= 24"]),
    ("output.agents_sample=-1", ["output.agents_sample", ">= 0"]),
    ("simulation.agent_path=sideways", ["simulation.agent_path", "vectorized"]),
    ("market.price_rule=best", ["market.price_rule", "midpoint"]),
    # wrong type
    ("population.size=abc", ["population.size", "Integer"]),
    ("time.steps=1.5", ["time.steps", "Integer"]),
    ("population.pv_share=half", ["population.pv_share", "Float"]),
    ("chain.seal_empty_blocks=maybe", ["chain.seal_empty_blocks", "bool"]),
    ("population.households.mean_load_kw=0.5", ["population.households.mean_load_kw"]),
    # unknown keys and group options
    ("population.sise=3", ["population.sise", "not in"]),
    ("market=nosuch", ["market=nosuch", "allowed", "sorted_pairing"]),
    ("chain=nosuch", ["chain=nosuch", "allowed", "poa"]),
    ("runtime=cloud", ["runtime=cloud", "allowed", "local"]),
    ("grid=moon", ["grid=moon", "allowed", "radial"]),
    ("experiment=nosuch", ["experiment=nosuch", "allowed"]),
    ("population=nosuch", ["population=nosuch", "allowed", "default"]),
    ("runtime.num_workers=2", ["runtime.num_workers", "not in"]),
    # contradictory settings
    ("chain.n_validators=1000", ["chain.n_validators", "number of grid buses"]),
    ("population.size=1 grid.n_areas=3", ["population.size", "grid.n_areas"]),
    (
        "population.households.battery_initial_soc=0.95",
        ["battery_initial_soc", "within battery_soc_bounds"],
    ),
    (
        "population.households.battery_soc_bounds=[0.9,0.1]",
        ["battery_soc_bounds", "lower <= upper"],
    ),
    ("population.evs.departure_h=[10,20]", ["arrival_h", "later than every departure"]),
    ("population.evs.arrival_h=[5,6]", ["arrival_h", "later than every departure"]),
    # market state of the agents
    ("population.households.reliability=[0.5,1.5]", ["reliability", "<= 1"]),
    ("population.renewables.stability=2", ["stability", "<= 1"]),
    ("population.renewable_providers_per_area=-1", ["renewable_providers_per_area", ">= 0"]),
    ("population.initial_reputation=2", ["initial_reputation", "<= 1"]),
    # run control (checkpoints, resume, debug mode, Ray restarts)
    ("checkpoint.every_steps=-1", ["checkpoint.every_steps", ">= 0"]),
    ("checkpoint.every_steps=2.5", ["checkpoint.every_steps", "Integer"]),
    ("resume=true", ["resume=true", "no checkpoint.pkl"]),
    ("debug.invariants=sometimes", ["debug.invariants", "bool"]),
    ("runtime=ray runtime.max_restarts=-1", ["runtime.max_restarts", ">= 0"]),
    ("runtime.threads=0", ["runtime.threads", ">= 1", "null"]),
    ("runtime.threads=two", ["runtime.threads", "Integer"]),
    # adversaries (docs/security.md)
    ("adversary.share=1.5", ["adversary.share", "[0, 1]"]),
    ("adversary.kinds=[teleport]", ["adversary.kinds", "double_spend"]),
    ("adversary.registration_quota=0", ["adversary.registration_quota", ">= 1"]),
    ("adversary.fork_hash_share=1", ["adversary.fork_hash_share", "[0, 1)"]),
    ("adversary=nosuch", ["adversary=nosuch", "allowed", "none"]),
    ("adversary.faulty_validators=9", ["adversary.faulty_validators", "at most n_validators"]),
    (
        "adversary.faulty_validators=1 adversary.validator_behaviour=equivocate",
        ["adversary.validator_behaviour", "silent", "chain=poa"],
    ),
    ("simulation.dr_protocol=maybe", ["simulation.dr_protocol", "auto"]),
    ("settlement.mode=gross", ["settlement.mode", "per_trade, net"]),
    ("settlement.period_steps=0", ["settlement.period_steps", ">= 1"]),
    (
        "settlement.mode=net chain.layout=sharded",
        ["settlement.mode", "per_trade", "chain.layout=single"],
    ),
    ("settlement.mode=net market=double_auction", ["settlement.mode", "DR protocol off"]),
    ("settlement.mode=net adversary=users", ["settlement.mode", "adversary=none"]),
    # market adversaries (agents/market_adversary.py)
    ("adversary=market adversary.lie_factor=1", ["adversary.lie_factor", "> 1"]),
    ("adversary=market adversary.lie_factor=lots", ["adversary.lie_factor", "Float"]),
    (
        "adversary=market adversary.breach_delivery_fraction=1.0",
        ["adversary.breach_delivery_fraction", "[0, 1)"],
    ),
    ("adversary.kinds=[contract_breaker,cheat]", ["adversary.kinds", "surplus_liar"]),
    # malformed override syntax
    ("population.size=", ["population.size"]),
]


@pytest.mark.parametrize("overrides,expected", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input_stops_with_one_line_and_exit_2(
    overrides, expected, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(sys, "argv", ["gridledger", *overrides.split(), "hydra.run.dir=out"])
    with pytest.raises(SystemExit) as stopped:
        run_module.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("gridledger: error: ")
    for fragment in expected:
        assert fragment in err[0], (fragment, err[0])
    assert "Traceback" not in err[0]
    assert not (tmp_path / "out").exists(), "a failed start must leave no run directory"


def test_catalogue_is_at_least_forty_inputs():
    assert len(CATALOGUE) >= 40


def test_paper_market_on_a_tiny_population_runs(tmp_path, monkeypatch, capsys):
    """``market=double_auction`` once stopped here (the agents lacked its columns); it
    now runs on any population, households trading by sorted pairing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "gridledger",
            "market=double_auction",
            "population.size=4",
            "time.steps=1",
            "output.progress=false",
            "hydra.run.dir=out",
        ],
    )
    run_module.main()
    assert (tmp_path / "out" / "summary.json").exists()
