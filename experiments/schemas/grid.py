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

    engine: str = "lindistflow"  # fast; pandapower is the AC reference (docs/grid.md)
    slack_voltage_pu: float = 1.0  # substation held at 1 pu (SCE 56 OPF studies)
    v_min_pu: float = 0.95  # ANSI C84.1 range A
    v_max_pu: float = 1.05  # ANSI C84.1 range A
    loss_iterations: int = 1  # ours: one loss pass, within 0.25 % of AC (docs/grid.md)
    load_q_per_p: float = 0.3  # SCE 56 table: q = 0.3 p
    base_kv: float | None = None  # from the graph when it carries one
    default_ampacity_a: float | None = None  # unrated lines: no thermal check


@dataclass
class SiteSchema:
    """Site, date and panel mounting for load and PV profiles (see agents.profiles.Site)."""

    latitude: float = 34.05  # southern California: SCE territory (seed 003's feeder)
    longitude: float = -117.60
    altitude_m: float = 300.0  # inland Los Angeles basin
    timezone: str = "America/Los_Angeles"
    date: str = "2023-06-21"  # ours: summer solstice
    tilt_deg: float = 20.0  # ours: typical rooftop pitch
    azimuth_deg: float = 180.0  # facing south
    clear_sky_model: str = "ineichen"  # pvlib Ineichen-Perez
    linke_turbidity: float | None = None  # pvlib's bundled monthly climatology
    system_losses: float = 0.14  # NREL PVWatts default losses


@dataclass
class LimitsSchema:
    """Physical limits on dispatchable sales (see agents.powerflow.limits.GridLimits)."""

    rule: str = "none"  # none | curtail | price (ours: off unless asked)
    penalty_coins_per_kwh: float = 0.3  # ours: about the peak tariff


@dataclass
class SupplySchema:
    """The grid operator's supply side (see agents.tariff.GridSupply)."""

    capacity_kw: float = 4000.0  # seed 000 §4.2: 4 MW fixed supply
    over_capacity: str = "shed"  # shed | scarcity_price (ours)
    scarcity_coins_per_kwh: float = 5.0  # ours: a value of lost load
    dr_trigger_share: float = 0.9  # ours: seed 002 Initial() signal above 90 % of capacity
    marginal_cost_coins_per_kwh: float = 0.08  # seed 002 §5.1.2 p_m; value ours
    price_adjustment_beta: float = 0.5  # seed 002 §5.1.2 beta; value ours


# ---------------------------------------------------------------- grid/
@dataclass
class RadialFeedersSchema:
    """Radial feeders, one per station area, under one substation."""

    _target_: str = "agents.topology.RadialFeeders"
    _convert_: str = "all"
    n_areas: int = 2  # issue default
    buses_per_area: int = 20  # ours
    line_length_km: list[float] = field(default_factory=lambda: [0.05, 0.3])  # ours: LV spans
    trunk_length_km: float = 1.0  # ours
    r_ohm_per_km: float = 0.206  # ours: 0.4 kV aluminium cable
    x_ohm_per_km: float = 0.080  # ours: same cable
    limits: LimitsSchema = field(default_factory=LimitsSchema)
    supply: SupplySchema = field(default_factory=SupplySchema)
    lmp: bool = False  # ours: DC-OPF LMPs per step only when asked (seed 003 runs: true)


@dataclass
class Sce56FeederSchema:
    """The SCE 56-bus feeder of seed 003, cut into station areas."""

    _target_: str = "agents.feeders.Sce56Feeder"
    _convert_: str = "all"
    n_areas: int = 4  # ours: 11-16 buses per area
    pv_placement: str = "seed003"  # seed 003 §5.1: 1 MW at bus 53, 0.8 MW at bus 19
    load_scale: float = 1.0  # the published spot loads (Gan et al. 2015)
    x_ohm_per_km: float = 0.4  # ours: 12 kV overhead reactance at 60 Hz -> lengths
    rating_scale: float = 1.0  # nearest standard ACSR ampacity, unscaled
    background_profile: str = "h0_dyn"  # ours: BDEW H0 dynamised
    power_flow: PowerFlowSchema = field(default_factory=PowerFlowSchema)
    site: SiteSchema = field(default_factory=SiteSchema)
    limits: LimitsSchema = field(default_factory=LimitsSchema)
    supply: SupplySchema = field(default_factory=SupplySchema)
    lmp: bool = False  # ours: DC-OPF LMPs per step only when asked (seed 003 runs: true)


@dataclass
class CityLayoutSchema:
    """Seed 000's city: districts of homes, commercial buildings and industry."""

    _target_: str = "agents.city.CityLayout"
    _convert_: str = "all"
    n_areas: int = 2  # ours: two districts
    homes: int = 50  # seed 000 §4.2
    buildings: int = 30  # seed 000 §4.2
    industries: int = 10  # seed 000 §4.2
    block_km: float = 0.2  # ours: a 200 m city block
    district_spacing_km: float = 2.0  # ours
    base_kv: float = 12.0  # ours: urban medium voltage
    r_ohm_per_km: float = 0.125  # ours: 240 mm2 Al XLPE cable
    x_ohm_per_km: float = 0.11  # same cable
    ampacity_a: float = 400.0  # same cable, in ground
    power_flow: PowerFlowSchema = field(default_factory=PowerFlowSchema)
    site: SiteSchema = field(default_factory=SiteSchema)
    limits: LimitsSchema = field(default_factory=LimitsSchema)
    supply: SupplySchema = field(default_factory=SupplySchema)
    lmp: bool = False  # ours: DC-OPF LMPs per step only when asked (seed 003 runs: true)


SCHEMAS = {
    "radial_schema": RadialFeedersSchema,
    "sce56_schema": Sce56FeederSchema,
    "city_schema": CityLayoutSchema,
}
