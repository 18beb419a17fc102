"""Price rules: the price at which a matched (bid, ask) pair trades.

Seed 004 (CE-SDT), §3.3 pairs the highest bids with the lowest asks; the
price of each pair is set by a rule:

* ``"midpoint"``: ``(bid + ask) / 2``, splitting the surplus evenly;
* ``"pay_as_bid"``: the buyer's bid.

Both lie in ``[ask, bid]`` whenever ``bid >= ask``.
"""

from __future__ import annotations

import numpy as np

PRICE_RULES: tuple[str, ...] = ("midpoint", "pay_as_bid")
"""Names of the supported price rules."""


def check_price_rule(price_rule: str) -> str:
    """Return ``price_rule`` if supported.

    Raises:
        ValueError: ``price_rule must be one of 'midpoint', 'pay_as_bid' (got 'x')``.
    """
    if price_rule not in PRICE_RULES:
        allowed = ", ".join(repr(r) for r in PRICE_RULES)
        raise ValueError(f"price_rule must be one of {allowed} (got {price_rule!r})")
    return price_rule


def pair_prices(bid: np.ndarray, ask: np.ndarray, price_rule: str) -> np.ndarray:
    """Return the trade price of each matched pair in coins/kWh.

    Args:
        bid: float64 buyers' limit prices of the pairs.
        ask: float64 sellers' limit prices of the pairs (``ask <= bid``).
        price_rule: One of :data:`PRICE_RULES`.

    Returns:
        float64 prices, each within ``[ask, bid]``.
    """
    check_price_rule(price_rule)
    if price_rule == "pay_as_bid":
        return np.array(bid, dtype=np.float64, copy=True)
    # Halving first cannot overflow and equals (bid + ask) / 2 for normal
    # numbers; the clip guards the bracket against subnormal rounding.
    return np.clip(0.5 * bid + 0.5 * ask, ask, bid)
