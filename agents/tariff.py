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
        """Tariffs in force during ``step`` (used by every area and by the driver)."""
        hour = float(step_mid_hours(step % (1440 // step_minutes), step_minutes))
        return MarketContext(
            step=step,
            tariff=float(self.retail_price(hour)),
            feed_in_tariff=self.feed_in_coins_per_kwh,
        )


# ---- agents-real: supply capacity, demand response, marginal generation price
OVER_CAPACITY_RULES = ("shed", "scarcity_price")


@dataclass(frozen=True)
class GridSupply:
    """What the grid operator can supply, and how it signals and prices scarcity.

    Attributes:
        capacity_kw: Fixed supply capacity at the substation (seed 000 §4.2: 4 MW).
        over_capacity: What happens to demand above the capacity: ``shed`` (it is not
            served; :meth:`shortfall_kw` reports it) or ``scarcity_price`` (it is
            served at ``scarcity_coins_per_kwh``). Ours.
        scarcity_coins_per_kwh: Price of energy above capacity under
            ``scarcity_price`` (ours: a value of lost load, several coins/kWh).
        dr_trigger_share: Forecast demand, as a share of capacity, above which the
            operator raises the demand-response signal (seed 002 §5.2.2 Initial();
            the trigger level is ours).
        marginal_cost_coins_per_kwh: Marginal cost price of grid generation p_m
            (seed 002 §5.1.2; value ours).
        price_adjustment_beta: Real-time price adjustment coefficient beta (seed 002
            §5.1.2 Eqs. 9-11; value ours).
    """

    capacity_kw: float = 4000.0
    over_capacity: str = "shed"
    scarcity_coins_per_kwh: float = 5.0
    dr_trigger_share: float = 0.9
    marginal_cost_coins_per_kwh: float = 0.08
    price_adjustment_beta: float = 0.5

    def __post_init__(self) -> None:
        check_range(self.capacity_kw, "capacity_kw", 0.0, low_open=True)
        check(
            self.over_capacity in OVER_CAPACITY_RULES,
            "over_capacity",
            f"one of {OVER_CAPACITY_RULES}",
            self.over_capacity,
        )
        check_range(self.scarcity_coins_per_kwh, "scarcity_coins_per_kwh", 0.0)
        check_range(self.dr_trigger_share, "dr_trigger_share", 0.0, 1.0, low_open=True)
        check_range(self.marginal_cost_coins_per_kwh, "marginal_cost_coins_per_kwh", 0.0)
        check_range(self.price_adjustment_beta, "price_adjustment_beta", 0.0)

    def served_kw(self, demand_kw: float | np.ndarray) -> float | np.ndarray:
        """Demand served: all of it under ``scarcity_price``, up to capacity under ``shed``."""
        demand = np.asarray(demand_kw, dtype=float)
        served = (
            demand
            if self.over_capacity == "scarcity_price"
            else np.minimum(demand, self.capacity_kw)
        )
        return float(served) if served.ndim == 0 else served

    def shortfall_kw(self, demand_kw: float | np.ndarray) -> float | np.ndarray:
        """Demand above the supply capacity (0 when within it)."""
        short = np.maximum(np.asarray(demand_kw, dtype=float) - self.capacity_kw, 0.0)
        return float(short) if short.ndim == 0 else short

    def supply_cost(self, demand_kw: float, price_coins_per_kwh: float, dt_h: float) -> float:
        """Cost of serving ``demand_kw`` for ``dt_h`` h: energy above capacity at scarcity price."""
        served = float(self.served_kw(demand_kw))
        above = max(served - self.capacity_kw, 0.0)
        return ((served - above) * price_coins_per_kwh + above * self.scarcity_coins_per_kwh) * dt_h

    def demand_response_signal(self, forecast_kw: float | np.ndarray) -> bool | np.ndarray:
        """Seed 002's Initial(): True (users may join this demand response) when scarce."""
        signal = np.asarray(forecast_kw, dtype=float) > self.dr_trigger_share * self.capacity_kw
        return bool(signal) if signal.ndim == 0 else signal

    def marginal_generation_price(self, unplanned_kw: float | np.ndarray) -> float | np.ndarray:
        """Seed 002 lower level, Eqs. 10-11 (rebuilt from the text; the formulas are images).

        With unplanned load ``dP`` (consumption beyond the demand-response plan), the
        price of that generation is ``p_m (1 + beta)`` when ``dP > 0`` (users consumed
        more than agreed) and ``p_m`` with beta = 0 otherwise, never negative (Eq. 11).
        """
        dp = np.asarray(unplanned_kw, dtype=float)
        price = self.marginal_cost_coins_per_kwh * (1.0 + self.price_adjustment_beta * (dp > 0))
        price = np.maximum(price, 0.0)
        return float(price) if price.ndim == 0 else price

    def unplanned_cost(self, unplanned_kwh: float | np.ndarray) -> float | np.ndarray:
        """Seed 002 Eq. 9: the grid's cost of unplanned load, ``max(dP, 0) x price``."""
        dp = np.asarray(unplanned_kwh, dtype=float)
        cost = np.maximum(dp, 0.0) * self.marginal_generation_price(dp)
        return float(cost) if cost.ndim == 0 else cost


# ---- end agents-real
