"""Every entry of every config group composes and instantiates; presets compose."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from experiments.build import build, instantiate_group
from experiments.errors import GROUPS, ConfigError, check_group_overrides, group_options
from tests.conftest import make_config

INSTANTIATED = [g for g in GROUPS if g != "experiment"]


@pytest.mark.parametrize("group,option", [(g, o) for g in INSTANTIATED for o in group_options(g)])
def test_every_group_entry_instantiates(group, option):
    cfg = make_config(f"{group}={option}")
    plugin = instantiate_group(cfg, group)
    assert plugin is not None


@pytest.mark.parametrize("option", group_options("experiment"))
def test_every_experiment_preset_composes(option):
    cfg = make_config(f"experiment={option}")
    assert OmegaConf.to_container(cfg, resolve=True)


def test_scaling_preset_declares_its_sweep():
    from experiments.schemas import register_schemas

    register_schemas()
    with initialize_config_module("conf", version_base="1.3"):
        cfg = compose("config", overrides=["experiment=scaling"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert "population.size" in params and "market" in params


def test_default_config_builds_the_issue_defaults():
    model = build(make_config())
    try:
        assert model.n_steps == 96 and model.step_minutes == 15
        assert model.n_areas == 2
        assert int((model.agent_kind == 1).sum()) == 80
        assert int((model.agent_kind == 2).sum()) == 20
        assert int((model.agent_kind == 3).sum()) == 2
        assert len(model.miners) == 4
        assert model.market.name == "sorted_pairing" and model.consensus.name == "poa"
        areas = model.runtime.local_areas()
        assert [a.counts.with_pv for a in areas] == [20, 20]
        assert [a.counts.with_battery for a in areas] == [7, 7]
    finally:
        model.runtime.close()


def test_group_override_check_names_allowed_options():
    with pytest.raises(ConfigError, match="allowed: .*sorted_pairing"):
        check_group_overrides(["market=sorted_pairing,bogus"])
    check_group_overrides(["market=grid_only", "population.size=3", "experiment=null"])


def test_experiment_preset_overrides_top_level_values():
    # A preset comes after the primary config in the defaults list, so it may change
    # values that conf/config.yaml sets (here time.steps, 96 there, 8 in `quick`).
    cfg = make_config("experiment=quick")
    assert cfg.time.steps == 8 and cfg.population.size == 20
    assert make_config("experiment=quick", "time.steps=3").time.steps == 3
