"""Deterministic price priority of orders.

Seed 004 (CE-SDT), §3.3: the trading contract arranges the selling prices from
low to high and the buying prices from high to low.  Equal prices are ranked
by row index (earlier order first), so the ranking is a pure function of the
book.

Sorting.  A stable comparison sort of a million 64-bit keys spends most of its
time on cache misses.  :func:`stable_key_order` first distributes the keys over
``2**16`` buckets by their leading bits (above the smallest key) with numpy's
linear-time radix sort of 16-bit integers, then runs the stable sort on the
bucketed sequence, which is already ordered except inside each bucket; the
merge steps of the stable sort then find their runs in order and cost little.
The buckets are monotone in the key and both passes are stable, so the result
is exactly the stable argsort of the keys.
"""

from __future__ import annotations

import numpy as np

_SIGN_BIT = np.uint64(1 << 63)
_BUCKET_BITS = 16
_MIN_BUCKETED = 4096  # below this a single stable sort is as fast


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
    # All ones for a negative number, zero otherwise (arithmetic shift), then
    # the sign bit set: XOR with it flips every bit or only the sign bit.
    flip = (bits.view(np.int64) >> 63).view(np.uint64)
    flip |= _SIGN_BIT
    flip ^= bits
    return flip


def ask_priority(limit_price: np.ndarray) -> np.ndarray:
    """Return the permutation ranking asks by price ascending, ties by position ascending.

    Args:
        limit_price: float64 sellers' minimum prices (finite).

    Returns:
        int64 positions into ``limit_price``, best (cheapest) ask first.
    """
    return stable_key_order(price_sort_key(limit_price))


def bid_priority(limit_price: np.ndarray) -> np.ndarray:
    """Return the permutation ranking bids by price descending, ties by position ascending.

    Args:
        limit_price: float64 buyers' maximum prices (finite).

    Returns:
        int64 positions into ``limit_price``, best (highest) bid first.
    """
    # Complementing the keys reverses the price order; the stable sort keeps
    # equal bids in position order.
    keys = price_sort_key(limit_price)
    return stable_key_order(np.invert(keys, out=keys))


def stable_key_order(keys: np.ndarray) -> np.ndarray:
    """Return the stable ascending argsort of uint64 ``keys`` (ties by position).

    Equal to ``np.argsort(keys, kind="stable")``, computed in two stable passes
    (see the module docstring): a radix sort on the bucket of each key, then a
    stable sort of the keys in bucket order.

    Args:
        keys: uint64 sort keys (e.g. from :func:`price_sort_key`).

    Returns:
        int64 positions into ``keys``, smallest key first.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    if keys.shape[0] < _MIN_BUCKETED:
        return np.argsort(keys, kind="stable").astype(np.int64, copy=False)
    low = keys.min()
    span_bits = int(keys.max() - low).bit_length()
    if span_bits == 0:  # all keys equal: positions are already in order
        return np.arange(keys.shape[0], dtype=np.int64)
    shift = np.uint64(max(span_bits - _BUCKET_BITS, 0))
    offset = keys - low
    offset >>= shift
    bucket = offset.astype(np.uint16)  # < 2**16, monotone in the key
    by_bucket = np.argsort(bucket, kind="stable")  # radix sort for 16-bit integers
    within = np.argsort(keys[by_bucket], kind="stable")
    return by_bucket[within].astype(np.int64, copy=False)
