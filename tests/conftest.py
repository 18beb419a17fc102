"""Shared fixtures: composing run configs and one Ray instance for the whole session."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module

from experiments.schemas import register_schemas


def make_config(*overrides: str):
    """The run config with ``overrides``, composed exactly as the ``gridledger`` CLI does."""
    register_schemas()
    with initialize_config_module("conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


@pytest.fixture(scope="session")
def ray_session():
    """Start Ray once (2 CPUs) for every test that needs it; shut it down at the end."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
