"""Exogenous daily shapes: standard load profiles, clear-sky PV and cloudiness.

Two layers:

- Smooth analytic shapes, :func:`residential_load_shape` and
  :func:`clear_sky_pv_shape` (the walking skeleton's interface, a factor per hour of
  day, no dependencies).
- Realistic per-step factors for a configured site and date, precomputed once per run
  (:class:`DayProfiles`): BDEW standard load profiles from demandlib (H0 households,
  G0 commercial, G3 continuous-operation business as the industrial profile, or the
  2025 revision H25/G25/L25/P25/S25), per-agent profile variants (seed 004 draws one
  of 15 load profiles per user), and PV output per kWp from pvlib's clear-sky
  irradiance on the tilted panel (seed 004 §3.2: output = area x efficiency x
  irradiance) times a seeded cloudiness factor.

demandlib and pvlib ship their data inside their packages (BDEW tables, Linke
turbidity maps); nothing is downloaded. They are imported lazily, only when a
:class:`DayProfiles` is built, so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from dataclasses import dataclass

import numpy as np

from agents.params import check, check_range, is_integer

MINUTES_PER_DAY = 1440


def step_mid_hours(step: int | np.ndarray, step_minutes: int) -> float | np.ndarray:
    """Hour of day (0-24) at the middle of ``step`` for steps of ``step_minutes``."""
    return ((np.asarray(step) + 0.5) * step_minutes / 60.0) % 24.0


# ---------------------------------------------------------------- analytic shapes
def residential_load_shape(hour_of_day: float | np.ndarray) -> np.ndarray:
    """Relative household demand at ``hour_of_day``, with a daily mean of 1.

    A base level plus a morning peak near 07:30, a small midday bump and an evening
    peak near 19:00: the qualitative shape of residential demand (e.g. the BDEW H0
    profile and the hourly household usage of seed 004, Fig. 4). Gaussian bumps are
    evaluated on the circular hour so the curve is continuous at midnight.
    """
    hour = np.asarray(hour_of_day, dtype=float)

    def bump(centre: float, width: float) -> np.ndarray:
        distance = np.minimum(np.abs(hour - centre), 24.0 - np.abs(hour - centre))
        return np.exp(-0.5 * (distance / width) ** 2)

    raw = 0.55 + 0.5 * bump(7.5, 1.2) + 0.2 * bump(13.0, 2.0) + 1.0 * bump(19.0, 2.0)
    return raw / _LOAD_SHAPE_MEAN


# Mean of the raw shape over a day, so the shape itself has mean 1 (kWh-preserving).
_LOAD_SHAPE_MEAN = 1.0
_LOAD_SHAPE_MEAN = float(np.mean(residential_load_shape(np.arange(0, 24, 1 / 60))))


def commercial_load_shape(hour_of_day: float | np.ndarray) -> np.ndarray:
    """Relative demand of a commercial building, daily mean 1 (ours).

    A night base of 40 % of the business-hours level, rising smoothly around 08:00
    and falling around 18:00: the shape of BDEW's G0 on a weekday.
    """
    hour = np.asarray(hour_of_day, dtype=float)
    opening = 1.0 / (1.0 + np.exp(-(hour - 8.0) / 0.7))
    closing = 1.0 / (1.0 + np.exp((hour - 18.0) / 0.7))
    return (0.4 + 0.6 * opening * closing) / _COMMERCIAL_MEAN


def industrial_load_shape(hour_of_day: float | np.ndarray) -> np.ndarray:
    """Relative demand of an industrial site in continuous operation, mean 1 (ours).

    Nearly flat (BDEW G3's character) with a 20 % higher day shift from 06:00 to 22:00.
    """
    hour = np.asarray(hour_of_day, dtype=float)
    shift = 1.0 / (1.0 + np.exp(-(hour - 6.0) / 0.5)) / (1.0 + np.exp((hour - 22.0) / 0.5))
    return (1.0 + 0.2 * shift) / _INDUSTRIAL_MEAN


_COMMERCIAL_MEAN = _INDUSTRIAL_MEAN = 1.0
_HOURS = np.arange(0, 24, 1 / 60)
_COMMERCIAL_MEAN = float(np.mean(commercial_load_shape(_HOURS)))
_INDUSTRIAL_MEAN = float(np.mean(industrial_load_shape(_HOURS)))


def clear_sky_pv_shape(
    hour_of_day: float | np.ndarray, sunrise_h: float = 6.0, sunset_h: float = 20.0
) -> np.ndarray:
    """PV output relative to the panel's rated power under a clear sky.

    Zero outside daylight; a sine arch between sunrise and sunset, sharpened by an
    exponent of 1.2 to mimic the air-mass attenuation near the horizon. Seed 004
    (§3.2) models PV output as panel area x efficiency x irradiance; with the rated
    power standing for area x efficiency x 1 kW/m2, this shape is the irradiance in
    kW/m2.
    """
    hour = np.asarray(hour_of_day, dtype=float)
    phase = (hour - sunrise_h) / (sunset_h - sunrise_h)
    arch = np.sin(np.pi * np.clip(phase, 0.0, 1.0))
    return np.where((phase > 0) & (phase < 1), arch**1.2, 0.0)


# ---------------------------------------------------------------- BDEW load profiles
# demandlib's 1999 BDEW profiles (ElecSlp) and the 2025 revision (classes H25, ...).
BDEW_1999 = ("h0", "h0_dyn", "g0", "g1", "g2", "g3", "g4", "g5", "g6", "l0", "l1", "l2")
BDEW_2025 = ("h25", "g25", "l25", "p25", "s25")
BDEW_PROFILES = BDEW_1999 + BDEW_2025

# The profile each agent kind follows by default. H0 with the BDEW dynamisation
# (seasonal scaling) for households; G0 (general business) for commercial buildings;
# G3 (business in continuous operation, e.g. cold stores, pumping) as the industrial
# stand-in: BDEW has no profile for large industry, which is metered, not profiled.
KIND_PROFILES = {"residential": "h0_dyn", "commercial": "g0", "industrial": "g3"}


@functools.lru_cache(maxsize=32)
def _bdew_year(profile: str, year: int) -> np.ndarray:
    """A profile's 15-minute values over ``year``, divided by their annual mean."""
    import pandas as pd
    from demandlib import bdew

    # demandlib's ElecSlp turns every warning into an error process-wide
    # (warnings.simplefilter("error")); confine that to this call.
    with warnings.catch_warnings():
        if profile in BDEW_1999:
            values = bdew.ElecSlp(year).get_profiles(profile)[profile].to_numpy(dtype=float)
        else:
            index = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:45", freq="15min")
            values = getattr(bdew, profile.upper())(index).to_numpy(dtype=float)
    values = values / values.mean()
    values.setflags(write=False)
    return values


def bdew_load_factors(profile: str, date: str | dt.date, step_minutes: int) -> np.ndarray:
    """Average load of each step of ``date`` relative to the profile's annual mean.

    A consumer with annual consumption ``E`` kWh draws ``E / 8760 * factor`` kW on
    average during a step (8784 in leap years): the BDEW scaling of a standard load
    profile by the annual consumption. Steps follow the local clock from midnight;
    steps shorter than the profile's 15 minutes repeat its value, longer ones average.

    Args:
        profile: One of :data:`BDEW_PROFILES` (lower case, e.g. "h0_dyn", "g0", "h25").
        date: The day, as ``datetime.date`` or ISO string "YYYY-MM-DD".
        step_minutes: Step length; must divide a day.
    """
    check(profile in BDEW_PROFILES, "profile", f"one of {', '.join(BDEW_PROFILES)}", profile)
    _check_step_minutes(step_minutes)
    day = _as_date(date)
    year_values = _bdew_year(profile, day.year)
    start = (day.timetuple().tm_yday - 1) * 96
    per_minute = np.repeat(year_values[start : start + 96], 15)
    return per_minute.reshape(-1, step_minutes).mean(axis=1)


def profile_variants(
    base: np.ndarray,
    steps_per_hour: float,
    shifts_h: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0),
    amplitudes: tuple[float, ...] = (0.75, 1.0, 1.25),
) -> np.ndarray:
    """Variants of a daily profile: time-shifted and with stronger or weaker peaks.

    Seed 004 (§4) gives each user one of 15 measured household profiles; those data
    are not public, so the 15 default variants are the BDEW profile shifted by -1 to
    +1 h (5 shifts, circularly within the day) times 3 peak amplitudes around the
    daily mean (0.75, 1, 1.25). Every variant keeps the base profile's daily energy.

    Args:
        base: The profile's factor per step over one day.
        steps_per_hour: Steps per hour (4 for 15-minute steps).
        shifts_h: Time shifts in hours (rounded to whole steps; positive is later).
        amplitudes: Multipliers on the deviation from the daily mean.

    Returns:
        Array ``(len(shifts_h) * len(amplitudes), steps)``, shift-major.
    """
    base = np.asarray(base, dtype=float)
    mean = base.mean()
    variants = []
    for shift in shifts_h:
        shifted = np.roll(base, int(round(shift * steps_per_hour)))
        for amplitude in amplitudes:
            variant = np.maximum(mean + amplitude * (shifted - mean), 0.0)
            variants.append(variant * (mean / variant.mean()))
    return np.array(variants)


