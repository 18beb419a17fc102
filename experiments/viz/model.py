"""The model the browser view steps: a :class:`GridModel` built from the CLI's Hydra config.

SolaraViz rebuilds its model on Reset by calling the model's class with the values of
the page's controls (``model.__class__(**params)``). :class:`VizModel` is that class: it
turns the controls into Hydra overrides, composes the same config the ``gridledger``
command composes (``conf/`` defaults plus overrides), builds the run with
:func:`experiments.build.build` and steps it. What the page shows is what a run with
:attr:`VizModel.command` computes, step for step.
"""

from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
from hydra import compose, initialize_config_module
from omegaconf import DictConfig, open_dict

from agents.model import GridModel
from experiments.build import build
from experiments.errors import check_group_overrides
from experiments.schemas import register_schemas

# Extra Hydra overrides for every model of the page (set by ``gridledger-viz``).
OVERRIDES_ENV = "GRIDLEDGER_VIZ_OVERRIDES"
MICRO = 1_000_000

# Hydra's global state allows one initialisation at a time; page sessions run in threads.
_COMPOSE_LOCK = threading.Lock()

# A float control within this of the config's value means "the config's value".
SHOWN_FLOAT_TOLERANCE = 0.005 + 1e-9
# Control name -> config key of the scalar it sets.
SCALAR_KEYS = {
    "population_size": "population.size",
    "pv_share": "population.pv_share",
    "battery_share": "population.battery_share_of_pv",
    "evs_per_household": "population.evs_per_household",
    "n_areas": "grid.n_areas",
    "seed": "seed",
}
# Control name -> config group it picks an option of.
GROUP_KEYS = {"market": "market", "consensus": "chain", "grid": "grid"}


def env_overrides() -> tuple[str, ...]:
    """The extra overrides ``gridledger-viz`` passed to the page (JSON list in the env)."""
    text = os.environ.get(OVERRIDES_ENV, "")
    if not text:
        return ()
    values = json.loads(text)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{OVERRIDES_ENV} must be a JSON list of strings (got {text!r})")
    return tuple(values)


