"""Population counts per area and parameter validation."""

from __future__ import annotations

import pytest

from agents.params import ParameterError, check_interval, check_range
from agents.population import (
    AreaCounts,
    EVParams,
    HouseholdParams,
    Population,
    ProviderParams,
)


def test_default_counts_over_two_areas():
    counts = Population(size=80).area_counts(2)
    expected = AreaCounts(households=40, with_pv=20, with_battery=7, evs=10, providers=1)
    assert counts == [expected, expected]
    assert expected.total == 51


def test_uneven_split_gives_first_areas_one_more():
    counts = Population(size=81).area_counts(2)
    assert [c.households for c in counts] == [41, 40]
    # round(41 * 0.5) = round(20.5) = 20 (half to even); round(41 * 0.25) = 10.
    assert counts[0] == AreaCounts(households=41, with_pv=20, with_battery=7, evs=10, providers=1)
    counts = Population(size=10).area_counts(3)
    assert [c.households for c in counts] == [4, 3, 3]
    assert sum(c.households for c in counts) == 10


def test_counts_follow_configured_ratios():
    pop = Population(
        size=30, evs_per_household=1.0, providers_per_area=2, pv_share=1.0, battery_share_of_pv=1.0
    )
    assert pop.area_counts(1) == [
        AreaCounts(households=30, with_pv=30, with_battery=30, evs=30, providers=2)
    ]
    assert pop.area_counts(1)[0].total == 62
    # More areas than households: trailing areas are empty but still have providers.
    counts = Population(size=1).area_counts(2)
    assert counts[1] == AreaCounts(households=0, with_pv=0, with_battery=0, evs=0, providers=1)


def test_nested_mappings_are_built_and_lists_frozen():
    pop = Population(
        households={"battery_capacity_kwh": 10.0, "mean_load_kw": [0.2, 0.4]},
        evs={"outside_km": [1.0, 2.0]},
        providers={"offer_blocks": 2},
    )
    assert isinstance(pop.households, HouseholdParams)
    assert pop.households.battery_capacity_kwh == 10.0
    assert pop.households.mean_load_kw == (0.2, 0.4)
    assert pop.evs.outside_km == (1.0, 2.0)
    assert pop.providers == ProviderParams(offer_blocks=2)
    hash(pop)  # frozen and hashable


def _error(factory, **kwargs) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        factory(**kwargs)
    err = info.value
    assert str(err).startswith(f"{err.key} must be ")
    return err


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(size=-1), "size"),
        (dict(size=0), "size"),
        (dict(size=2.5), "size"),
        (dict(pv_share=1.5), "pv_share"),
        (dict(pv_share=-0.1), "pv_share"),
        (dict(battery_share_of_pv=1.01), "battery_share_of_pv"),
        (dict(evs_per_household=-1.0), "evs_per_household"),
        (dict(providers_per_area=-1), "providers_per_area"),
        (dict(grid_operator_wallet_coins=-5.0), "grid_operator_wallet_coins"),
    ],
)
def test_population_errors(kwargs, key):
    err = _error(Population, **kwargs)
    assert err.key == key
    assert err.got == next(iter(kwargs.values()))


def test_pv_share_message():
    err = _error(Population, pv_share=1.5)
    assert str(err) == "pv_share must be <= 1.0 (got 1.5)"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(battery_initial_soc=0.95), "battery_initial_soc"),
        (dict(battery_initial_soc=0.05), "battery_initial_soc"),
        (dict(battery_soc_bounds=(0.6, 0.4)), "battery_soc_bounds"),
        (dict(battery_soc_bounds=(0.1, 1.2)), "battery_soc_bounds"),
        (dict(battery_capacity_kwh=-1.0), "battery_capacity_kwh"),
        (dict(battery_efficiency=0.0), "battery_efficiency"),
        (dict(battery_efficiency=1.1), "battery_efficiency"),
        (dict(mean_load_kw=(0.8, 0.3)), "mean_load_kw"),
        (dict(mean_load_kw=(0.1, 0.2, 0.3)), "mean_load_kw"),
        (dict(ask_markup=(0.5, 1.5)), "ask_markup"),
        (dict(load_noise_sigma=3.0), "load_noise_sigma"),
    ],
)
def test_household_errors(kwargs, key):
    assert _error(HouseholdParams, **kwargs).key == key


