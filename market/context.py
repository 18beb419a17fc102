"""Per-step market context: the grid operator's prices for the clearing step.

Seed 004 (CE-SDT), §3.3: demand left unmatched in the community market is
bought from the grid at the retail time-of-use tariff, and surplus left
unmatched is sold to the grid at the feed-in tariff (10 c/kWh in the paper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MarketContext:
    """Grid prices for one clearing step.

    Attributes:
        step: Simulation step index (``>= 0``).
        tariff: Grid retail price in coins/kWh (what a buyer pays the grid).
        feed_in_tariff: Grid feed-in price in coins/kWh (what the grid pays a
            seller); must not exceed ``tariff``.
        hour_of_day: Clock hour at the start of the step, in ``[0, 24)``, for
            mechanisms that schedule by hour (``stackelberg``, ``local_re``);
            ``None`` when the caller does not say (those mechanisms then derive
            it from ``step`` and their ``step_minutes`` parameter).

    Raises:
        ValueError: If a price is negative or not finite, if
            ``feed_in_tariff > tariff``, if ``step`` is not a non-negative
            integer or ``hour_of_day`` lies outside ``[0, 24)``.
    """

    step: int
    tariff: float
    feed_in_tariff: float
    hour_of_day: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.step, bool) or not isinstance(self.step, int | np.integer):
            raise ValueError(f"step must be an integer (got {self.step!r})")
        if self.step < 0:
            raise ValueError(f"step must be >= 0 (got {self.step})")
        for name in ("tariff", "feed_in_tariff"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0 (got {value})")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "step", int(self.step))
        if self.hour_of_day is not None:
            hour = float(self.hour_of_day)
            if not (math.isfinite(hour) and 0.0 <= hour < 24.0):
                raise ValueError(f"hour_of_day must lie in [0, 24) (got {self.hour_of_day})")
            object.__setattr__(self, "hour_of_day", hour)
        if self.feed_in_tariff > self.tariff:
            raise ValueError(
                f"feed_in_tariff ({self.feed_in_tariff}) must not exceed tariff ({self.tariff})"
            )


def hour_of_step(ctx: MarketContext, step_minutes: int) -> float:
    """Clock hour at the start of ``ctx``'s step (``ctx.hour_of_day`` when given).

    Step 0 starts at midnight, as in the simulator.
    """
    if ctx.hour_of_day is not None:
        return ctx.hour_of_day
    return (ctx.step * step_minutes / 60.0) % 24.0
