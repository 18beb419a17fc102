"""Schemas of the ``population/`` config group.

Defaults repeat ``agents.population`` / ``agents.miners``; where each number comes
from is said there (docstrings) and in ``conf/population/default.yaml`` (comments).
"""

from __future__ import annotations

from dataclasses import dataclass, field


# ---------------------------------------------------------------- population/
@dataclass
class HouseholdSchema:
    """Household parameters (see agents.population.HouseholdParams)."""

    mean_load_kw: list[float] = field(default_factory=lambda: [0.3, 0.8])  # ours: 2.6-7 MWh/yr
    load_noise_sigma: float = 0.15  # ours
    pv_peak_kw: float = 5.0  # seed 004 §4.1: 5 kW rooftop PV
    battery_capacity_kwh: float = 5.0  # seed 004 §4.1: 5,000 Wh storage
    battery_power_kw: float = 2.5  # ours: 0.5 C (seed 004 Eq. 9 form)
    battery_efficiency: float = 0.95  # ours (seed 003 Eqs 9-10 form)
    battery_soc_bounds: list[float] = field(default_factory=lambda: [0.1, 0.9])  # ours (Eq. 10)
    battery_initial_soc: float = 0.5  # ours (seed 004 Eq. 11 floor)
    ask_markup: list[float] = field(default_factory=lambda: [0.1, 0.6])  # ours
    bid_markup: list[float] = field(default_factory=lambda: [0.4, 0.9])  # ours
    wallet_coins: float = 1000.0  # ours
    commercial_share: float = 0.0  # ours (seed 000's 30 of 90 entities: population=seed000)
    industrial_share: float = 0.0  # ours (seed 000's 10 of 90: population=seed000)
    # StromNZV §12: standard load profiles below 100 MWh/yr; the band within it is ours
    commercial_annual_kwh: list[float] = field(default_factory=lambda: [20_000.0, 100_000.0])
    # above the 100 MWh/yr profile limit (StromNZV §12); upper bound ours
    industrial_annual_kwh: list[float] = field(default_factory=lambda: [100_000.0, 500_000.0])
    reliability: list[float] = field(default_factory=lambda: [0.9, 1.0])  # ours (seed 002 §5.2.4)
    reliability_threshold: list[float] = field(
        default_factory=lambda: [0.0, 0.6]
    )  # ours (seed 003)


@dataclass
class EVSchema:
    """EV parameters (see agents.population.EVParams)."""

    battery_kwh: list[float] = field(default_factory=lambda: [12.0, 36.0])  # seed 000 §4.2
    charge_power_kw: float = 7.2  # ours: a 7.2 kW charger
    charge_efficiency: float = 0.9  # ours
    initial_soc: list[float] = field(default_factory=lambda: [0.3, 0.6])  # ours
    target_soc: float = 0.9  # ours
    departure_h: list[float] = field(default_factory=lambda: [7.0, 9.0])  # ours: morning commute
    arrival_h: list[float] = field(default_factory=lambda: [16.0, 19.0])  # ours
    bid_markup: list[float] = field(default_factory=lambda: [0.5, 1.0])  # ours
    wallet_coins: float = 1000.0  # ours
    schedule: str = "commute"  # commute | pets (seed 001 ch. 3: 8 AM to 8 AM)
    pets_arrival_h: list[float] = field(default_factory=lambda: [8.0, 20.0])  # seed 001 ch. 3
    pets_departure_h: list[float] = field(default_factory=lambda: [22.0, 32.0])  # to 8 AM next day
    consumption_kwh_per_km: list[float] = field(default_factory=lambda: [0.14, 0.20])  # EPA
    outside_km: list[float] = field(default_factory=lambda: [5.0, 20.0])  # ours
    speed_kmh: float = 30.0  # ours: urban average driving speed
    reserve_soc: list[float] = field(default_factory=lambda: [0.2, 0.3])  # ours (seed 000 Eq. 13)
    v2g_share: float = 0.0  # ours
    ask_markup: list[float] = field(default_factory=lambda: [0.3, 0.7])  # ours
    utility_sigma: float = 1.0  # seed 001 Eq. 4.2 constant; value ours
    reliability: list[float] = field(default_factory=lambda: [0.9, 1.0])  # ours


@dataclass
class ProviderSchema:
    """Service-provider parameters (see agents.population.ProviderParams)."""

    capacity_kw: float = 50.0  # ours
    cost_quadratic_coins_per_kwh2: float = 0.004  # seed 001 ch. 4 shape; value ours
    cost_linear_coins_per_kwh: float = 0.14  # ours: a small genset, above feed-in
    offer_blocks: int = 4  # ours
    wallet_coins: float = 100.0  # ours
    reliability: float = 1.0  # ours: a generator keeps its contracts


@dataclass
class RenewableSchema:
    """Renewable-producer parameters (see agents.population.RenewableParams; seed 003)."""

    capacity_kw: float = 100.0  # ours: production scale P
    price_coins_per_kwh: float = 0.11  # ours: base price C_REG
    stable_from_hour: float = 10.0  # ours
    stable_to_hour: float = 15.0  # ours
    stable_hours: float = 500.0  # ours: t_d
    stability: float = 0.8  # ours: s
    wallet_coins: float = 100.0  # ours
    reliability: float = 1.0  # ours


@dataclass
class MinerSchema:
    """Miner selection (see agents.miners.MinerParams; seed 000 Algorithm 1)."""

    enabled: bool = True
    ratio: float = 0.2  # seed 000 §3.1: 20 %
    home_threshold_kw: float = 5.0  # ours
    building_threshold_kw: float = 10.0  # ours (seed 000: larger than the home threshold)
    industry_top_share: float = 0.5  # seed 000 §3.1: top 50 %
    ev_utility_threshold_hash_h: float = 500_000.0  # ours
    threshold_jitter: float = 0.2  # ours
    period_steps: int = 96  # ours: one day
    static_hash_rate_hps: list[float] = field(default_factory=lambda: [50_000.0, 200_000.0])
    ev_hash_rate_hps: list[float] = field(default_factory=lambda: [20_000.0, 100_000.0])
    static_storage_gb: list[float] = field(default_factory=lambda: [16.0, 64.0])
    ev_storage_gb: list[float] = field(default_factory=lambda: [8.0, 32.0])


@dataclass
class PopulationSchema:
    """Counts and parameter distributions per agent kind."""

    _target_: str = "agents.population.Population"
    _convert_: str = "all"
    size: int = 80  # issue default: 40 households per area
    evs_per_household: float = 0.25  # issue default: 10 EVs per 40 households
    providers_per_area: int = 1  # issue default
    pv_share: float = 0.5  # issue default: half the households
    battery_share_of_pv: float = 0.3333333333333333  # issue default: a third of those
    grid_operator_wallet_coins: float = 10_000_000.0  # ours
    profiles: str = "standard"  # standard (BDEW + pvlib) | analytic
    renewable_providers_per_area: int = 0  # seed 003 REPs; population=seed003 adds one
    initial_credit: float = 100.0  # seed 002 §5.2.4
    initial_reputation: float = 0.5  # ours (seed 003)
    households: HouseholdSchema = field(default_factory=HouseholdSchema)
    evs: EVSchema = field(default_factory=EVSchema)
    providers: ProviderSchema = field(default_factory=ProviderSchema)
    miners: MinerSchema = field(default_factory=MinerSchema)
    renewables: RenewableSchema = field(default_factory=RenewableSchema)


SCHEMAS = {
    "population_schema": PopulationSchema,
}
