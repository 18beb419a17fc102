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

    Raises:
        ValueError: If a price is negative or not finite, if
            ``feed_in_tariff > tariff`` or if ``step`` is not a non-negative integer.
    """

    step: int
    tariff: float
    feed_in_tariff: float

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
        if self.feed_in_tariff > self.tariff:
            raise ValueError(
                f"feed_in_tariff ({self.feed_in_tariff}) must not exceed tariff ({self.tariff})"
            )
