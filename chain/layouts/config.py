"""Which chain layout a run uses and its settings (``chain.layout=...`` in the config).

A *layout* decides how many chains a run keeps and which chain records which
payment: one chain for everything (``single``), one shard per station area
(``sharded``, seed 002 §4.3), alliance chains under a beacon chain
(``two_layer``, seed 002 §3) or a local and a renewable chain (``dual``, seed
003). Every layout runs any consensus of :mod:`chain.consensus`; see
``docs/consensus.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LAYOUT_NAMES = ("single", "sharded", "two_layer", "dual")
CROSS_MODES = ("full", "partial")


@dataclass(frozen=True)
class LayoutConfig:
    """Layout settings shared by every consensus config.

    Attributes:
        layout: ``single``, ``sharded``, ``two_layer`` or ``dual``.
        cross: How a payment between two station areas commits in ``sharded``
            and ``two_layer``: ``full`` (consensus in both shards and a
            two-phase exchange between them) or ``partial`` (the areas'
            cross-nodes validate it once and both shards record it).
        reselect_every: Cross-nodes are re-selected by credit every this many
            blocks of their shard (>= 1).
        cross_reserve_coins: Float of each shard's cross-shard escrow account in
            coins (>= 0); incoming cross-area payments are paid out of it, so a
            shard whose reserve is spent rejects (aborts) further credits.
        dual_block_period_s: Block period of both ``dual`` chains in seconds
            (seed 003 seals hourly); ignored by proof of work, whose block time
            follows its difficulty.
    """

    layout: str = "single"
    cross: str = "partial"
    reselect_every: int = 10
    cross_reserve_coins: float = 10_000.0
    dual_block_period_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.layout not in LAYOUT_NAMES:
            raise ValueError(
                f"layout must be one of {', '.join(LAYOUT_NAMES)} (got {self.layout!r})"
            )
        if self.cross not in CROSS_MODES:
            raise ValueError(f"cross must be one of {', '.join(CROSS_MODES)} (got {self.cross!r})")
        every = self.reselect_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"reselect_every must be an int >= 1 (got {every!r})")
        reserve = self.cross_reserve_coins
        if (
            isinstance(reserve, bool)
            or not isinstance(reserve, int | float)
            or not math.isfinite(reserve)
            or not 0 <= reserve <= 1e12
        ):
            raise ValueError(f"cross_reserve_coins must be a number in [0, 1e12] (got {reserve!r})")
        period = self.dual_block_period_s
        if (
            isinstance(period, bool)
            or not isinstance(period, int | float)
            or not math.isfinite(period)
            or period <= 0
            or abs(period * 1000 - round(period * 1000)) > 1e-6
        ):
            raise ValueError(
                f"dual_block_period_s must be > 0 and a whole number of milliseconds "
                f"(got {period!r})"
            )

    @property
    def cross_reserve_micro(self) -> int:
        """The escrow float of each shard in micro-coins."""
        return round(self.cross_reserve_coins * 1_000_000)
