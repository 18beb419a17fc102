"""Schemas of the ``runtime/`` config group."""

from __future__ import annotations

from dataclasses import dataclass


# ---------------------------------------------------------------- runtime/
@dataclass
class LocalRuntimeSchema:
    """All areas in this process, stepped on ``threads`` threads."""

    _target_: str = "agents.runtime.LocalRuntime"
    threads: int | None = None


@dataclass
class RayRuntimeSchema:
    """Areas spread over Ray actors."""

    _target_: str = "agents.runtime.RayRuntime"
    num_workers: int = 2
    address: str | None = None
    max_restarts: int = 3


SCHEMAS = {
    "local_schema": LocalRuntimeSchema,
    "ray_schema": RayRuntimeSchema,
}
