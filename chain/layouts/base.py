"""What every layout shares: building its chains, routing, the clock, metrics and export.

A layout owns one or more :class:`~chain.node.Chain` objects. The driver talks to
the layout only: it asks which chain a payment is signed for
(:meth:`Layout.chain_ids`) and to whom it is paid (:meth:`Layout.receivers`),
submits the signed payments with their routing (:meth:`Layout.submit`), moves
the simulated clock (:meth:`Layout.advance_to`) and finally reads metrics and
exports every chain with a manifest (:meth:`Layout.export`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from chain.block import Block
from chain.errors import LedgerError
from chain.export import write_ledger
from chain.genesis import Genesis
from chain.keys import Identity
from chain.layouts.config import LayoutConfig
from chain.node import Chain
from chain.transaction import SignedTransaction

LAYOUT_FILE = "layout.json"
LAYOUT_FORMAT = "gridledger-layout/1"


@dataclass(frozen=True)
class ValidatorSeat:
    """One validator of one chain of a layout.

    Attributes:
        chain_id: The chain it validates.
        index: Its position in the chain's genesis validators.
        identity: Its keys.
        area: Station area it sits in, or -1 (substation / master station).
        kind: ``full`` (keeps its chain), ``beacon`` (master-station full node).
    """

    chain_id: str
    index: int
    identity: Identity
    area: int
    kind: str = "full"


def build_chain(
    chain_id: str,
    consensus: Any,
    balances: Mapping[str, int],
    identities: Sequence[Identity],
    validator_areas: Sequence[int] | None = None,
    *,
    extra_params: Mapping[str, int | str] | None = None,
    registry: Any = None,
) -> Chain:
    """A chain with its own genesis and consensus instance.

    Args:
        chain_id: The chain's identifier.
        consensus: Consensus configuration; hybrid gets ``validator_areas``.
        balances: Genesis balances.
        identities: Its validators, in proposer order.
        validator_areas: Station area of each validator (hybrid only).
        extra_params: Genesis params beyond the consensus's (the registry binding).
        registry: The certificate registry of a run with identities (``chain.authority``).
    """
    if getattr(consensus, "needs_validator_areas", False):
        consensus = consensus.with_validator_areas(list(validator_areas or [0] * len(identities)))
    genesis = Genesis(
        chain_id=chain_id,
        consensus=consensus.name,
        balances=dict(balances),
        validators=tuple(identity.public_hex for identity in identities),
        params={**consensus.params(), **(extra_params or {})},
    )
    return Chain(genesis, consensus, list(identities), registry)


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integer shares, the remainder to the first ones."""
    base, rest = divmod(int(total), parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


class Layout:
    """Base class of the layouts: a set of chains behind one driver interface.

    Args:
        config: The layout settings.
        consensus: The consensus configuration every chain of the layout runs.
        chain_id: The run's chain id; multi-chain layouts derive theirs from it.
        seed: Run seed (validator and escrow keys derive from it).
        n_areas: Number of station areas.
        area_balances: Per area, public key hex -> genesis micro-coins of its
            wallet holders.
        operator_key: Public key of the grid operator.
        operator_micro: The grid operator's genesis micro-coins (split over the
            chains that it trades on; see ``docs/consensus.md``).
        validator_areas: Station area of each validator of a single chain, as
            placed by the driver (hybrid needs it).
        validator_identities: Keys of a single chain's validators chosen by the
            driver (seed 000 miners); None: derived from the seed.
    """

    name: ClassVar[str] = "layout"

    def __init__(
        self,
        config: LayoutConfig,
        consensus: Any,
        *,
        chain_id: str,
        seed: int,
        n_areas: int,
        area_balances: Sequence[Mapping[str, int]],
        operator_key: str,
        operator_micro: int,
        validator_areas: Sequence[int] | None = None,
        validator_identities: Sequence[Identity] | None = None,
    ) -> None:
        if len(area_balances) != n_areas:
            raise ValueError(f"area_balances must have one entry per area ({n_areas})")
        self.config, self.consensus = config, consensus
        self.base_chain_id, self.seed, self.n_areas = chain_id, seed, n_areas
        self.operator_key = operator_key
        self.chains: dict[str, Chain] = {}
        self.seats: list[ValidatorSeat] = []
        self.now_ms = 0
        self.messages: dict[str, int] = {}
        self.message_bytes: dict[str, int] = {}
        self._specs: dict[str, tuple] = {}
        self.spill_dir: Path | None = None  # see spill_to

    # ------------------------------------------------------------------ construction
    def _add_chain(
        self,
        chain_id: str,
        balances: Mapping[str, int],
        labels: Sequence[str],
        areas: Sequence[int],
        *,
        consensus: Any = None,
        hybrid_areas: Sequence[int] | None = None,
        kind: str = "full",
        identities: Sequence[Identity] | None = None,
    ) -> Chain:
        if identities is None:
            identities = [Identity.derive(self.seed, label) for label in labels]
        spec = (consensus or self.consensus, dict(balances), list(identities), hybrid_areas)
        self._specs[chain_id] = spec
        chain = build_chain(chain_id, *spec)
        self.chains[chain_id] = chain
        self.seats.extend(
            ValidatorSeat(chain_id, k, identity, int(area), kind)
            for k, (identity, area) in enumerate(zip(identities, areas, strict=True))
        )
        return chain

    def signers(self) -> list[Identity]:
        """Every key the layout signs with: validators, then escrows (to be registered)."""
        return [seat.identity for seat in self.seats]

    def secure(self, registry: Any, genesis_params: Mapping[str, int | str]) -> None:
        """Rebuild the (still empty) chains bound to a certificate registry.

        The registry must register :meth:`signers`; ``genesis_params`` (the
        registry binding) go into every chain's genesis.

        Raises:
            RuntimeError: If a chain already has blocks or pending transactions.
        """
        if any(chain.blocks or len(chain.mempool) for chain in self.chains.values()):
            raise RuntimeError("secure() must be called before the first submission")
        for chain_id, spec in self._specs.items():
            self.chains[chain_id] = build_chain(
                chain_id, *spec, extra_params=genesis_params, registry=registry
            )
        if self.spill_dir is not None:
            self.spill_to(self.spill_dir)

    def spill_to(self, directory: str | os.PathLike[str]) -> None:
        """Keep only recent sealed blocks in memory; older ones go to ``directory``.

        Each chain's ledger spills into its own subdirectory ``<k>-<chain id>``
        (``k`` its position; see :mod:`chain.block_store`). Calling it again with the
        same directory (a run resumed from a checkpoint) re-attaches the files.
        """
        self.spill_dir = Path(directory)
        for k, (chain_id, chain) in enumerate(self.chains.items()):
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", chain_id)
            chain.ledger.spill_to(self.spill_dir / f"{k:02d}-{name}")

    def _count(self, kind: str, count: int, size_bytes: int) -> None:
        if count > 0:
            self.messages[kind] = self.messages.get(kind, 0) + count
            self.message_bytes[kind] = self.message_bytes.get(kind, 0) + count * size_bytes

    # ------------------------------------------------------------------ routing
    @property
    def primary(self) -> Chain:
        """The first chain (the only one of ``single``)."""
        return next(iter(self.chains.values()))

    def home_chain_id(self, area: int) -> str:
        """The chain the agents of ``area`` sign their payments for by default."""
        return self.primary.chain_id

    def chain_ids(
        self, payer_area: np.ndarray, payee_area: np.ndarray, chain_tag: np.ndarray
    ) -> list[str]:
        """The chain each payment is signed for (payer area -1: the grid operator pays)."""
        return [self.primary.chain_id] * len(payer_area)

    def receivers(
        self, payer_area: np.ndarray, payee_area: np.ndarray, payee_key: Sequence[str]
    ) -> list[str]:
        """Whom each payment is made out to (the payee, or an escrow for a cross-shard leg)."""
        return list(payee_key)

    def is_cross(self, payer_area: int, payee_area: int) -> bool:
        """Whether a payment between these areas crosses chains (two-phase / cross-nodes)."""
        return False

    # ------------------------------------------------------------------ running
    def submit(
        self,
        stxs: Sequence[SignedTransaction],
        payer_area: np.ndarray,
        payee_area: np.ndarray,
        payee_key: Sequence[str],
        *,
        verified: bool = False,
    ) -> list[tuple[SignedTransaction, LedgerError]]:
        """Offer signed payments with their routing; returns the rejected ones.

        ``verified``: as :meth:`chain.node.Chain.submit` (signatures already checked
        by the model's areas; only the Ed25519 check is skipped).
        """
        rejected: list[tuple[SignedTransaction, LedgerError]] = []
        by_chain: dict[str, list[SignedTransaction]] = {}
        for stx in stxs:
            by_chain.setdefault(stx.tx.chain_id, []).append(stx)
        for chain_id, batch in by_chain.items():
            chain = self.chains.get(chain_id)
            if chain is None:
                raise ValueError(f"chain_id {chain_id!r} is not a chain of this layout")
            rejected.extend(chain.submit(batch, verified=verified))
        return rejected

    def advance_to(self, time_ms: int) -> list[Block]:
        """Advance every chain to ``time_ms``; the blocks committed, chain by chain."""
        if time_ms < self.now_ms:
            raise ValueError(f"time_ms {time_ms} is before the layout clock {self.now_ms}")
        blocks = [block for chain in self.chains.values() for block in chain.advance_to(time_ms)]
        self.now_ms = time_ms
        return blocks

    @property
    def pending(self) -> int:
        """Work not yet committed: mempool transactions and unfinished exchanges."""
        return sum(len(chain.mempool) for chain in self.chains.values())

    @property
    def drain_period_ms(self) -> int:
        """Clock step the driver uses to seal what is left after the last market step."""
        periods = [
            round(getattr(chain.consensus, "block_period_s", 2.0) * 1000)
            for chain in self.chains.values()
        ]
        return max(1, min(periods))

    def balance_of(self, key: str) -> int:
        """An account's micro-coins summed over the layout's chains."""
        return sum(chain.ledger.balance_of(key) for chain in self.chains.values())

    # ------------------------------------------------------------------ results
    def chain_metrics(self) -> dict[str, dict[str, float | int]]:
        """``Chain.metrics()`` of every chain."""
        return {chain_id: chain.metrics() for chain_id, chain in self.chains.items()}

    def storage(self) -> dict[str, float | int]:
        """Bytes kept per node kind (``storage_bytes_<kind>``); full nodes by default."""
        sizes = [chain.recorder.storage_bytes for chain in self.chains.values()]
        return {"storage_bytes_full_node": max(sizes) if sizes else 0}

    def layout_metrics(self) -> dict[str, float | int]:
        """Layout-specific counters (cross-shard payments, checkpoints ...)."""
        return {}

    def metrics(self) -> dict[str, Any]:
        """Run-level figures over every chain (summary.json ``chain_layout``).

        Throughput is committed payments (and layout transactions) per
        simulated second, latency is submission to commit over all chains,
        block size statistics pool every block, the mempool backlog is summed
        over chains, and messages/bytes add the consensus messages of every
        chain to the layout's own (cross-shard exchange, checkpoints).
        """
        latencies = [chain.recorder.commit_latencies_ms() for chain in self.chains.values()]
        latency = np.concatenate(latencies) if latencies else np.zeros(0)
        block_tx = np.array(
            [n for chain in self.chains.values() for n in chain.recorder.block_sizes[0]], float
        )
        block_bytes = np.array(
            [n for chain in self.chains.values() for n in chain.recorder.block_sizes[1]], float
        )
        per_chain = self.chain_metrics()
        elapsed_s = self.now_ms / 1000
        messages = sum(int(m["consensus_messages"]) for m in per_chain.values())
        message_bytes = sum(int(m["consensus_bytes"]) for m in per_chain.values())
        result: dict[str, Any] = {
            "layout": self.name,
            "chains": len(self.chains),
            "validators": len(self.seats),
            "blocks": int(len(block_tx)),
            "committed_tx": int(len(latency)),
            "throughput_tx_per_s": len(latency) / elapsed_s if elapsed_s > 0 else 0.0,
            "commit_latency_mean_ms": float(latency.mean()) if len(latency) else 0.0,
            "commit_latency_p95_ms": float(np.percentile(latency, 95)) if len(latency) else 0.0,
            "mean_block_tx": float(block_tx.mean()) if len(block_tx) else 0.0,
            "std_block_tx": float(block_tx.std()) if len(block_tx) else 0.0,
            "mean_block_bytes": float(block_bytes.mean()) if len(block_bytes) else 0.0,
            "std_block_bytes": float(block_bytes.std()) if len(block_bytes) else 0.0,
            "mempool_size": sum(int(m["mempool_size"]) for m in per_chain.values()),
            "mempool_max": sum(int(m["mempool_max"]) for m in per_chain.values()),
            "rejected_tx": sum(int(m["rejected_tx"]) for m in per_chain.values()),
            "consensus_messages": messages,
            "consensus_bytes": message_bytes,
            "layout_messages": sum(self.messages.values()),
            "layout_bytes": sum(self.message_bytes.values()),
            "messages": messages + sum(self.messages.values()),
            "bytes": message_bytes + sum(self.message_bytes.values()),
            "sim_time_ms": self.now_ms,
        }
        for kind in sorted(self.messages):
            result[f"messages_{kind}"] = self.messages[kind]
            result[f"bytes_{kind}"] = self.message_bytes[kind]
        result.update(self.storage())
        result.update(self.layout_metrics())
        return result

    def manifest(self) -> dict[str, Any]:
        """The layout manifest written beside the ledger (``layout.json``)."""
        return {
            "format": LAYOUT_FORMAT,
            "layout": self.name,
            "chains": [
                {"chain_id": chain_id, "role": self.role_of(chain_id)} for chain_id in self.chains
            ],
            "n_areas": self.n_areas,
        }

    def role_of(self, chain_id: str) -> str:
        """The part a chain plays in the layout (``main``, ``shard``, ``beacon`` ...)."""
        return "main"

    def export(self, run_dir: str | os.PathLike[str]) -> None:
        """Write every chain (``gridledger-ledger/1``), then the manifest and its records."""
        write_ledger(run_dir, list(self.chains.values()))
        self.write_records(Path(run_dir))
        text = json.dumps(self.manifest(), sort_keys=True, indent=2) + "\n"
        path = Path(run_dir) / LAYOUT_FILE
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def write_records(self, run_dir: Path) -> None:
        """Layout-specific record files (cross-shard exchanges); none by default."""
