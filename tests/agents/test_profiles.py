"""Daily shapes: household load and clear-sky PV."""

from __future__ import annotations

import numpy as np
import pytest

from agents.profiles import clear_sky_pv_shape, residential_load_shape, step_mid_hours

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
