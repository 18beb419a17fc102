"""Schemas of the ``market/`` config group."""

from __future__ import annotations

from dataclasses import dataclass


# ---------------------------------------------------------------- market/
@dataclass
class SortedPairingSchema:
    """CE-SDT sorted pairing (seed 004 §3.3)."""

    _target_: str = "market.sorted_pairing.SortedPairing"
    price_rule: str = "midpoint"


@dataclass
class GridOnlySchema:
    """Baseline: no peer trading, everybody trades with the grid operator."""

    _target_: str = "market.grid_only.GridOnly"


SCHEMAS = {
    "sorted_pairing_schema": SortedPairingSchema,
    "grid_only_schema": GridOnlySchema,
}
