"""Parameter checking shared by the world's configuration objects.

Every configurable object of ``agents/`` validates itself when built and raises
:class:`ParameterError`, whose message starts with the parameter's name and states
the allowed values, so the command line can name the offending config key.
"""

from __future__ import annotations

import math
from typing import Any

# Balances are int64 micro-coins on the chain; keep every wallet (and their sum) far below.
MAX_WALLET_COINS = 1e12


class ParameterError(ValueError):
    """A configuration value outside its allowed range.

    Attributes:
        key: Dotted name of the parameter relative to the object that checked it.
    """

    def __init__(self, key: str, allowed: str, got: Any) -> None:
        self.key = key
        self.allowed = allowed
        self.got = got
        super().__init__(f"{key} must be {allowed} (got {got!r})")

    def within(self, prefix: str) -> ParameterError:
        """Return the same error with ``prefix.`` prepended to its key."""
        return ParameterError(f"{prefix}.{self.key}", self.allowed, self.got)


def check(condition: bool, key: str, allowed: str, got: Any) -> None:
    """Raise :class:`ParameterError` for ``key`` unless ``condition`` holds."""
    if not condition:
        raise ParameterError(key, allowed, got)


def is_integer(value: Any) -> bool:
    """True for ints (booleans excluded: ``True`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_range(
    value: float,
    key: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
) -> None:
    """Check that ``value`` is finite and ``low <= value <= high`` (``low <`` if ``low_open``)."""
    check(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
        key,
        "a finite number",
        value,
    )
    if low is not None:
        ok = value > low if low_open else value >= low
        check(ok, key, f"{'>' if low_open else '>='} {low}", value)
    if high is not None:
        check(value <= high, key, f"<= {high}", value)


def check_interval(
    bounds: tuple[float, float] | list[float],
    key: str,
    low: float | None = None,
    high: float | None = None,
) -> tuple[float, float]:
    """Check a ``[lower, upper]`` pair with ``low <= lower <= upper <= high``."""
    check(len(bounds) == 2, key, "a pair [lower, upper]", bounds)
    lower, upper = float(bounds[0]), float(bounds[1])
    allowed = "a pair [lower, upper] with lower <= upper"
    if low is not None:
        allowed += f" and lower >= {low}"
    if high is not None:
        allowed += f" and upper <= {high}"
    ok = lower <= upper and (low is None or lower >= low) and (high is None or upper <= high)
    check(ok, key, allowed, list(bounds))
    return lower, upper
