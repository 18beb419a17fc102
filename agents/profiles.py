"""Exogenous daily shapes: household load and clear-sky photovoltaic output.

These are deliberately simple, smooth shapes for the walking skeleton. The agents
issue replaces them with standard load profiles (demandlib's BDEW H0/G0) and pvlib
clear-sky irradiance; the interfaces (a factor per step, evaluated at the middle of
the step) stay the same.
"""

from __future__ import annotations

import numpy as np


def step_mid_hours(step: int | np.ndarray, step_minutes: int) -> float | np.ndarray:
    """Hour of day (0-24) at the middle of ``step`` for steps of ``step_minutes``."""
    return ((np.asarray(step) + 0.5) * step_minutes / 60.0) % 24.0


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
