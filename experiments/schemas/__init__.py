"""Typed schemas of every Hydra config group, registered with Hydra's ConfigStore.

Each YAML file under ``conf/<group>/`` starts from a schema of the module of the same
name here (``experiments/schemas/<group>.py``, a ``SCHEMAS`` mapping of schema name to
dataclass), so a value of the wrong type or an unknown key is rejected while the config
is composed, before anything runs. Range checks live with the objects themselves (their
constructors raise :class:`agents.params.ParameterError`), and
:func:`experiments.build.build` names the full config key when one fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from experiments.schemas import adversary, chain, grid, market, population, runtime

GROUP_MODULES = {
    "market": market,
    "chain": chain,
    "grid": grid,
    "population": population,
    "runtime": runtime,
    "adversary": adversary,
}


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
    dr_protocol: str = "auto"


@dataclass
class SettlementSchema:
    """How cleared trades are paid on the chain (``agents.netting``)."""

    mode: str = "per_trade"
    period_steps: int = 1


@dataclass
class CheckpointSchema:
    """Saving the run state to resume it later (``experiments.checkpoint``)."""

    every_steps: int = 0
    keep: bool = False


@dataclass
class DebugSchema:
    """Checks that cost time and are off in normal runs."""

    invariants: bool = False


@dataclass
class ConfigSchema:
    """The whole run configuration."""

    market: Any = MISSING
    chain: Any = MISSING
    grid: Any = MISSING
    population: Any = MISSING
    runtime: Any = MISSING
    adversary: Any = MISSING
    experiment: Any = None
    seed: int = 42
    time: TimeSchema = field(default_factory=TimeSchema)
    tariff: TariffSchema = field(default_factory=TariffSchema)
    simulation: SimulationSchema = field(default_factory=SimulationSchema)
    settlement: SettlementSchema = field(default_factory=SettlementSchema)
    output: OutputSchema = field(default_factory=OutputSchema)
    checkpoint: CheckpointSchema = field(default_factory=CheckpointSchema)
    resume: bool = False
    debug: DebugSchema = field(default_factory=DebugSchema)


def register_schemas() -> None:
    """Register the schemas (idempotent; safe when several jobs share a process)."""
    store = ConfigStore.instance()
    store.store(name="config_schema", node=ConfigSchema)
    for group, module in GROUP_MODULES.items():
        for name, node in module.SCHEMAS.items():
            store.store(group=group, name=name, node=node)
