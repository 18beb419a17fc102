"""Daily shapes: analytic shapes, BDEW load profiles, pvlib clear-sky PV, cloudiness."""

from __future__ import annotations

import csv
import socket
import warnings
from importlib import resources

import numpy as np
import pytest

from agents import profiles
from agents.params import ParameterError
from agents.profiles import (
    DayProfiles,
    Site,
    bdew_load_factors,
    clear_sky_pv_factors,
    clear_sky_pv_shape,
    cloudiness_factors,
    draw_annual_consumption_kwh,
    draw_profile_types,
    profile_variants,
    residential_load_shape,
    step_mid_hours,
)

MINUTES = np.arange(0, 24, 1 / 60)


def _raw_load(h: float) -> float:
    """The unnormalised load shape written out by hand."""

    def bump(c, w):
        d = min(abs(h - c), 24 - abs(h - c))
        return np.exp(-0.5 * (d / w) ** 2)

    return 0.55 + 0.5 * bump(7.5, 1.2) + 0.2 * bump(13.0, 2.0) + 1.0 * bump(19.0, 2.0)


def test_step_mid_hours():
    assert step_mid_hours(0, 15) == 0.125
    assert step_mid_hours(95, 15) == 23.875
    assert step_mid_hours(96, 15) == 0.125
    assert step_mid_hours(7, 60) == 7.5
    np.testing.assert_array_equal(step_mid_hours(np.array([0, 1, 2]), 30), [0.25, 0.75, 1.25])


def test_load_shape_has_daily_mean_one():
    assert float(np.mean(residential_load_shape(MINUTES))) == pytest.approx(1.0, abs=1e-3)
    # Also on the 15-minute step grid the model uses.
    mids = step_mid_hours(np.arange(96), 15)
    assert float(np.mean(residential_load_shape(mids))) == pytest.approx(1.0, abs=1e-3)


def test_load_shape_values_match_hand_formula():
    # Daily mean of the raw shape: 0.55 + (0.5*1.2 + 0.2*2 + 1.0*2) * sqrt(2 pi) / 24.
    mean = 0.55 + 3.0 * np.sqrt(2 * np.pi) / 24
    for hour in (3.0, 7.5, 13.0, 19.0, 23.5):
        assert float(residential_load_shape(hour)) == pytest.approx(
            _raw_load(hour) / mean, rel=1e-3
        )


def test_load_shape_evening_peak_above_morning_above_night():
    evening = float(residential_load_shape(19.0))
    morning = float(residential_load_shape(7.5))
    night = float(residential_load_shape(3.0))
    assert evening > morning > night > 0
    # Peak of the whole day lies in the evening, the minimum at night.
    curve = residential_load_shape(MINUTES)
    assert 18.5 <= MINUTES[np.argmax(curve)] <= 19.5
    assert MINUTES[np.argmin(curve)] < 5.0 or MINUTES[np.argmin(curve)] > 23.0
    # Continuous across midnight.
    assert float(residential_load_shape(23.9999)) == pytest.approx(
        float(residential_load_shape(0.0)), abs=1e-3
    )


def test_pv_zero_outside_daylight():
    night = np.array([0.0, 2.0, 5.99, 6.0, 20.0, 20.01, 23.5])
    np.testing.assert_array_equal(clear_sky_pv_shape(night), 0.0)
    # Custom sunrise and sunset move the window.
    assert float(clear_sky_pv_shape(6.5, sunrise_h=7.0, sunset_h=19.0)) == 0.0
    assert float(clear_sky_pv_shape(7.5, sunrise_h=7.0, sunset_h=19.0)) > 0.0
    assert float(clear_sky_pv_shape(19.5, sunrise_h=7.0, sunset_h=19.0)) == 0.0


def test_pv_peak_at_solar_noon_and_symmetric():
    assert float(clear_sky_pv_shape(13.0)) == 1.0
    curve = clear_sky_pv_shape(MINUTES)
    assert MINUTES[np.argmax(curve)] == pytest.approx(13.0, abs=1 / 60)
    assert curve.max() <= 1.0 and curve.min() >= 0.0
    for x in (0.5, 2.0, 4.25, 6.9):
        assert float(clear_sky_pv_shape(13.0 - x)) == pytest.approx(
            float(clear_sky_pv_shape(13.0 + x)), abs=1e-12
        )
    # sin(pi * 3.5 / 14) ** 1.2 = sin(pi / 4) ** 1.2 at 09:30.
    assert float(clear_sky_pv_shape(9.5)) == pytest.approx(np.sin(np.pi / 4) ** 1.2, abs=1e-12)
    # Rises monotonically in the morning.
    morning = clear_sky_pv_shape(np.linspace(6.0, 13.0, 50))
    assert (np.diff(morning) > 0).all()


