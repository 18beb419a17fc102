"""Schemas of the ``grid/`` config group."""

from __future__ import annotations

from dataclasses import dataclass, field


# ---------------------------------------------------------------- shared blocks
@dataclass
class PowerFlowSchema:
    """Power-flow engine and limits (see agents.powerflow.PowerFlow).

    Built by the feeder itself (no ``_target_``), so that a bad value is reported
    as ``grid.power_flow.<key>``.
    """

    engine: str = "lindistflow"
    slack_voltage_pu: float = 1.0
    v_min_pu: float = 0.95
    v_max_pu: float = 1.05
    loss_iterations: int = 1
    load_q_per_p: float = 0.3
    base_kv: float | None = None
    default_ampacity_a: float | None = None


@dataclass
class SiteSchema:
    """Site, date and panel mounting for load and PV profiles (see agents.profiles.Site)."""

    latitude: float = 34.05
    longitude: float = -117.60
    altitude_m: float = 300.0
    timezone: str = "America/Los_Angeles"
    date: str = "2023-06-21"
    tilt_deg: float = 20.0
    azimuth_deg: float = 180.0
    clear_sky_model: str = "ineichen"
    linke_turbidity: float | None = None
    system_losses: float = 0.14


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


@dataclass
class Sce56FeederSchema:
    """The SCE 56-bus feeder of seed 003, cut into station areas."""

    _target_: str = "agents.feeders.Sce56Feeder"
    _convert_: str = "all"
    n_areas: int = 4
    pv_placement: str = "seed003"
    load_scale: float = 1.0
    x_ohm_per_km: float = 0.4
    rating_scale: float = 1.0
    background_profile: str = "h0_dyn"
    power_flow: PowerFlowSchema = field(default_factory=PowerFlowSchema)
    site: SiteSchema = field(default_factory=SiteSchema)


@dataclass
class CityLayoutSchema:
    """Seed 000's city: districts of homes, commercial buildings and industry."""

    _target_: str = "agents.city.CityLayout"
    _convert_: str = "all"
    n_areas: int = 2
    homes: int = 50
    buildings: int = 30
    industries: int = 10
    block_km: float = 0.2
    district_spacing_km: float = 2.0
    base_kv: float = 12.0
    r_ohm_per_km: float = 0.125
    x_ohm_per_km: float = 0.11
    ampacity_a: float = 400.0
    power_flow: PowerFlowSchema = field(default_factory=PowerFlowSchema)
    site: SiteSchema = field(default_factory=SiteSchema)


SCHEMAS = {
    "radial_schema": RadialFeedersSchema,
    "sce56_schema": Sce56FeederSchema,
    "city_schema": CityLayoutSchema,
}