def draw_profile_types(rng: np.random.Generator, n: int, n_types: int = 15) -> np.ndarray:
    """Each of ``n`` agents picks one of ``n_types`` profiles uniformly (seed 004 §4)."""
    check(is_integer(n_types) and n_types >= 1, "n_types", "an integer >= 1", n_types)
    return rng.integers(0, n_types, size=n).astype(np.int64)


def draw_annual_consumption_kwh(
    rng: np.random.Generator, n: int, mean_kwh: float, sigma: float = 0.3
) -> np.ndarray:
    """Annual consumptions with mean ``mean_kwh``, lognormal with log-sd ``sigma``.

    Household consumption is right-skewed; a lognormal with a log standard deviation
    of about 0.3-0.5 is the usual fit (assumption; the mean is the scenario's, e.g.
    about 3,500 kWh/yr for a German household, the scale of the BDEW H0 profile).
    """
    check_range(mean_kwh, "mean_kwh", 0.0, low_open=True)
    check_range(sigma, "sigma", 0.0, 3.0)
    return mean_kwh * rng.lognormal(-0.5 * sigma**2, sigma, size=n)


# ---------------------------------------------------------------- PV from pvlib
CLEAR_SKY_MODELS = ("ineichen", "haurwitz", "simplified_solis")


@dataclass(frozen=True)
class Site:
    """Where and when the simulated day takes place, and how the panels are mounted.

    Defaults: southern California (the SCE 56-bus feeder of seed 003), on the summer
    solstice, panels tilted 20 degrees facing south.

    Attributes:
        latitude: Degrees north.
        longitude: Degrees east.
        altitude_m: Height above sea level (air mass and Linke turbidity lookup).
        timezone: IANA name; the simulated day runs from local midnight.
        date: ISO date of the simulated day.
        tilt_deg: Panel tilt from horizontal (a typical rooftop pitch).
        azimuth_deg: Panel azimuth, degrees clockwise from north (180: south).
        clear_sky_model: "ineichen" (Linke turbidity from pvlib's bundled climatology),
            "haurwitz" (cloud-free GHI from the zenith angle alone) or
            "simplified_solis".
        linke_turbidity: Fixed Linke turbidity for Ineichen instead of the lookup.
        system_losses: Fraction lost between irradiance and AC output (PVWatts'
            default 14 %: soiling, wiring, inverter, mismatch).
    """

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

    def __post_init__(self) -> None:
        check_range(self.latitude, "latitude", -90.0, 90.0)
        check_range(self.longitude, "longitude", -180.0, 180.0)
        check_range(self.altitude_m, "altitude_m", -500.0, 9000.0)
        check(_valid_timezone(self.timezone), "timezone", "an IANA time zone", self.timezone)
        check(_valid_date(self.date), "date", "an ISO date YYYY-MM-DD", self.date)
        check_range(self.tilt_deg, "tilt_deg", 0.0, 90.0)
        check_range(self.azimuth_deg, "azimuth_deg", 0.0, 360.0)
        check(
            self.clear_sky_model in CLEAR_SKY_MODELS,
            "clear_sky_model",
            f"one of {', '.join(CLEAR_SKY_MODELS)}",
            self.clear_sky_model,
        )
        if self.linke_turbidity is not None:
            check_range(self.linke_turbidity, "linke_turbidity", 1.0, 10.0)
        check_range(self.system_losses, "system_losses", 0.0, 1.0)