# ---------------------------------------------------------------- BDEW profiles
def _bdew_raw_day(column: str, period: str, weekday: int) -> np.ndarray:
    """demandlib's raw 1999 BDEW table (selp_series.csv) for one day type."""
    path = resources.files("demandlib").joinpath("bdew", "bdew_data", "selp_series.csv")
    rows = list(csv.DictReader(path.read_text().splitlines()))
    values = [
        float(r[column]) for r in rows if r["period"] == period and r["weekday"] == str(weekday)
    ]
    assert len(values) == 96
    return np.array(values)


@pytest.mark.parametrize("profile", ["h0", "g0", "g3"])
def test_bdew_day_has_the_shape_of_the_raw_table(profile):
    # 2023-06-21 is a Wednesday in the BDEW summer period (weekday code 3).
    factors = bdew_load_factors(profile, "2023-06-21", 15)
    raw = _bdew_raw_day(profile, "summer", 3)
    np.testing.assert_allclose(factors / factors[0], raw / raw[0], rtol=1e-9)


def test_bdew_factors_average_one_over_the_year():
    days = np.arange("2023-01-01", "2024-01-01", dtype="datetime64[D]")
    for profile in ("h0_dyn", "g3", "h25"):
        means = [bdew_load_factors(profile, str(day), 60).mean() for day in days]
        assert np.mean(means) == pytest.approx(1.0, rel=1e-9)
    # The dynamised household profile is higher in winter than in summer.
    assert bdew_load_factors("h0_dyn", "2023-12-20", 60).mean() > 1.1
    assert bdew_load_factors("h0_dyn", "2023-06-21", 60).mean() < 0.9


def test_bdew_step_aggregation():
    quarter = bdew_load_factors("g0", "2023-03-01", 15)
    hourly = bdew_load_factors("g0", "2023-03-01", 60)
    np.testing.assert_allclose(hourly, quarter.reshape(24, 4).mean(axis=1), rtol=1e-12)
    five = bdew_load_factors("g0", "2023-03-01", 5)
    np.testing.assert_allclose(five, np.repeat(quarter, 3), rtol=1e-12)
    assert len(bdew_load_factors("g0", "2023-03-01", 1440)) == 1


def test_bdew_keeps_warning_filters():
    # demandlib's ElecSlp calls warnings.simplefilter("error"); it must not leak.
    profiles._bdew_year.cache_clear()
    before = list(warnings.filters)
    bdew_load_factors("h0", "2022-05-05", 15)
    assert warnings.filters == before


def test_bdew_validation():
    with pytest.raises(ParameterError) as info:
        bdew_load_factors("x0", "2023-01-01", 15)
    assert info.value.key == "profile"
    with pytest.raises(ParameterError) as info:
        bdew_load_factors("h0", "2023-01-01", 7)
    assert info.value.key == "step_minutes"


def test_profile_variants_by_hand():
    base = np.array([1.0, 2.0, 3.0, 2.0])  # mean 2, steps of 6 h
    variants = profile_variants(
        base, steps_per_hour=1 / 6, shifts_h=(0.0, 6.0), amplitudes=(1.0, 0.5)
    )
    np.testing.assert_allclose(variants[0], base)
    np.testing.assert_allclose(variants[1], [1.5, 2.0, 2.5, 2.0])  # half the swing
    np.testing.assert_allclose(variants[2], [2.0, 1.0, 2.0, 3.0])  # six hours later
    np.testing.assert_allclose(variants.mean(axis=1), 2.0)
    # The default: 15 variants (5 shifts x 3 amplitudes), every one with the same energy.
    day = bdew_load_factors("h0_dyn", "2023-06-21", 15)
    default = profile_variants(day, 4)
    assert default.shape == (15, 96) and (default >= 0).all()
    np.testing.assert_allclose(default.mean(axis=1), day.mean(), rtol=1e-12)
    np.testing.assert_allclose(default[7], day)  # shift 0, amplitude 1


