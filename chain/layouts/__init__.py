"""Chain layouts: how many chains a run keeps and which chain records which payment.

``single`` (one chain), ``sharded`` (a shard per station area, seed 002 §4.3),
``two_layer`` (alliance chains under a beacon chain, seed 002 §3) and ``dual``
(LETB + RETB, seed 003). Each works with every consensus of
:mod:`chain.consensus`; the driver uses :func:`build_layout` and the
:class:`~chain.layouts.base.Layout` interface instead of a single chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chain.keys import Identity
from chain.layouts.base import LAYOUT_FILE, LAYOUT_FORMAT, Layout, ValidatorSeat
from chain.layouts.config import CROSS_MODES, LAYOUT_NAMES, LayoutConfig
from chain.layouts.dual import DualLayout
from chain.layouts.sharded import ShardedLayout
from chain.layouts.single import SingleLayout
from chain.layouts.two_layer import TwoLayerLayout

LAYOUTS: dict[str, type[Layout]] = {
    "single": SingleLayout,
    "sharded": ShardedLayout,
    "two_layer": TwoLayerLayout,
    "dual": DualLayout,
}


def home_chain_ids(config: LayoutConfig, chain_id: str, n_areas: int) -> list[str]:
    """The chain each station area's agents sign their payments for by default.

    Known before the layout is built (the areas sign with it): the run's chain
    for ``single``, the area's shard or alliance chain, LETB for ``dual``.
    """
    if config.layout in ("sharded", "two_layer"):
        word = LAYOUTS[config.layout].shard_word  # type: ignore[attr-defined]
        return [f"{chain_id}-{word}{a}" for a in range(n_areas)]
    if config.layout == "dual":
        return [f"{chain_id}-letb"] * n_areas
    return [chain_id] * n_areas


def build_layout(
    config: LayoutConfig,
    consensus: Any,
    *,
    chain_id: str,
    seed: int,
    area_balances: Sequence[Mapping[str, int]],
    operator_key: str,
    operator_micro: int,
    validator_areas: Sequence[int] | None = None,
    validator_identities: Sequence[Identity] | None = None,
) -> Layout:
    """Build the chains of a layout.

    Args:
        config: Layout settings.
        consensus: The consensus configuration every chain runs.
        chain_id: The run's chain id (multi-chain layouts derive theirs from it).
        seed: Run seed (validator and escrow keys).
        area_balances: Per station area, wallet key -> genesis micro-coins.
        operator_key: The grid operator's public key.
        operator_micro: The grid operator's genesis micro-coins.
        validator_areas: ``single`` only: station area of each validator's host.
        validator_identities: ``single`` only: the validators' keys when the driver
            chose them (proof-of-work miners of seed 000 Algorithm 1); derived from
            the seed as ``validator/<k>`` otherwise.
    """
    return LAYOUTS[config.layout](
        config,
        consensus,
        chain_id=chain_id,
        seed=seed,
        n_areas=len(area_balances),
        area_balances=area_balances,
        operator_key=operator_key,
        operator_micro=operator_micro,
        validator_areas=validator_areas,
        validator_identities=validator_identities,
    )


__all__ = [
    "CROSS_MODES",
    "LAYOUTS",
    "LAYOUT_FILE",
    "LAYOUT_FORMAT",
    "LAYOUT_NAMES",
    "DualLayout",
    "Layout",
    "LayoutConfig",
    "ShardedLayout",
    "SingleLayout",
    "TwoLayerLayout",
    "ValidatorSeat",
    "build_layout",
    "home_chain_ids",
]
