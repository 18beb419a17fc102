"""The time-of-use tariff: band boundaries and validation."""

from __future__ import annotations

import numpy as np
import pytest

from agents.params import ParameterError
from agents.tariff import TimeOfUseTariff


@pytest.mark.parametrize(
    ("hour", "price"),
    [
        (0.0, 0.12),
        (6.99, 0.12),
        (7.0, 0.20),
        (12.0, 0.20),
        (15.999, 0.20),
        (16.0, 0.30),
        (19.99, 0.30),
        (20.0, 0.12),
        (23.99, 0.12),
        # Hours wrap around the day.
        (24.0, 0.12),
        (31.0, 0.20),
        (40.0, 0.30),
        (-1.0, 0.12),
        (-5.0, 0.30),
    ],
)
def test_default_bands(hour, price):
    value = TimeOfUseTariff().retail_price(hour)
    assert isinstance(value, float)
    assert value == price


def test_array_input_gives_array():
    hours = np.array([0.125, 6.875, 7.125, 15.875, 16.125, 19.875, 20.125, 23.875])
    prices = TimeOfUseTariff().retail_price(hours)
    assert isinstance(prices, np.ndarray) and prices.shape == (8,)
    np.testing.assert_array_equal(prices, [0.12, 0.12, 0.2, 0.2, 0.3, 0.3, 0.12, 0.12])


def test_custom_bands_and_feed_in():
    tariff = TimeOfUseTariff(
        off_peak_coins_per_kwh=0.1,
        day_coins_per_kwh=0.15,
        peak_coins_per_kwh=0.4,
        feed_in_coins_per_kwh=0.05,
        day_start_h=6.0,
        peak_start_h=17.0,
        peak_end_h=21.5,
    )
    np.testing.assert_array_equal(
        tariff.retail_price(np.array([5.9, 6.0, 16.9, 17.0, 21.4, 21.5])),
        [0.1, 0.15, 0.15, 0.4, 0.4, 0.1],
    )
    assert tariff.feed_in_coins_per_kwh == 0.05


def test_empty_day_band_and_peak_to_midnight():
    tariff = TimeOfUseTariff(day_start_h=16.0, peak_start_h=16.0, peak_end_h=24.0)
    assert tariff.retail_price(15.0) == 0.12
    assert tariff.retail_price(16.0) == 0.30
    assert tariff.retail_price(23.99) == 0.30


@pytest.mark.parametrize(
    "name", ["off_peak_coins_per_kwh", "day_coins_per_kwh", "peak_coins_per_kwh"]
)
def test_retail_below_feed_in_is_rejected(name):
    with pytest.raises(ParameterError) as info:
        TimeOfUseTariff(**{name: 0.09})
    assert info.value.key == name
    assert str(info.value).startswith(f"{name} must be >= feed_in_coins_per_kwh")
    assert info.value.got == 0.09


def test_retail_equal_to_feed_in_is_allowed():
    tariff = TimeOfUseTariff(off_peak_coins_per_kwh=0.1)
    assert tariff.retail_price(2.0) == 0.1


def test_negative_feed_in_is_rejected():
    with pytest.raises(ParameterError) as info:
        TimeOfUseTariff(feed_in_coins_per_kwh=-0.01)
    assert info.value.key == "feed_in_coins_per_kwh"
    assert str(info.value).startswith("feed_in_coins_per_kwh")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "hours",
    [
        dict(day_start_h=17.0),  # day after peak start
        dict(peak_start_h=21.0),  # peak start after peak end
        dict(peak_end_h=25.0),  # past midnight
        dict(day_start_h=-1.0),  # before midnight
    ],
)
def test_unordered_hours_are_rejected(hours):
    with pytest.raises(ParameterError) as info:
        TimeOfUseTariff(**hours)
    assert info.value.key == "day_start_h"
    assert str(info.value).startswith("day_start_h must be 0 <= day_start_h <= peak_start_h")


def test_infinite_price_is_rejected():
    with pytest.raises(ParameterError) as info:
        TimeOfUseTariff(peak_coins_per_kwh=float("inf"))
    assert info.value.key == "peak_coins_per_kwh"