def test_per_agent_draws_are_seeded():
    a = draw_profile_types(np.random.default_rng(5), 1000)
    b = draw_profile_types(np.random.default_rng(5), 1000)
    np.testing.assert_array_equal(a, b)
    assert a.min() == 0 and a.max() == 14 and a.dtype == np.int64
    annual = draw_annual_consumption_kwh(np.random.default_rng(5), 20000, 3500.0, 0.3)
    assert annual.mean() == pytest.approx(3500.0, rel=0.01) and (annual > 0).all()
    with pytest.raises(ParameterError):
        draw_profile_types(np.random.default_rng(0), 3, n_types=0)


# ---------------------------------------------------------------- PV
def test_clear_sky_pv_at_the_default_site():
    pv = clear_sky_pv_factors(Site(), 15)
    assert pv.shape == (96,) and (pv >= 0).all() and pv.max() < 1.0
    # Night is dark; the sun is up roughly 05:45-20:05 PDT on the solstice at 34 N.
    assert pv[:22].max() == 0.0 and pv[81:].max() == 0.0
    # Peak near local solar noon (12:50 PDT at 117.6 W): step 51 is 12:45-13:00.
    assert abs(int(np.argmax(pv)) - 51) <= 1
    # A clear June day yields 6-8 kWh per kWp after 14 % system losses.
    assert 6.0 < pv.sum() * 0.25 < 8.0
    # Losses scale the output linearly.
    lossless = clear_sky_pv_factors(Site(system_losses=0.0), 15)
    np.testing.assert_allclose(pv, lossless * 0.86, rtol=1e-12)


def test_pv_seasons_models_and_turbidity():
    summer = clear_sky_pv_factors(Site(), 60).sum()
    winter = clear_sky_pv_factors(Site(date="2023-12-21"), 60).sum()
    assert winter < 0.75 * summer
    clearer = clear_sky_pv_factors(Site(linke_turbidity=2.0), 60).sum()
    hazier = clear_sky_pv_factors(Site(linke_turbidity=5.0), 60).sum()
    assert clearer > hazier
    for model in ("haurwitz", "simplified_solis"):
        other = clear_sky_pv_factors(Site(clear_sky_model=model), 60).sum()
        assert other == pytest.approx(summer, rel=0.15)


def test_profiles_need_no_network(monkeypatch):
    profiles._bdew_year.cache_clear()
    profiles._plane_of_array_kw_m2.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    day = DayProfiles.build(Site(date="2022-07-01"), 30)
    assert day.steps_per_day == 48 and day.pv_kw_per_kwp.max() > 0.5
    assert set(day.load) == {"h0_dyn", "g0", "g3"} and day.load_types.shape == (15, 48)
    assert day.peak_normalised("g0").max() == 1.0


def test_site_validation():
    for kwargs, key in [
        (dict(latitude=95.0), "latitude"),
        (dict(timezone="Nowhere/City"), "timezone"),
        (dict(date="2023-02-30"), "date"),
        (dict(tilt_deg=-1.0), "tilt_deg"),
        (dict(clear_sky_model="bird"), "clear_sky_model"),
        (dict(linke_turbidity=0.5), "linke_turbidity"),
        (dict(system_losses=1.5), "system_losses"),
    ]:
        with pytest.raises(ParameterError) as info:
            Site(**kwargs)
        assert info.value.key == key and str(info.value).startswith(key + " must be ")


# ---------------------------------------------------------------- cloudiness
def test_cloudiness_is_seeded_bounded_and_persistent():
    a = cloudiness_factors(np.random.default_rng(9), 20000, mean=0.7, spread=0.1, persistence=0.8)
    b = cloudiness_factors(np.random.default_rng(9), 20000, mean=0.7, spread=0.1, persistence=0.8)
    np.testing.assert_array_equal(a, b)
    assert (a >= 0).all() and (a <= 1).all()
    assert a.mean() == pytest.approx(0.7, abs=0.01) and a.std() == pytest.approx(0.1, abs=0.01)
    assert np.corrcoef(a[:-1], a[1:])[0, 1] == pytest.approx(0.8, abs=0.02)
    # No persistence: independent draws; no spread: constant.
    flat = cloudiness_factors(np.random.default_rng(9), 50, mean=0.9, spread=0.0)
    np.testing.assert_array_equal(flat, 0.9)
    assert len(cloudiness_factors(np.random.default_rng(9), 0)) == 0
    with pytest.raises(ParameterError):
        cloudiness_factors(np.random.default_rng(9), 5, persistence=1.5)