def clear_sky_pv_factors(site: Site, step_minutes: int) -> np.ndarray:
    """Clear-sky PV output per kW of rated power, averaged over each step of the day.

    pvlib computes the sun's position and the clear-sky irradiance (GHI, DNI, DHI) for
    every minute of the local day, transposes it onto the tilted panel (isotropic sky
    plus ground reflection, albedo 0.25) and the result, in kW/m2, is the output per
    kW rated at 1 kW/m2 (seed 004 §3.2), reduced by ``site.system_losses``.
    """
    _check_step_minutes(step_minutes)
    poa = _plane_of_array_kw_m2(site)
    per_minute = poa * (1.0 - site.system_losses)
    return per_minute.reshape(-1, step_minutes).mean(axis=1)


@functools.lru_cache(maxsize=16)
def _plane_of_array_kw_m2(site: Site) -> np.ndarray:
    import pandas as pd
    import pvlib

    times = pd.date_range(site.date, periods=MINUTES_PER_DAY, freq="1min", tz=site.timezone)
    times = times + pd.Timedelta(seconds=30)  # the middle of each minute
    location = pvlib.location.Location(
        site.latitude, site.longitude, tz=site.timezone, altitude=site.altitude_m
    )
    solar = location.get_solarposition(times)
    if site.clear_sky_model == "ineichen":
        kwargs = {}
        if site.linke_turbidity is not None:
            kwargs["linke_turbidity"] = site.linke_turbidity
        sky = location.get_clearsky(times, model="ineichen", solar_position=solar, **kwargs)
        ghi, dni, dhi = sky["ghi"], sky["dni"], sky["dhi"]
    elif site.clear_sky_model == "simplified_solis":
        sky = location.get_clearsky(times, model="simplified_solis", solar_position=solar)
        ghi, dni, dhi = sky["ghi"], sky["dni"], sky["dhi"]
    else:
        ghi = location.get_clearsky(times, model="haurwitz", solar_position=solar)["ghi"]
        split = pvlib.irradiance.erbs(ghi, solar["zenith"], times)
        dni, dhi = split["dni"], split["dhi"]
    poa = pvlib.irradiance.get_total_irradiance(
        site.tilt_deg,
        site.azimuth_deg,
        solar["apparent_zenith"],
        solar["azimuth"],
        dni,
        ghi,
        dhi,
        albedo=0.25,
        model="isotropic",
    )["poa_global"]
    values = np.nan_to_num(poa.to_numpy(dtype=float), nan=0.0).clip(min=0.0) / 1000.0
    values.setflags(write=False)
    return values


