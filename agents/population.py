"""Who lives on the grid: counts and parameter distributions per agent kind.

Ranges written ``[low, high]`` are drawn uniformly per agent from the area's random
generator. Each default names its source; numbers marked "assumption" are ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.miners import MinerParams
from agents.params import (
    MAX_WALLET_COINS,
    ParameterError,
    check,
    check_interval,
    check_range,
    is_integer,
)


@dataclass(frozen=True)
class HouseholdParams:
    """Residential prosumers and consumers.

    Attributes:
        mean_load_kw: Range of a household's mean demand (assumption: 7-19 kWh/day,
            typical residential consumption).
        load_noise_sigma: Log-normal step-to-step demand noise (assumption).
        pv_peak_kw: Rated rooftop PV power; 5 kW is seed 004 §4.1.
        battery_capacity_kwh: Battery size; 5 kWh (5,000 Wh) is seed 004 §4.1.
        battery_power_kw: Charge and discharge power limit (seed 004 Eq. 9;
            assumption 0.5 C).
        battery_efficiency: One-way charge and discharge efficiency (seed 003 Eq. 9-10;
            assumption 0.95).
        battery_soc_bounds: Allowed state of charge as fractions of capacity (seed 004
            Eq. 10; assumption [0.1, 0.9]).
        battery_initial_soc: Initial state of charge, fraction of capacity; also the
            end-of-day floor the agents issue will enforce (seed 004 Eq. 11).
        ask_markup: Seller's asking price as a fraction of the way from the feed-in
            tariff to the retail tariff (assumption; seed 004 §3.3.1 is rebuilt later).
        bid_markup: Buyer's bid on the same scale (assumption).
        wallet_coins: Genesis balance of each household wallet (assumption).
        reliability: Range of the probability that the household keeps a market
            contract it sold into (seed 002 §5.2.4 lets users break contracts;
            the range is an assumption).
        reliability_threshold: Range of the least producer reputation the household
            accepts when buying (``rt`` of seed 003's local stage; assumption).
        commercial_share: Share of the households that are commercial buildings (seed
            000's buildings; BDEW G0 profile). Default 0: a residential community.
        industrial_share: Share that are industrial sites (seed 000's industry; BDEW
            G3 as the industrial stand-in).
        commercial_annual_kwh: Range of a commercial building's annual consumption;
            20-100 MWh is the small-business band that German grid operators bill by
            standard load profile (StromNZV §12: profiles below 100 MWh/yr; ours
            within it).
        industrial_annual_kwh: Range of an industrial site's annual consumption;
            above the 100 MWh/yr profile limit (StromNZV §12), up to 500 MWh (ours).
    """

    # ---- agents-real: household kinds (residential mean load is ``mean_load_kw``)
    commercial_share: float = 0.0
    industrial_share: float = 0.0
    commercial_annual_kwh: tuple[float, float] = (20_000.0, 100_000.0)
    industrial_annual_kwh: tuple[float, float] = (100_000.0, 500_000.0)
    # ---- end agents-real
    mean_load_kw: tuple[float, float] = (0.3, 0.8)
    load_noise_sigma: float = 0.15
    pv_peak_kw: float = 5.0
    battery_capacity_kwh: float = 5.0
    battery_power_kw: float = 2.5
    battery_efficiency: float = 0.95
    battery_soc_bounds: tuple[float, float] = (0.1, 0.9)
    battery_initial_soc: float = 0.5
    ask_markup: tuple[float, float] = (0.1, 0.6)
    bid_markup: tuple[float, float] = (0.4, 0.9)
    wallet_coins: float = 1000.0
    reliability: tuple[float, float] = (0.9, 1.0)
    reliability_threshold: tuple[float, float] = (0.0, 0.6)

    def __post_init__(self) -> None:
        _freeze_pairs(
            self,
            "mean_load_kw",
            "battery_soc_bounds",
            "ask_markup",
            "bid_markup",
            "reliability",
            "reliability_threshold",
            "commercial_annual_kwh",
            "industrial_annual_kwh",
        )
        check_interval(self.reliability, "reliability", 0.0, 1.0)
        check_interval(self.reliability_threshold, "reliability_threshold", 0.0, 1.0)
        check_interval(self.mean_load_kw, "mean_load_kw", low=0.0)
        # ---- agents-real: household kinds
        check_range(self.commercial_share, "commercial_share", 0.0, 1.0)
        check_range(self.industrial_share, "industrial_share", 0.0, 1.0)
        check(
            self.commercial_share + self.industrial_share <= 1.0 + 1e-12,
            "industrial_share",
            f"<= 1 - commercial_share ({1.0 - self.commercial_share})",
            self.industrial_share,
        )
        check_interval(self.commercial_annual_kwh, "commercial_annual_kwh", low=0.0)
        check_interval(self.industrial_annual_kwh, "industrial_annual_kwh", low=0.0)
        # ---- end agents-real
        check_range(self.load_noise_sigma, "load_noise_sigma", 0.0, 2.0)
        check_range(self.pv_peak_kw, "pv_peak_kw", 0.0)
        check_range(self.battery_capacity_kwh, "battery_capacity_kwh", 0.0)
        check_range(self.battery_power_kw, "battery_power_kw", 0.0)
        check_range(self.battery_efficiency, "battery_efficiency", 0.0, 1.0, low_open=True)
        low, high = check_interval(self.battery_soc_bounds, "battery_soc_bounds", 0.0, 1.0)
        check(
            low <= self.battery_initial_soc <= high,
            "battery_initial_soc",
            f"within battery_soc_bounds [{low}, {high}]",
            self.battery_initial_soc,
        )
        check_interval(self.ask_markup, "ask_markup", 0.0, 1.0)
        check_interval(self.bid_markup, "bid_markup", 0.0, 1.0)
        check_range(self.wallet_coins, "wallet_coins", 0.0, MAX_WALLET_COINS)


EV_SCHEDULES = ("commute", "pets")
PROFILE_SOURCES = ("standard", "analytic")


@dataclass(frozen=True)
class EVParams:
    """Electric vehicles that drive along the feeder's streets and plug in at home.

    Attributes:
        battery_kwh: Battery capacity range; 12-36 kWh is seed 000 §4.2 (seed 001's
            10-60 kWh is the ``population=pets`` preset).
        charge_power_kw: Charger power limit, both directions (assumption: a 7.2 kW
            home/station charger).
        charge_efficiency: Charging (and discharging) efficiency (assumption).
        initial_soc: Range of the state of charge at the start of the day.
        target_soc: State of charge a plugged-in EV charges up to.
        schedule: ``commute`` (away from ``departure_h`` to ``arrival_h``) or ``pets``
            (seed 001 ch. 3: plugged in from ``pets_arrival_h`` to ``pets_departure_h``
            within an 8 AM-to-8 AM window, away otherwise).
        departure_h: Range of departure times, hours after midnight (commute).
        arrival_h: Range of arrival times; each EV is away from departure to arrival.
        pets_arrival_h: Range of plug-in times, hours after midnight, >= 8 (pets).
        pets_departure_h: Range of unplug times, hours after the day's midnight, up to
            32 (8 AM the next day) (pets).
        consumption_kwh_per_km: Range of driving consumption; the range of a full
            battery is ``capacity / consumption`` (seed 000 Eq. 4's D_max); 0.14-0.20
            kWh/km spans compact EVs' EPA ratings (public statistic).
        outside_km: Range of the one-way distance driven beyond the feeder's streets
            (ours: the feeder spans a few km; a commute is 5-20 km).
        speed_kmh: Driving speed along the trip's path (ours: an urban average); an EV
            whose away window is too short for both legs drives faster
            (:func:`agents.trips.trip_progress_km`).
        reserve_soc: Range of the owner's threshold energy (seed 000 Eq. 13) as a
            fraction of capacity; a V2G EV never sells below it plus its next trip.
        v2g_share: Share of EVs in the V2G provider role (seed 000 §3.3.2); the rest
            are buyers only (ours: default 0).
        ask_markup: V2G asking price between feed-in and retail price (assumption).
        utility_sigma: sigma of the charging willingness w = sigma / SoC (seed 001
            Eq. 4.2; our value 1).
        bid_markup: Charging bid between feed-in and retail price (assumption).
        wallet_coins: Genesis balance of each EV wallet (assumption).
        reliability: Range of the probability that the EV keeps a market contract.
    """

    battery_kwh: tuple[float, float] = (12.0, 36.0)
    charge_power_kw: float = 7.2
    charge_efficiency: float = 0.9
    initial_soc: tuple[float, float] = (0.3, 0.6)
    target_soc: float = 0.9
    departure_h: tuple[float, float] = (7.0, 9.0)
    arrival_h: tuple[float, float] = (16.0, 19.0)
    bid_markup: tuple[float, float] = (0.5, 1.0)
    wallet_coins: float = 1000.0
    # ---- agents-real: trips, reserve, role, utility weight, PETS windows
    schedule: str = "commute"
    pets_arrival_h: tuple[float, float] = (8.0, 20.0)
    pets_departure_h: tuple[float, float] = (22.0, 32.0)
    consumption_kwh_per_km: tuple[float, float] = (0.14, 0.20)
    outside_km: tuple[float, float] = (5.0, 20.0)
    speed_kmh: float = 30.0
    reserve_soc: tuple[float, float] = (0.2, 0.3)
    v2g_share: float = 0.0
    ask_markup: tuple[float, float] = (0.3, 0.7)
    utility_sigma: float = 1.0
    # ---- end agents-real
    reliability: tuple[float, float] = (0.9, 1.0)

    def __post_init__(self) -> None:
        _freeze_pairs(
            self,
            "battery_kwh",
            "initial_soc",
            "departure_h",
            "arrival_h",
            "bid_markup",
            "pets_arrival_h",
            "pets_departure_h",
            "consumption_kwh_per_km",
            "outside_km",
            "reserve_soc",
            "ask_markup",
            "reliability",
        )
        check_interval(self.reliability, "reliability", 0.0, 1.0)
        check_interval(self.battery_kwh, "battery_kwh", low=0.0)
        check(
            self.battery_kwh[0] > 0, "battery_kwh", "a pair with lower > 0", list(self.battery_kwh)
        )
        check_range(self.charge_power_kw, "charge_power_kw", 0.0)
        check_range(self.charge_efficiency, "charge_efficiency", 0.0, 1.0, low_open=True)
        check_interval(self.initial_soc, "initial_soc", 0.0, 1.0)
        check_range(self.target_soc, "target_soc", 0.0, 1.0)
        _, latest_departure = check_interval(self.departure_h, "departure_h", 0.0, 24.0)
        earliest_arrival, _ = check_interval(self.arrival_h, "arrival_h", 0.0, 24.0)
        check(
            earliest_arrival > latest_departure,
            "arrival_h",
            f"later than every departure (departure_h upper = {latest_departure})",
            list(self.arrival_h),
        )
        check_interval(self.bid_markup, "bid_markup", 0.0, 1.0)
        check_range(self.wallet_coins, "wallet_coins", 0.0, MAX_WALLET_COINS)
        check(self.schedule in EV_SCHEDULES, "schedule", f"one of {EV_SCHEDULES}", self.schedule)
        _, latest_plug = check_interval(self.pets_arrival_h, "pets_arrival_h", 8.0, 24.0)
        earliest_unplug, _ = check_interval(self.pets_departure_h, "pets_departure_h", 8.0, 32.0)
        check(
            earliest_unplug > latest_plug,
            "pets_departure_h",
            f"later than every plug-in (pets_arrival_h upper = {latest_plug})",
            list(self.pets_departure_h),
        )
        low, _ = check_interval(self.consumption_kwh_per_km, "consumption_kwh_per_km", low=0.0)
        check(low > 0, "consumption_kwh_per_km", "a pair with lower > 0", low)
        check_interval(self.outside_km, "outside_km", low=0.0)
        check_range(self.speed_kmh, "speed_kmh", 0.0, low_open=True)
        check_interval(self.reserve_soc, "reserve_soc", 0.0, 1.0)
        check_range(self.v2g_share, "v2g_share", 0.0, 1.0)
        check_interval(self.ask_markup, "ask_markup", 0.0, 1.0)
        check_range(self.utility_sigma, "utility_sigma", 0.0)


@dataclass(frozen=True)
class ProviderParams:
    """Service providers: a charging station with its own generator.

    The generator's cost for ``s`` kWh in one step is ``c1 s^2 + c2 s`` (the cost
    shape of seed 001 ch. 4); it offers its capacity in blocks priced at the marginal
    cost ``2 c1 s + c2`` of each block's midpoint, and produces only what it sells.

    Attributes:
        capacity_kw: Generator capacity (assumption).
        cost_quadratic_coins_per_kwh2: c1 (assumption, scaled to coins).
        cost_linear_coins_per_kwh: c2 (assumption: a small gas or diesel genset,
            dearer than the feed-in tariff, so it sells when households are short).
        offer_blocks: Number of price blocks the capacity is offered in.
        wallet_coins: Genesis balance of the provider's wallet.
        reliability: Probability that the provider keeps a market contract
            (assumption: a dispatchable generator always delivers).
    """

    capacity_kw: float = 50.0
    cost_quadratic_coins_per_kwh2: float = 0.004
    cost_linear_coins_per_kwh: float = 0.14
    offer_blocks: int = 4
    wallet_coins: float = 100.0
    reliability: float = 1.0

    def __post_init__(self) -> None:
        check_range(self.reliability, "reliability", 0.0, 1.0)
        check_range(self.capacity_kw, "capacity_kw", 0.0)
        check_range(self.cost_quadratic_coins_per_kwh2, "cost_quadratic_coins_per_kwh2", 0.0)
        check_range(self.cost_linear_coins_per_kwh, "cost_linear_coins_per_kwh", 0.0)
        check(
            is_integer(self.offer_blocks) and self.offer_blocks >= 1,
            "offer_blocks",
            "an integer >= 1",
            self.offer_blocks,
        )
        check_range(self.wallet_coins, "wallet_coins", 0.0, MAX_WALLET_COINS)


@dataclass(frozen=True)
class RenewableParams:
    """Renewable producers (REPs) of seed 003: a service provider with a PV plant.

    A REP sells its plant's output (clear-sky shape times the step's cloudiness) at
    its base price ``C_REG``; in ``market=local_re`` it serves the users' shortage in
    the renewable stage when its stable production window contains the hour.

    Attributes:
        capacity_kw: Peak power of the plant, the production scale ``P`` (assumption).
        price_coins_per_kwh: Base price ``C_REG`` (assumption: just above feed-in).
        stable_from_hour: Clock hour the stable production window opens (assumption:
            late morning, when PV output is steady).
        stable_to_hour: Clock hour it closes (exclusive).
        stable_hours: Cumulative stable production time ``t_d`` at the start (h).
        stability: Stability ``s`` of the production in the window, [0, 1].
        wallet_coins: Genesis balance of each REP wallet.
        reliability: Probability that the REP keeps a market contract.
    """

    capacity_kw: float = 100.0
    price_coins_per_kwh: float = 0.11
    stable_from_hour: float = 10.0
    stable_to_hour: float = 15.0
    stable_hours: float = 500.0
    stability: float = 0.8
    wallet_coins: float = 100.0
    reliability: float = 1.0

    def __post_init__(self) -> None:
        check_range(self.capacity_kw, "capacity_kw", 0.0)
        check_range(self.price_coins_per_kwh, "price_coins_per_kwh", 0.0)
        check_range(self.stable_from_hour, "stable_from_hour", 0.0, 24.0)
        check_range(self.stable_to_hour, "stable_to_hour", 0.0, 24.0)
        check_range(self.stable_hours, "stable_hours", 0.0)
        check_range(self.stability, "stability", 0.0, 1.0)
        check_range(self.wallet_coins, "wallet_coins", 0.0, MAX_WALLET_COINS)
        check_range(self.reliability, "reliability", 0.0, 1.0)


@dataclass(frozen=True)
class AreaCounts:
    """How many agents of each kind live in one station area."""

    households: int
    with_pv: int
    with_battery: int
    evs: int
    providers: int
    renewable_providers: int = 0

    @property
    def total(self) -> int:
        """Agents in the area that hold a wallet (aggregator excluded).

        ``providers`` counts every service provider; the last
        ``renewable_providers`` of them are renewable producers.
        """
        return self.households + self.evs + self.providers


@dataclass(frozen=True)
class Population:
    """The population of the whole grid.

    Attributes:
        size: Number of households in the whole grid, spread evenly over the areas.
        evs_per_household: EVs per household (issue default: 10 EVs per 40 households).
        providers_per_area: Service providers (charging stations) per station area.
        pv_share: Share of households with rooftop PV (issue default: half).
        battery_share_of_pv: Share of the PV households that also have a battery
            (issue default: a third).
        grid_operator_wallet_coins: Genesis balance of the grid operator.
        renewable_providers_per_area: Renewable producers (seed 003 REPs) per station
            area, in addition to ``providers_per_area`` (default none).
        initial_credit: Market credit every agent starts with (seed 002 §5.2.4: 100).
        initial_reputation: Producer reputation every agent starts with (seed 003;
            assumption: the middle of [0, 1]).
        households: Household parameters.
        evs: EV parameters.
        providers: Service-provider parameters.
        renewables: Renewable-producer parameters.
        profiles: ``standard`` (BDEW load profiles from demandlib and pvlib clear-sky
            PV for the grid's site, or the default site; docs/grid.md) or ``analytic``
            (the smooth dependency-free shapes of ``agents.profiles``).
        miners: Miner selection (seed 000 Algorithm 1, :mod:`agents.miners`).
    """

    size: int = 80
    evs_per_household: float = 0.25
    providers_per_area: int = 1
    pv_share: float = 0.5
    battery_share_of_pv: float = 1 / 3
    grid_operator_wallet_coins: float = 10_000_000.0
    renewable_providers_per_area: int = 0
    initial_credit: float = 100.0
    initial_reputation: float = 0.5
    households: HouseholdParams = field(default_factory=HouseholdParams)
    evs: EVParams = field(default_factory=EVParams)
    providers: ProviderParams = field(default_factory=ProviderParams)
    renewables: RenewableParams = field(default_factory=RenewableParams)
    # ---- agents-real: profile source and miner selection
    profiles: str = "standard"
    miners: MinerParams = field(default_factory=MinerParams)
    # ---- end agents-real

    def __post_init__(self) -> None:
        check(is_integer(self.size) and self.size >= 1, "size", "an integer >= 1", self.size)
        check_range(self.evs_per_household, "evs_per_household", 0.0, 100.0)
        check(
            is_integer(self.providers_per_area) and self.providers_per_area >= 0,
            "providers_per_area",
            "an integer >= 0",
            self.providers_per_area,
        )
        check_range(self.pv_share, "pv_share", 0.0, 1.0)
        check_range(self.battery_share_of_pv, "battery_share_of_pv", 0.0, 1.0)
        check_range(
            self.grid_operator_wallet_coins, "grid_operator_wallet_coins", 0.0, MAX_WALLET_COINS
        )
        check(
            is_integer(self.renewable_providers_per_area)
            and self.renewable_providers_per_area >= 0,
            "renewable_providers_per_area",
            "an integer >= 0",
            self.renewable_providers_per_area,
        )
        check_range(self.initial_credit, "initial_credit", 0.0)
        check_range(self.initial_reputation, "initial_reputation", 0.0, 1.0)
        for name, kind in (
            ("households", HouseholdParams),
            ("evs", EVParams),
            ("providers", ProviderParams),
            ("renewables", RenewableParams),
            ("miners", MinerParams),
        ):
            object.__setattr__(self, name, _build(kind, getattr(self, name), name))
        check(
            self.profiles in PROFILE_SOURCES, "profiles", f"one of {PROFILE_SOURCES}", self.profiles
        )

    def area_counts(self, n_areas: int) -> list[AreaCounts]:
        """Split the population over ``n_areas`` station areas, area 0 first.

        Households are spread as evenly as possible (the first ``size % n_areas`` areas
        get one more); the other kinds follow the configured ratios per area.
        """
        counts = []
        for area in range(n_areas):
            households = self.size // n_areas + (1 if area < self.size % n_areas else 0)
            with_pv = round(households * self.pv_share)
            counts.append(
                AreaCounts(
                    households=households,
                    with_pv=with_pv,
                    with_battery=round(with_pv * self.battery_share_of_pv),
                    evs=round(households * self.evs_per_household),
                    providers=self.providers_per_area + self.renewable_providers_per_area,
                    renewable_providers=self.renewable_providers_per_area,
                )
            )
        return counts


def _build(kind: type, value: Any, prefix: str) -> Any:
    """Build a nested parameter dataclass from a mapping, prefixing errors."""
    if isinstance(value, kind):
        return value
    try:
        return kind(**dict(value))
    except ParameterError as error:
        raise error.within(prefix) from None
    except TypeError as error:
        raise ParameterError(prefix, f"a mapping of {kind.__name__} fields", str(error)) from None


def _freeze_pairs(obj: Any, *names: str) -> None:
    """Store list-valued range parameters as tuples so the dataclass stays hashable."""
    for name in names:
        object.__setattr__(obj, name, tuple(getattr(obj, name)))
