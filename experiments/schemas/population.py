"""Schemas of the ``population/`` config group."""

from __future__ import annotations

from dataclasses import dataclass, field


# ---------------------------------------------------------------- population/
@dataclass
class HouseholdSchema:
    """Household parameters (see agents.population.HouseholdParams)."""

    mean_load_kw: list[float] = field(default_factory=lambda: [0.3, 0.8])
    load_noise_sigma: float = 0.15
    pv_peak_kw: float = 5.0
    battery_capacity_kwh: float = 5.0
    battery_power_kw: float = 2.5
    battery_efficiency: float = 0.95
    battery_soc_bounds: list[float] = field(default_factory=lambda: [0.1, 0.9])
    battery_initial_soc: float = 0.5
    ask_markup: list[float] = field(default_factory=lambda: [0.1, 0.6])
    bid_markup: list[float] = field(default_factory=lambda: [0.4, 0.9])
    wallet_coins: float = 1000.0
    reliability: list[float] = field(default_factory=lambda: [0.9, 1.0])
    reliability_threshold: list[float] = field(default_factory=lambda: [0.0, 0.6])


@dataclass
class EVSchema:
    """EV parameters (see agents.population.EVParams)."""

    battery_kwh: list[float] = field(default_factory=lambda: [12.0, 36.0])
    charge_power_kw: float = 7.2
    charge_efficiency: float = 0.9
    initial_soc: list[float] = field(default_factory=lambda: [0.3, 0.6])
    target_soc: float = 0.9
    departure_h: list[float] = field(default_factory=lambda: [7.0, 9.0])
    arrival_h: list[float] = field(default_factory=lambda: [16.0, 19.0])
    trip_kwh: list[float] = field(default_factory=lambda: [3.0, 10.0])
    bid_markup: list[float] = field(default_factory=lambda: [0.5, 1.0])
    wallet_coins: float = 1000.0
    max_range_km: float = 150.0
    reserve_soc: float = 0.2
    reliability: list[float] = field(default_factory=lambda: [0.9, 1.0])


@dataclass
class ProviderSchema:
    """Service-provider parameters (see agents.population.ProviderParams)."""

    capacity_kw: float = 50.0
    cost_quadratic_coins_per_kwh2: float = 0.004
    cost_linear_coins_per_kwh: float = 0.14
    offer_blocks: int = 4
    wallet_coins: float = 100.0
    reliability: float = 1.0


@dataclass
class RenewableSchema:
    """Renewable-producer parameters (see agents.population.RenewableParams)."""

    capacity_kw: float = 100.0
    price_coins_per_kwh: float = 0.11
    stable_from_hour: float = 10.0
    stable_to_hour: float = 15.0
    stable_hours: float = 500.0
    stability: float = 0.8
    wallet_coins: float = 100.0
    reliability: float = 1.0


@dataclass
class PopulationSchema:
    """Counts and parameter distributions per agent kind."""

    _target_: str = "agents.population.Population"
    _convert_: str = "all"
    size: int = 80
    evs_per_household: float = 0.25
    providers_per_area: int = 1
    pv_share: float = 0.5
    battery_share_of_pv: float = 0.3333333333333333
    grid_operator_wallet_coins: float = 10_000_000.0
    renewable_providers_per_area: int = 0
    initial_credit: float = 100.0
    initial_reputation: float = 0.5
    households: HouseholdSchema = field(default_factory=HouseholdSchema)
    evs: EVSchema = field(default_factory=EVSchema)
    providers: ProviderSchema = field(default_factory=ProviderSchema)
    renewables: RenewableSchema = field(default_factory=RenewableSchema)


SCHEMAS = {
    "population_schema": PopulationSchema,
}
