"""Deterministic price priority of orders.

Seed 004 (CE-SDT), §3.3: the trading contract arranges the selling prices from
low to high and the buying prices from high to low.  Equal prices are ranked
by row index (earlier order first), so the ranking is a pure function of the
book.
"""

from __future__ import annotations

import numpy as np

_SIGN_BIT = np.uint64(1 << 63)


def price_sort_key(limit_price: np.ndarray) -> np.ndarray:
    """Map finite float64 prices to uint64 keys with the same order.

    IEEE-754 bit patterns order like sign-magnitude integers: flipping every
    bit of a negative number and only the sign bit of a non-negative one makes
    them order like unsigned integers.  ``-0.0`` is first normalised to
    ``+0.0`` so that the two zeros, which compare equal, get equal keys.
    Sorting the keys is measurably faster than sorting the floats.

    Args:
        limit_price: float64 finite prices.

    Returns:
        uint64 keys with ``key[i] < key[j]`` iff ``price[i] < price[j]``.
    """
    bits = (np.asarray(limit_price, dtype=np.float64) + 0.0).view(np.uint64)
    return np.where(bits & _SIGN_BIT, ~bits, bits | _SIGN_BIT)


def ask_priority(limit_price: np.ndarray) -> np.ndarray:
    """Return the permutation ranking asks by price ascending, ties by position ascending.

    Args:
        limit_price: float64 sellers' minimum prices (finite).

    Returns:
        int64 positions into ``limit_price``, best (cheapest) ask first.
    """
    return np.argsort(price_sort_key(limit_price), kind="stable").astype(np.int64, copy=False)


def bid_priority(limit_price: np.ndarray) -> np.ndarray:
    """Return the permutation ranking bids by price descending, ties by position ascending.

    Args:
        limit_price: float64 buyers' maximum prices (finite).

    Returns:
        int64 positions into ``limit_price``, best (highest) bid first.
    """
    # Complementing the keys reverses the price order; the stable sort keeps
    # equal bids in position order.
    return np.argsort(~price_sort_key(limit_price), kind="stable").astype(np.int64, copy=False)