def compose_config(overrides: Sequence[str]) -> tuple[DictConfig, dict[str, str]]:
    """Compose the run config exactly as the CLI does.

    Returns:
        The config (without Hydra's own node) and the chosen option of every group.

    Raises:
        ConfigError: An override names an option that does not exist.
    """
    overrides = list(overrides)
    check_group_overrides(overrides)
    register_schemas()
    with _COMPOSE_LOCK, initialize_config_module("conf", version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    choices = {
        group: str(option)
        for group, option in cfg.hydra.runtime.choices.items()
        if not group.startswith("hydra/") and option is not None
    }
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, choices


@functools.lru_cache(maxsize=16)
def default_choices(extra: tuple[str, ...]) -> dict[str, str]:
    """The option each group gets from the defaults list and ``extra`` (cached)."""
    return compose_config(extra)[1]


def _select(cfg: DictConfig, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        if part not in node:
            return None
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    """Equal, for floats to the 2 decimals the page shows (its sliders step by 0.01)."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=SHOWN_FLOAT_TOLERANCE)
    return a == b


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def run_overrides(
    extra: Sequence[str] = (), **controls: Any
) -> tuple[list[str], DictConfig, dict[str, str]]:
    """Turn control values into the Hydra overrides of the run they describe.

    Group choices (market, consensus, grid) are applied first; a scalar control only
    becomes an override when it differs from that composed config (floats by more
    than the 2 decimals the page shows), so the page at its defaults is the plain
    ``gridledger`` run. A scalar whose key the chosen group does
    not have (e.g. ``grid.n_areas`` for a fixed feeder) is ignored.

    Args:
        extra: Overrides given to ``gridledger-viz`` (applied before the controls).
        **controls: Values of the page's controls; ``None`` keeps the config's value.

    Returns:
        The overrides, the composed config and the chosen option per group.
    """
    unknown = set(controls) - set(SCALAR_KEYS) - set(GROUP_KEYS)
    if unknown:
        raise ValueError(f"unknown controls: {', '.join(sorted(unknown))}")
    overrides = list(extra)
    defaults = default_choices(tuple(extra))
    for name, group in GROUP_KEYS.items():
        option = controls.get(name)
        if option is not None and option != defaults.get(group):
            overrides.append(f"{group}={option}")
    cfg, choices = compose_config(overrides)
    scalars = []
    for name, key in SCALAR_KEYS.items():
        value, current = controls.get(name), _select(cfg, key)
        if value is None or current is None or _same(value, current):
            continue
        scalars.append(f"{key}={_format(value)}")
    if scalars:
        overrides += scalars
        cfg, choices = compose_config(overrides)
    return overrides, cfg, choices


@dataclass(frozen=True)
class StepRecord:
    """Figures of one step that the model's DataCollector does not keep.

    Attributes:
        step: Steps done (0 is the state before the first step).
        household_cost_coins: Households' payments minus receipts so far, mean per household.
        household_grid_only_coins: What the same energy would have cost them with the grid
            operator alone, mean per household.
        throughput_tx_per_s: Committed transactions per simulated second since genesis.
        latency_mean_ms: Mean confirmation latency so far (block time minus tx time).
        latency_p95_ms: 95th percentile of the confirmation latency so far.
        step_seconds: Wall time of the step (0 for step 0).
    """

    step: int
    household_cost_coins: float
    household_grid_only_coins: float
    throughput_tx_per_s: float
    latency_mean_ms: float
    latency_p95_ms: float
    step_seconds: float


class VizModel(mesa.Model):
    """A gridledger run as SolaraViz sees it: controls in, one market step per ``step()``.

    Args:
        market: Option of the ``market`` group (``None``: the config's default).
        consensus: Option of the ``chain`` group.
        grid: Option of the ``grid`` group.
        population_size: Households in the whole grid (``population.size``).
        pv_share: Share of households with rooftop PV (``population.pv_share``).
        battery_share: Share of PV households with a battery
            (``population.battery_share_of_pv``).
        evs_per_household: EVs per household (``population.evs_per_household``).
        n_areas: Station areas (``grid.n_areas``; ignored by grids without it).
        seed: The run's seed.
        overrides: Further Hydra overrides, applied before the controls.

    Raises:
        ConfigError: The combination cannot run (one line naming the key).
    """

    def __init__(
        self,
        market: str | None = None,
        consensus: str | None = None,
        grid: str | None = None,
        population_size: int | None = None,
        pv_share: float | None = None,
        battery_share: float | None = None,
        evs_per_household: float | None = None,
        n_areas: int | None = None,
        seed: int | None = None,
        overrides: Sequence[str] = (),
    ):
        super().__init__(seed=0)
        self.overrides, self.cfg, self.choices = run_overrides(
            tuple(overrides),
            market=market,
            consensus=consensus,
            grid=grid,
            population_size=population_size,
            pv_share=pv_share,
            battery_share=battery_share,
            evs_per_household=evs_per_household,
            n_areas=n_areas,
            seed=seed,
        )
        self.sim: GridModel = build(self.cfg)
        # Reset drops this model without a word; release Ray actors when it is collected.
        weakref.finalize(self, self.sim.runtime.close)
        self.lock = threading.RLock()
        self.history: list[StepRecord] = [self._record(0, 0.0)]
        self.running = self.sim.n_steps > 0

    @property
    def command(self) -> str:
        """The ``gridledger`` command line that computes the same run."""
        return " ".join(["gridledger", *self.overrides])

    @property
    def local_areas(self) -> list:
        """The station areas when they live in this process (``runtime=local``), else []."""
        areas = getattr(self.sim.runtime, "local_areas", None)
        return list(areas()) if areas else []

    def step(self) -> None:
        """One market step of the run; stops after ``time.steps`` like the CLI."""
        with self.lock:
            started = time.perf_counter()
            self.sim.step()
            self.history.append(self._record(self.sim.steps, time.perf_counter() - started))
            self.running = self.sim.steps < self.sim.n_steps

    def _record(self, step: int, seconds: float) -> StepRecord:
        wallets = self.sim.runtime.wallets()
        households = self.sim.agent_kind[1:] == 1
        paid = np.concatenate([w.paid_micro for w in wallets])[households]
        received = np.concatenate([w.received_micro for w in wallets])[households]
        grid_only = np.concatenate([w.grid_only_cost_micro for w in wallets])[households]
        n = max(int(households.sum()), 1)
        metrics = self.sim.chain.metrics()
        return StepRecord(
            step=step,
            household_cost_coins=float((paid - received).sum()) / MICRO / n,
            household_grid_only_coins=float(grid_only.sum()) / MICRO / n,
            throughput_tx_per_s=float(metrics["throughput_tx_per_s"]),
            latency_mean_ms=float(metrics["confirmation_latency_mean_ms"]),
            latency_p95_ms=float(metrics["confirmation_latency_p95_ms"]),
            step_seconds=seconds,
        )
