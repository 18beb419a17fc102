"""Hybrid "response strength + PoW + PBFT" consensus of seed 002 §4.1.

How we read the paper (details and the vague points in ``docs/consensus.md``):

* Station-area nodes are grouped by station area. At every block period the grid
  company rates each node's *demand-response strength*; in each area the node
  with the highest strength gets the bookkeeping right (ties: lowest validator
  index). The paper names PoW but then argues the alliance's mutual trust makes
  a computing-power race unnecessary: the strength ranking takes the place of
  the race, so no hash puzzle is solved (``difficulty_bits`` is 0).
* The areas' bookkeeping nodes form a committee that agrees on each block with
  PBFT (:mod:`chain.consensus.bft_round`): ``m`` areas tolerate
  ``floor((m - 1) / 3)`` faulty bookkeepers, a block commits with ``q`` signed
  COMMIT votes from bookkeepers of distinct areas.
* The bookkeepers take turns proposing, one per block (the primary of height
  ``h`` in view ``v`` is bookkeeper ``(h - 1 + v) mod m`` in area order), since
  each holds the bookkeeping right of its area; a silent one is skipped by a
  view change. Validators outside the committee receive committed blocks.

The strengths are an input: constant (``response_strength``, default equal) or
updated by the driver through :meth:`HybridEngine.set_response_strength`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from chain.consensus.base import Host
from chain.consensus.pbft import BftEngine, Pbft


def _areas(value: object, n: int) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"validator_areas must be a list of station-area ids (got {value!r})")
    areas = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < -1:
            raise ValueError(
                f"validator_areas must hold area ids >= 0, or -1 for none (got {item!r})"
            )
        areas.append(int(item))
    if areas and len(areas) != n:
        raise ValueError(
            f"validator_areas must give one area per validator ({n}) (got {len(areas)})"
        )
    return tuple(areas)


def _strengths(value: object, n: int) -> tuple[float, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"response_strength must be a list of numbers (got {value!r})")
    values = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ValueError(f"response_strength must hold finite numbers (got {item!r})")
        values.append(float(item))
    if values and len(values) != n:
        raise ValueError(
            f"response_strength must give one value per validator ({n}) (got {len(values)})"
        )
    return tuple(values)


def bookkeepers(areas: Sequence[int], strength: Sequence[float]) -> list[int]:
    """Per station area (in area order), the validator with the highest strength.

    Args:
        areas: Area of each validator (-1: in no area).
        strength: Demand-response strength of each validator (empty: all equal).

    Returns:
        One validator index per area that has validators; ties go to the lowest index.
    """
    best: dict[int, int] = {}
    for index, area in enumerate(areas):
        if area < 0:
            continue
        value = strength[index] if strength else 0.0
        current = best.get(area)
        if current is None or value > (strength[current] if strength else 0.0):
            best[area] = index
    return [best[area] for area in sorted(best)]


@dataclass(frozen=True)
class Hybrid(Pbft):
    """Hybrid consensus configuration (seed 002 §4.1).

    Attributes:
        validator_areas: Station area of each validator's host bus (-1: none,
            e.g. the substation). The driver fills it in
            (:meth:`with_validator_areas`); every area needs a validator.
        response_strength: Demand-response strength per validator (empty: equal).
    """

    validator_areas: Any = ()
    response_strength: Any = ()

    name: ClassVar[str] = "hybrid"
    rotate_primary: ClassVar[bool] = True
    #: The driver must call :meth:`with_validator_areas` before building the chain.
    needs_validator_areas: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        areas = _areas(self.validator_areas, self.n_validators)
        object.__setattr__(self, "validator_areas", areas)
        strength = _strengths(self.response_strength, self.n_validators)
        object.__setattr__(self, "response_strength", strength)

    def with_validator_areas(self, areas: Sequence[int]) -> Hybrid:
        """A copy that knows the station area of every validator."""
        return dataclasses.replace(self, validator_areas=tuple(int(a) for a in areas))

    @property
    def n_areas(self) -> int:
        """Station areas that have at least one validator."""
        return len({area for area in self.validator_areas if area >= 0})

    def params(self) -> dict[str, int | str]:
        """Genesis parameters: PBFT's plus the validators' areas (the verifier needs them)."""
        return {
            **super().params(),
            "validator_areas": ",".join(str(a) for a in self.validator_areas),
            "n_areas": self.n_areas,
        }

    def engine(self, host: Host) -> HybridEngine:
        """The running protocol for one chain.

        Raises:
            ValueError: If the validators' areas are unknown.
        """
        if not self.validator_areas:
            raise ValueError(
                "validator_areas must name the station area of every validator (the driver "
                "sets it from the grid; -1 for a validator outside every area)"
            )
        if self.n_areas == 0:
            raise ValueError("validator_areas must put at least one validator in a station area")
        return HybridEngine(self, host)


class HybridEngine(BftEngine):
    """PBFT among the areas' bookkeeping nodes, chosen by response strength."""

    config: Hybrid

    def __init__(self, config: Hybrid, host: Host) -> None:
        """Start with the configured strengths."""
        super().__init__(config, host)
        self.strength: tuple[float, ...] = config.response_strength

    def set_response_strength(self, strength: Sequence[float]) -> None:
        """New demand-response strengths, one per validator (for the next blocks).

        Raises:
            ValueError: If the list has the wrong length or non-finite values.
        """
        self.strength = _strengths(list(strength), self.config.n_validators)

    def committee(self, height: int) -> list[int]:
        """The bookkeeping node of every area, in area order."""
        return bookkeepers(self.config.validator_areas, self.strength)

    def metrics(self) -> dict[str, float | int]:
        """PBFT's counters and the number of areas."""
        return {**super().metrics(), "n_areas": self.config.n_areas}
