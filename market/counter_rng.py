"""Counter-based pseudo-random numbers: deterministic, seeded, stateless per draw.

The market library keeps no hidden state and takes no global random source,
but two mechanisms need randomness: the genetic algorithm of the Stackelberg
leader (seed 001, §3.3.2) and the contract-breaking draws of the two-level
market (seed 002, §5.2.4).  Both use this module: every draw is the SplitMix64
finaliser (Steele, Lea and Flood, 2014) applied to a ``(seed, stream, counter)``
triple, so a value depends only on its coordinates and the same arguments give
the same numbers on every platform and in every process.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def hash_uint64(seed: int, stream: int, counters: np.ndarray) -> np.ndarray:
    """Return one pseudo-random uint64 per counter for the given seed and stream.

    Args:
        seed: Any integer (reduced modulo 2**64).
        stream: Independent sub-sequence id (e.g. a step index or a purpose code).
        counters: Integer array of positions within the stream (e.g. agent ids).

    Returns:
        uint64 array shaped like ``counters``.
    """
    key = _mix(np.array([(seed & _MASK64)], dtype=np.uint64) + _GOLDEN)
    key = _mix(key ^ np.uint64(stream & _MASK64))
    c = np.asarray(counters).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(key[0] ^ (c * _GOLDEN + np.uint64(1)))


def uniform(seed: int, stream: int, counters: np.ndarray) -> np.ndarray:
    """Return float64 values in ``[0, 1)``, one per counter (53 random bits each)."""
    bits = hash_uint64(seed, stream, counters) >> np.uint64(11)
    return bits.astype(np.float64) * (1.0 / (1 << 53))


class CounterRandom:
    """A deterministic random source for one algorithm run (e.g. one GA).

    Each call consumes a fresh block of counters, so the sequence of calls
    fully determines the numbers.  The object is local to the computation
    that creates it; it is never stored between clearings.

    Args:
        seed: Seed of the run.
        stream: Stream id, to separate independent uses of the same seed.
    """

    def __init__(self, seed: int, stream: int = 0) -> None:
        self.seed, self.stream, self._next = int(seed), int(stream), 0

    def _counters(self, n: int) -> np.ndarray:
        start, self._next = self._next, self._next + n
        return np.arange(start, start + n, dtype=np.int64)

    def random(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform floats in ``[0, 1)`` of the given shape."""
        size = int(np.prod(shape))
        return uniform(self.seed, self.stream, self._counters(size)).reshape(shape)

    def integers(self, high: int, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform integers in ``[0, high)`` of the given shape (``high >= 1``)."""
        if high < 1:
            raise ValueError(f"high must be >= 1 (got {high})")
        return np.minimum((self.random(shape) * high).astype(np.int64), high - 1)
