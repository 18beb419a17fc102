"""Typed schemas of every Hydra config group, registered with Hydra's ConfigStore.

Each YAML file under ``conf/<group>/`` starts from the schema named here, so a value
of the wrong type or an unknown key is rejected while the config is composed, before
anything runs. Range checks live with the objects themselves (their constructors
raise :class:`agents.params.ParameterError`), and :func:`experiments.build.build`
names the full config key when one fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


# ---------------------------------------------------------------- market/
@dataclass
class SortedPairingSchema:
    """CE-SDT sorted pairing (seed 004 §3.3)."""

    _target_: str = "market.sorted_pairing.SortedPairing"
    price_rule: str = "midpoint"


@dataclass
class GridOnlySchema:
    """Baseline: no peer trading, everybody trades with the grid operator."""

    _target_: str = "market.grid_only.GridOnly"


# ---------------------------------------------------------------- chain/
@dataclass
class ProofOfAuthoritySchema:
    """Proof-of-authority sealing (seed 001 ch. 4, Clique-style round robin)."""

    _target_: str = "chain.consensus.poa.ProofOfAuthority"
    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False


# ---------------------------------------------------------------- grid/
@dataclass
class RadialFeedersSchema:
    """Radial feeders, one per station area, under one substation."""

    _target_: str = "agents.topology.RadialFeeders"
    n_areas: int = 2
    buses_per_area: int = 20
    line_length_km: list[float] = field(default_factory=lambda: [0.05, 0.3])
    trunk_length_km: float = 1.0
    r_ohm_per_km: float = 0.206
    x_ohm_per_km: float = 0.080


# ---------------------------------------------------------------- population/
@dataclass
class HouseholdSchema:
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


@dataclass
class EVSchema:
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


@dataclass
class ProviderSchema:
    capacity_kw: float = 50.0
    cost_quadratic_coins_per_kwh2: float = 0.004
    cost_linear_coins_per_kwh: float = 0.14
    offer_blocks: int = 4
    wallet_coins: float = 100.0


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
    households: HouseholdSchema = field(default_factory=HouseholdSchema)
    evs: EVSchema = field(default_factory=EVSchema)
    providers: ProviderSchema = field(default_factory=ProviderSchema)


# ---------------------------------------------------------------- runtime/
@dataclass
class LocalRuntimeSchema:
    """All areas in this process."""

    _target_: str = "agents.runtime.LocalRuntime"


@dataclass
class RayRuntimeSchema:
    """Areas spread over Ray actors."""

    _target_: str = "agents.runtime.RayRuntime"
    num_workers: int = 2
    address: str | None = None


# ---------------------------------------------------------------- top level
@dataclass
class TariffSchema:
    """The grid operator's time-of-use and feed-in tariffs (coins/kWh)."""

    _target_: str = "agents.tariff.TimeOfUseTariff"
    off_peak_coins_per_kwh: float = 0.12
    day_coins_per_kwh: float = 0.20
    peak_coins_per_kwh: float = 0.30
    feed_in_coins_per_kwh: float = 0.10
    day_start_h: float = 7.0
    peak_start_h: float = 16.0
    peak_end_h: float = 20.0


@dataclass
class TimeSchema:
    """Simulated time."""

    step_minutes: int = 15
    steps: int = 96


@dataclass
class OutputSchema:
    """What a run writes and shows."""

    progress: bool | None = None
    agents_sample: int = 1000


@dataclass
class SimulationSchema:
    """How the world is computed."""

    agent_path: str = "vectorized"
    sign_orders: bool = True
    chain_id: str = "main"


@dataclass
class ConfigSchema:
    """The whole run configuration."""

    market: Any = MISSING
    chain: Any = MISSING
    grid: Any = MISSING
    population: Any = MISSING
    runtime: Any = MISSING
    experiment: Any = None
    seed: int = 42
    time: TimeSchema = field(default_factory=TimeSchema)
    tariff: TariffSchema = field(default_factory=TariffSchema)
    simulation: SimulationSchema = field(default_factory=SimulationSchema)
    output: OutputSchema = field(default_factory=OutputSchema)


GROUP_SCHEMAS: dict[str, dict[str, type]] = {
    "market": {"sorted_pairing_schema": SortedPairingSchema, "grid_only_schema": GridOnlySchema},
    "chain": {"poa_schema": ProofOfAuthoritySchema},
    "grid": {"radial_schema": RadialFeedersSchema},
    "population": {"population_schema": PopulationSchema},
    "runtime": {"local_schema": LocalRuntimeSchema, "ray_schema": RayRuntimeSchema},
}


def register_schemas() -> None:
    """Register the schemas (idempotent; safe when several jobs share a process)."""
    store = ConfigStore.instance()
    store.store(name="config_schema", node=ConfigSchema)
    for group, schemas in GROUP_SCHEMAS.items():
        for name, node in schemas.items():
            store.store(group=group, name=name, node=node)
