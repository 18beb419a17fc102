"""Bidding objectives of seed 004 (CE-SDT), §3.3.1, and the contract's suggested price.

The thesis prints both objectives as images; the text says the selling price
combines (1) the user's redundant energy at time ``t`` and (2) the average
bidding price, with two weighting coefficients, and the buying price
combines (1) the user's required energy and (2) the average buying price,
with two others.  A price cannot add kWh to coins/kWh, so we rebuild each
energy term as a price inside the grid's band ``[feed_in, tariff]`` that
moves with the energy (our reconstruction):

* selling: the more surplus a user has, the cheaper it sells::

      x = E_red / (E_red + E_ref)
      p_sell = w_s1 * (tariff - (tariff - feed_in) * x) + w_s2 * mean_recent_ask

* buying: the more a user needs, the more it offers::

      y = E_req / (E_req + E_ref)
      p_buy = w_b1 * (feed_in + (tariff - feed_in) * y) + w_b2 * mean_recent_bid

Both are clipped into ``[feed_in, tariff]``: nobody sells below what the
grid pays or buys above what the grid charges.  ``E_ref`` (kWh) sets how
fast the energy term saturates.  With the default weights (0.5, 0.5) a
market without history starts from the band's midpoint.

The suggested price of workflow step (2) is the volume-weighted mean of the
last trades, clipped into the same band, or the midpoint without history.
Everything here is a pure function of quantities and recent prices, so the
agents call it to price their orders and the contract calls it to suggest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class BiddingWeights:
    """Weights of the §3.3.1 objectives (reconstructed; defaults are ours).

    Attributes:
        sell_energy: Weight of the surplus-energy price term (``w_s1``).
        sell_average: Weight of the recent average selling price (``w_s2``).
        buy_energy: Weight of the required-energy price term (``w_b1``).
        buy_average: Weight of the recent average buying price (``w_b2``).
        reference_kwh: ``E_ref``, the energy at which the energy term is halfway.
    """

    sell_energy: float = 0.5
    sell_average: float = 0.5
    buy_energy: float = 0.5
    buy_average: float = 0.5
    reference_kwh: float = 1.0

    def __post_init__(self) -> None:
        for name in ("sell_energy", "sell_average", "buy_energy", "buy_average"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if not self.reference_kwh > 0:
            raise ValueError(f"reference_kwh must be > 0 (got {self.reference_kwh})")


def _band(tariff: float, feed_in: float) -> tuple[float, float]:
    if not 0 <= feed_in <= tariff:
        raise ValueError(f"need 0 <= feed_in ({feed_in}) <= tariff ({tariff})")
    return float(feed_in), float(tariff)


def suggested_price(
    recent_prices: npt.ArrayLike,
    recent_quantities_wh: npt.ArrayLike,
    tariff: float,
    feed_in: float,
) -> float:
    """Workflow step (2): the contract's suggested price from recent trades.

    Args:
        recent_prices: Prices (coins/kWh) of the last trades, any number.
        recent_quantities_wh: Their quantities (weights), same length.
        tariff: Grid retail price now.
        feed_in: Grid feed-in price now.

    Returns:
        The volume-weighted mean recent price clipped into ``[feed_in, tariff]``,
        or the band's midpoint when there is no recent trade.
    """
    lo, hi = _band(tariff, feed_in)
    prices = np.asarray(recent_prices, dtype=np.float64)
    qty = np.asarray(recent_quantities_wh, dtype=np.float64)
    if prices.shape != qty.shape:
        raise ValueError("recent_prices and recent_quantities_wh must have the same length")
    total = float(qty.sum())
    if prices.size == 0 or total <= 0:
        return 0.5 * (lo + hi)
    return float(np.clip(np.dot(prices, qty) / total, lo, hi))


def selling_price(
    redundant_kwh: npt.ArrayLike,
    mean_recent_ask: float,
    tariff: float,
    feed_in: float,
    weights: BiddingWeights | None = None,
) -> np.ndarray:
    """§3.3.1 selling price for surplus energy (reconstruction in the module docstring)."""
    w = weights or BiddingWeights()
    lo, hi = _band(tariff, feed_in)
    e = np.maximum(np.asarray(redundant_kwh, dtype=np.float64), 0.0)
    x = e / (e + w.reference_kwh)
    price = w.sell_energy * (hi - (hi - lo) * x) + w.sell_average * float(mean_recent_ask)
    return np.clip(price, lo, hi)


def buying_price(
    required_kwh: npt.ArrayLike,
    mean_recent_bid: float,
    tariff: float,
    feed_in: float,
    weights: BiddingWeights | None = None,
) -> np.ndarray:
    """§3.3.1 buying price for required energy (reconstruction in the module docstring)."""
    w = weights or BiddingWeights()
    lo, hi = _band(tariff, feed_in)
    e = np.maximum(np.asarray(required_kwh, dtype=np.float64), 0.0)
    y = e / (e + w.reference_kwh)
    price = w.buy_energy * (lo + (hi - lo) * y) + w.buy_average * float(mean_recent_bid)
    return np.clip(price, lo, hi)
