"""Schemas of the ``grid/`` config group."""

from __future__ import annotations

from dataclasses import dataclass, field


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


SCHEMAS = {
    "radial_schema": RadialFeedersSchema,
}