def cloudiness_factors(
    rng: np.random.Generator,
    n_steps: int,
    mean: float = 0.85,
    spread: float = 0.1,
    persistence: float = 0.8,
) -> np.ndarray:
    """A seeded series of clear-sky indices (actual over clear-sky irradiance) in [0, 1].

    An AR(1) process around ``mean`` with stationary standard deviation ``spread`` and
    lag-one correlation ``persistence``: clouds come and go over several steps instead
    of independently every step (assumption; a standard minimal model of the
    clear-sky index).
    """
    check(is_integer(n_steps) and n_steps >= 0, "n_steps", "an integer >= 0", n_steps)
    check_range(mean, "mean", 0.0, 1.0)
    check_range(spread, "spread", 0.0, 1.0)
    check_range(persistence, "persistence", 0.0, 1.0)
    shocks = rng.standard_normal(n_steps)
    series = np.empty(n_steps)
    state = shocks[0] if n_steps else 0.0
    innovation = np.sqrt(1.0 - persistence**2)
    for i in range(n_steps):
        state = state if i == 0 else persistence * state + innovation * shocks[i]
        series[i] = mean + spread * state
    return np.clip(series, 0.0, 1.0)


# ---------------------------------------------------------------- one day, precomputed
@dataclass(frozen=True, eq=False)
class DayProfiles:
    """Per-step factors for one simulated day at one site.

    Attributes:
        step_minutes: Step length.
        site: Where and when.
        load: Profile name -> factor per step (relative to the annual mean power).
        load_types: The variants of the residential profile, ``(n_types, steps)``.
        pv_kw_per_kwp: Clear-sky PV output per kW rated, per step.
    """

    step_minutes: int
    site: Site
    load: dict[str, np.ndarray]
    load_types: np.ndarray
    pv_kw_per_kwp: np.ndarray

    @classmethod
    def build(
        cls,
        site: Site,
        step_minutes: int,
        profiles: tuple[str, ...] = tuple(KIND_PROFILES.values()),
        variants_of: str = KIND_PROFILES["residential"],
    ) -> DayProfiles:
        """Compute the day's factors (demandlib and pvlib are imported here)."""
        _check_step_minutes(step_minutes)
        names = tuple(dict.fromkeys((*profiles, variants_of)))
        load = {name: bdew_load_factors(name, site.date, step_minutes) for name in names}
        types = profile_variants(load[variants_of], 60.0 / step_minutes)
        return cls(
            step_minutes=step_minutes,
            site=site,
            load=load,
            load_types=types,
            pv_kw_per_kwp=clear_sky_pv_factors(site, step_minutes),
        )

    @property
    def steps_per_day(self) -> int:
        """Number of steps in the day."""
        return MINUTES_PER_DAY // self.step_minutes

    def peak_normalised(self, profile: str) -> np.ndarray:
        """A profile's factors divided by their maximum over the day (peak = 1)."""
        values = self.load[profile]
        return values / values.max()


def _check_step_minutes(step_minutes: int) -> None:
    check(
        is_integer(step_minutes)
        and 1 <= step_minutes <= MINUTES_PER_DAY
        and MINUTES_PER_DAY % step_minutes == 0,
        "step_minutes",
        "a whole number of minutes that divides a day",
        step_minutes,
    )


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _valid_date(value: object) -> bool:
    try:
        _as_date(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _valid_timezone(name: object) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return isinstance(name, str)
