"""Schemas of the ``chain/`` config group: one per consensus protocol.

Every schema also carries the layout fields (``layout``, ``cross``,
``reselect_every``, ``cross_reserve_coins``, ``dual_block_period_s``; checked by
``chain.layouts.LayoutConfig``), so ``chain.layout=sharded`` works with any protocol.

Each protocol's YAML (``conf/chain/<name>.yaml``) starts from its schema here. Range
checks live in the constructors of ``chain.consensus`` (their ``ValueError`` messages
start with the parameter name); the network between validators is a nested
``chain.network.NetworkModel`` whose messages start with ``network.``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NetworkSchema:
    """Links between validators (simulated time only): latency and bandwidth."""

    _target_: str = "chain.network.NetworkModel"
    latency_ms: float = 50.0
    latency_distribution: str = "constant"
    latency_spread_ms: float = 0.0
    bandwidth_mbps: float = 100.0


@dataclass
class LayoutFields:
    """Layout settings shared by every consensus config (``chain.layouts.LayoutConfig``).

    Not passed to the consensus constructor: ``experiments.build`` takes them out.
    """

    layout: str = "single"
    cross: str = "partial"
    reselect_every: int = 10
    cross_reserve_coins: float = 10_000.0
    dual_block_period_s: float = 3600.0


@dataclass
class ProofOfAuthoritySchema(LayoutFields):
    """Proof-of-authority sealing (seed 001 ch. 4, Clique: in-turn and out-of-turn)."""

    _target_: str = "chain.consensus.poa.ProofOfAuthority"
    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False
    silent_validators: list[int] = field(default_factory=list)
    wiggle_ms: int = 500
    network: NetworkSchema = field(default_factory=NetworkSchema)


@dataclass
class ProofOfWorkSchema(LayoutFields):
    """Proof of work with unanimous miner agreement (seed 000 SSG, Algorithm 2)."""

    _target_: str = "chain.consensus.pow.ProofOfWork"
    n_validators: int = 4
    difficulty_bits: int = 8
    simulated_difficulty_bits: int = 24
    hash_rate_hps: int = 100_000
    hash_rates_hps: list[int] = field(default_factory=list)
    hash: str = "sha256"
    confirmations: int = 6
    max_block_tx: int = 5000
    faulty_miners: Any = None
    network: NetworkSchema = field(default_factory=NetworkSchema)


@dataclass
class PbftSchema(LayoutFields):
    """Practical Byzantine fault tolerance among the validators."""

    _target_: str = "chain.consensus.pbft.Pbft"
    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False
    view_timeout_s: float = 1.0
    faulty_replicas: Any = None
    network: NetworkSchema = field(default_factory=NetworkSchema)


@dataclass
class HybridSchema(PbftSchema):
    """Response strength + PBFT among the station areas' bookkeepers (seed 002 §4.1)."""

    _target_: str = "chain.consensus.hybrid.Hybrid"
    validator_areas: list[int] = field(default_factory=list)
    response_strength: list[float] = field(default_factory=list)


@dataclass
class CentralSchema(LayoutFields):
    """A single trusted operator (the centralised baseline)."""

    _target_: str = "chain.consensus.central.Central"
    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 1
    seal_empty_blocks: bool = False
    network: NetworkSchema = field(default_factory=NetworkSchema)


SCHEMAS: dict[str, Any] = {
    "poa_schema": ProofOfAuthoritySchema,
    "pow_schema": ProofOfWorkSchema,
    "pbft_schema": PbftSchema,
    "hybrid_schema": HybridSchema,
    "central_schema": CentralSchema,
}
