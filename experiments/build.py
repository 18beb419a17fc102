"""Turn a composed Hydra config into a ready-to-run model: the one place plug-ins are built."""

from __future__ import annotations

import dataclasses
from typing import Any

import hydra.utils
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from agents.model import GridModel
from agents.netting import SettlementConfig
from agents.params import ParameterError
from chain.layouts import LayoutConfig
from experiments.errors import ConfigError

# Keys of every chain config that choose the layout, not the consensus.
LAYOUT_KEYS = tuple(f.name for f in dataclasses.fields(LayoutConfig))

# Where the model's own constructor parameters live in the config.
MODEL_KEYS = {
    "step_minutes": "time.step_minutes",
    "steps": "time.steps",
    "n_validators": "chain.n_validators",
    "agent_path": "simulation.agent_path",
    "seed": "seed",
    "layout": "chain.layout",
}


def instantiate_group(cfg: DictConfig, key: str, node: Any = None) -> Any:
    """Instantiate ``cfg[key]`` (or ``node``); a bad value is a ConfigError naming ``key.param``.

    For ``chain`` the layout keys are left out: they configure the layout, not the consensus.
    """
    if node is None and key == "chain":
        node = _without_layout_keys(cfg)[0]
    try:
        return hydra.utils.instantiate(cfg[key] if node is None else node)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, ParameterError):
            raise ConfigError(f"{key}.{cause}") from None
        if isinstance(cause, (ValueError, TypeError)):
            raise ConfigError(f"{key}.{cause}") from None
        raise


def _without_layout_keys(cfg: DictConfig) -> tuple[dict, dict]:
    """``cfg.chain`` as a plain dict without the layout keys, and those keys."""
    node = OmegaConf.to_container(cfg.chain, resolve=True)
    assert isinstance(node, dict)
    return node, {key: node.pop(key) for key in LAYOUT_KEYS if key in node}


def build_chain(cfg: DictConfig) -> tuple[Any, LayoutConfig]:
    """The consensus plug-in and the layout settings from ``cfg.chain``.

    Raises:
        ConfigError: A consensus or layout value is out of range.
    """
    node, layout_values = _without_layout_keys(cfg)
    consensus = instantiate_group(cfg, "chain", node)
    try:
        layout = LayoutConfig(**layout_values)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"chain.{error}") from None
    return consensus, layout


def build(cfg: DictConfig) -> GridModel:
    """Build every plug-in from ``cfg`` and the model that wires them together.

    Raises:
        ConfigError: A value is out of range or settings contradict each other; the
            message names the config key and the allowed values.
    """
    parts = {
        key: instantiate_group(cfg, key)
        for key in ("market", "grid", "population", "runtime", "tariff", "adversary")
    }
    parts["chain"], layout = build_chain(cfg)
    try:
        parts["chain"] = parts["adversary"].with_faulty_validators(parts["chain"])
    except ParameterError as error:
        raise ConfigError(f"adversary.{error}") from None
    simulation = cfg.simulation
    if simulation.dr_protocol not in ("auto", "on", "off"):
        raise ConfigError(
            f"simulation.dr_protocol must be one of 'auto', 'on', 'off' "
            f"(got {simulation.dr_protocol!r})"
        )
    if parts["population"].size < parts["grid"].n_areas:
        raise ConfigError(
            f"population.size must be >= grid.n_areas ({parts['grid'].n_areas}) so every "
            f"station area has a household (got {parts['population'].size})"
        )
    if simulation.agent_path not in ("vectorized", "per_agent"):
        raise ConfigError(
            "simulation.agent_path must be one of 'vectorized', 'per_agent' "
            f"(got {simulation.agent_path!r})"
        )
    if cfg.output.agents_sample < 0:
        raise ConfigError(f"output.agents_sample must be >= 0 (got {cfg.output.agents_sample})")
    try:
        settlement = SettlementConfig(**cfg.settlement)
    except ParameterError as error:
        raise ConfigError(str(error)) from None
    try:
        return GridModel(
            market=parts["market"],
            consensus=parts["chain"],
            grid=parts["grid"],
            population=parts["population"],
            tariff=parts["tariff"],
            runtime=parts["runtime"],
            seed=cfg.seed,
            step_minutes=cfg.time.step_minutes,
            steps=cfg.time.steps,
            chain_id=simulation.chain_id,
            agent_path=simulation.agent_path,
            sign_orders=simulation.sign_orders,
            agents_sample=cfg.output.agents_sample,
            layout=layout,
            check_invariants=cfg.debug.invariants,
            adversary=parts["adversary"],
            dr_protocol=simulation.dr_protocol,
            settlement=settlement,
        )
    except ParameterError as error:
        key = MODEL_KEYS.get(error.key, error.key)
        raise ConfigError(f"{key} must be {error.allowed} (got {error.got!r})") from None
