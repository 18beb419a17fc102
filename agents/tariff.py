"""The grid operator's prices: a time-of-use retail tariff and a feed-in tariff."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.params import check, check_range
from agents.profiles import step_mid_hours
from market import MarketContext


@dataclass(frozen=True)
class TimeOfUseTariff:
    """Three-band time-of-use retail tariff plus a flat feed-in tariff.

    The band structure (peak 16:00-20:00, day 07:00-16:00, off-peak otherwise) is the
    weekday structure of seed 001, Table 3.1. The thesis gives no prices for the bands,
    so the defaults are ours, set near Australian retail prices (the setting of seed
    004). The feed-in tariff of 0.10 coins/kWh is seed 004 §4.1 ("about 10 cents/kWh");
    one coin stands for one currency unit (a dollar).

    Attributes:
        off_peak_coins_per_kwh: Retail price outside the day and peak bands.
        day_coins_per_kwh: Retail price from ``day_start_h`` to ``peak_start_h``.
        peak_coins_per_kwh: Retail price from ``peak_start_h`` to ``peak_end_h``.
        feed_in_coins_per_kwh: Price the grid operator pays for exported energy.
        day_start_h: Start of the day band, hours after midnight.
        peak_start_h: Start of the peak band.
        peak_end_h: End of the peak band.
    """

    off_peak_coins_per_kwh: float = 0.12
    day_coins_per_kwh: float = 0.20
    peak_coins_per_kwh: float = 0.30
    feed_in_coins_per_kwh: float = 0.10
    day_start_h: float = 7.0
    peak_start_h: float = 16.0
    peak_end_h: float = 20.0

    def __post_init__(self) -> None:
        check_range(self.feed_in_coins_per_kwh, "feed_in_coins_per_kwh", 0.0)
        for name in ("off_peak_coins_per_kwh", "day_coins_per_kwh", "peak_coins_per_kwh"):
            value = getattr(self, name)
            check_range(value, name, 0.0)
            check(
                value >= self.feed_in_coins_per_kwh,
                name,
                f">= feed_in_coins_per_kwh ({self.feed_in_coins_per_kwh})",
                value,
            )
        check(
            0 <= self.day_start_h <= self.peak_start_h <= self.peak_end_h <= 24,
            "day_start_h",
            "0 <= day_start_h <= peak_start_h <= peak_end_h <= 24",
            (self.day_start_h, self.peak_start_h, self.peak_end_h),
        )

    def retail_price(self, hour_of_day: float | np.ndarray) -> float | np.ndarray:
        """Retail price in coins/kWh at ``hour_of_day`` (0 <= h < 24)."""
        hour = np.asarray(hour_of_day, dtype=float) % 24.0
        price = np.where(
            (hour >= self.peak_start_h) & (hour < self.peak_end_h),
            self.peak_coins_per_kwh,
            np.where(
                (hour >= self.day_start_h) & (hour < self.peak_start_h),
                self.day_coins_per_kwh,
                self.off_peak_coins_per_kwh,
            ),
        )
        return float(price) if price.ndim == 0 else price

    def market_context(self, step: int, step_minutes: int) -> MarketContext:
        """Tariffs in force during ``step`` and the clock hour at its start.

        Every area and the driver use it; the mechanisms' hour of day comes from here.
        """
        step_of_day = step % (1440 // step_minutes)
        hour = float(step_mid_hours(step_of_day, step_minutes))
        return MarketContext(
            step=step,
            tariff=float(self.retail_price(hour)),
            feed_in_tariff=self.feed_in_coins_per_kwh,
            hour_of_day=step_of_day * step_minutes / 60.0,
        )