def test_initial_soc_checked_against_custom_bounds():
    HouseholdParams(battery_soc_bounds=(0.2, 0.3), battery_initial_soc=0.25)
    err = _error(HouseholdParams, battery_soc_bounds=(0.2, 0.3), battery_initial_soc=0.5)
    assert err.key == "battery_initial_soc"
    assert "[0.2, 0.3]" in err.allowed


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(departure_h=(7.0, 9.0), arrival_h=(8.5, 18.0)), "arrival_h"),
        (dict(departure_h=(7.0, 9.0), arrival_h=(9.0, 18.0)), "arrival_h"),  # not later
        (dict(arrival_h=(6.0, 5.0)), "arrival_h"),
        (dict(departure_h=(7.0, 25.0)), "departure_h"),
        (dict(battery_kwh=(0.0, 10.0)), "battery_kwh"),
        (dict(charge_efficiency=0.0), "charge_efficiency"),
        (dict(target_soc=1.2), "target_soc"),
        (dict(initial_soc=(0.3, 1.1)), "initial_soc"),
        (dict(outside_km=(-1.0, 2.0)), "outside_km"),
    ],
)
def test_ev_errors(kwargs, key):
    assert _error(EVParams, **kwargs).key == key


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(offer_blocks=0), "offer_blocks"),
        (dict(offer_blocks=2.0), "offer_blocks"),
        (dict(capacity_kw=-1.0), "capacity_kw"),
        (dict(cost_linear_coins_per_kwh=-0.1), "cost_linear_coins_per_kwh"),
    ],
)
def test_provider_errors(kwargs, key):
    assert _error(ProviderParams, **kwargs).key == key


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(households={"battery_capacity_kwh": -1.0}), "households.battery_capacity_kwh"),
        (dict(households={"battery_initial_soc": 0.95}), "households.battery_initial_soc"),
        (dict(evs={"arrival_h": [8.0, 10.0]}), "evs.arrival_h"),
        (dict(providers={"offer_blocks": 0}), "providers.offer_blocks"),
    ],
)
def test_nested_errors_carry_prefix(kwargs, key):
    err = _error(Population, **kwargs)
    assert err.key == key
    assert str(err).startswith(key + " must be ")


def test_unknown_nested_field_names_the_group():
    err = _error(Population, households={"no_such_field": 1})
    assert err.key == "households"
    assert "HouseholdParams" in err.allowed


def test_within_prefixes_and_keeps_details():
    err = ParameterError("a", ">= 0", -1).within("outer").within("top")
    assert err.key == "top.outer.a"
    assert (err.allowed, err.got) == (">= 0", -1)
    assert str(err) == "top.outer.a must be >= 0 (got -1)"


def test_check_helpers():
    check_range(0.0, "x", 0.0)
    with pytest.raises(ParameterError, match=r"^x must be > 0.0 \(got 0.0\)$"):
        check_range(0.0, "x", 0.0, low_open=True)
    assert check_interval([1, 2], "pair", 0.0, 3.0) == (1.0, 2.0)
    with pytest.raises(ParameterError) as info:
        check_interval([1, 4], "pair", 0.0, 3.0)
    assert info.value.key == "pair" and info.value.got == [1, 4]


# ---------------------------------------------------------------- integers, finiteness
@pytest.mark.parametrize(
    ("factory", "kwargs", "key"),
    [
        (Population, dict(size=True), "size"),
        (Population, dict(providers_per_area=True), "providers_per_area"),
        (ProviderParams, dict(offer_blocks=True), "offer_blocks"),
    ],
)
def test_bool_is_not_an_integer(factory, kwargs, key):
    with pytest.raises(ParameterError) as info:
        factory(**kwargs)
    assert info.value.key == key


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(households={"wallet_coins": float("inf")}), "households.wallet_coins"),
        (dict(households={"wallet_coins": 1e13}), "households.wallet_coins"),
        (dict(evs={"wallet_coins": float("inf")}), "evs.wallet_coins"),
        (dict(grid_operator_wallet_coins=float("inf")), "grid_operator_wallet_coins"),
    ],
)
def test_infinite_wallets_are_rejected(kwargs, key):
    with pytest.raises(ParameterError) as info:
        Population(**kwargs)
    assert info.value.key == key
