"""The page's controls, as SolaraViz ``model_params``, starting at the config's values.

Options of the market, consensus and grid selectors are the YAML files of their config
groups (:func:`experiments.errors.group_options`), so a new plug-in appears on the page
without touching this module. Sliders start at the values of the composed config
(defaults plus the overrides given to ``gridledger-viz``; shares rounded to the 2
decimals the page shows), so the page at rest is the plain ``gridledger`` run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from experiments.errors import group_options
from experiments.viz.model import compose_config

# Slider ranges: wide enough to explore, small enough to stay responsive in a browser.
MAX_HOUSEHOLDS = 2000
MAX_AREAS = 8
MAX_SEED = 999


def _select(label: str, value: str, values: list[str]) -> dict[str, Any]:
    return {"type": "Select", "label": label, "value": value, "values": values}


def _slider_int(label: str, value: int, low: int, high: int, step: int) -> dict[str, Any]:
    return {
        "type": "SliderInt",
        "label": label,
        "value": int(value),
        "min": min(low, int(value)),
        "max": max(high, int(value)),
        "step": step,
    }


def _share(label: str, value: float) -> dict[str, Any]:
    return {
        "type": "SliderFloat",
        "label": label,
        "value": round(float(value), 2),
        "min": 0.0,
        "max": 1.0,
        "step": 0.01,
    }


def model_params(extra: Sequence[str] = ()) -> dict[str, Any]:
    """SolaraViz ``model_params`` for :class:`experiments.viz.model.VizModel`.

    Args:
        extra: Overrides given to ``gridledger-viz``; they set the controls' start values
            and are passed on unchanged (a fixed parameter) to every rebuilt model.
    """
    cfg, choices = compose_config(extra)
    population = cfg.population
    params: dict[str, Any] = {
        "market": _select("Market", choices["market"], group_options("market")),
        "consensus": _select("Consensus", choices["chain"], group_options("chain")),
        "grid": _select("Grid", choices["grid"], group_options("grid")),
        "population_size": _slider_int("Households", population.size, 10, MAX_HOUSEHOLDS, 10),
        "pv_share": _share("PV share of households", population.pv_share),
        "battery_share": _share("Battery share of PV homes", population.battery_share_of_pv),
        "evs_per_household": _share("EVs per household", population.evs_per_household),
    }
    if "n_areas" in cfg.grid:
        params["n_areas"] = _slider_int("Station areas", cfg.grid.n_areas, 1, MAX_AREAS, 1)
    params["seed"] = _slider_int("Seed", cfg.seed, 0, MAX_SEED, 1)
    params["overrides"] = tuple(extra)
    return params


def initial_values(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments that build the model the controls show at start."""
    return {
        name: spec["value"] if isinstance(spec, dict) and "type" in spec else spec
        for name, spec in params.items()
    }
