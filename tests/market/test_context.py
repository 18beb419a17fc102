"""MarketContext validation."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import dataclasses

import pytest

from market import MarketContext


def test_valid_context() -> None:
    ctx = MarketContext(step=3, tariff=25.0, feed_in_tariff=10.0)
    assert (ctx.step, ctx.tariff, ctx.feed_in_tariff) == (3, 25.0, 10.0)
    assert MarketContext(0, 10, 10).feed_in_tariff == 10.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.tariff = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tariff", "feed_in", "match"),
    [
        (10.0, 11.0, "feed_in_tariff"),
        (-1.0, 0.0, "tariff"),
        (10.0, -1.0, "feed_in_tariff"),
        (float("nan"), 1.0, "tariff"),
        (float("inf"), 1.0, "tariff"),
        (10.0, float("nan"), "feed_in_tariff"),
    ],
)
def test_invalid_prices(tariff: float, feed_in: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MarketContext(step=0, tariff=tariff, feed_in_tariff=feed_in)


@pytest.mark.parametrize("step", [-1, 1.5, True])
def test_invalid_step(step: object) -> None:
    with pytest.raises(ValueError, match="step"):
        MarketContext(step=step, tariff=1.0, feed_in_tariff=0.5)  # type: ignore[arg-type]
