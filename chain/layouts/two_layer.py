"""``two_layer``: alliance chains per station area under a main (beacon) chain (seed 002 §3).

Each station area runs an *alliance chain* (its own consensus instance among its
station-area nodes) that records its users' payments; payments between areas
cross alliance chains exactly as between shards (:mod:`chain.layouts.sharded`,
``cross: full`` or ``partial``). Users are *light nodes*: they keep only the
transactions they are party to. The master station's full nodes run the
*beacon chain*: every alliance block header travels to them over the network
and the block's proposer signs a zero-amount ``checkpoint`` transaction on the
beacon whose payload is the header (chain id, height, block hash, previous
hash, Merkle root, timestamp). The verifier requires one checkpoint per
alliance block, matching it and signed by its proposer.

Where the paper is vague we read it as follows: the beacon's full nodes keep
all data of the system (beacon chain plus every alliance chain, "the main chain
maintains all the data"); with hybrid consensus each master-station node forms
its own group, so the beacon's bookkeepers agree by PBFT among all of them.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from chain.block import Block
from chain.layouts.sharded import ShardedLayout
from chain.transaction import Transaction, sign_transaction

CHECKPOINT_KIND = "checkpoint"
#: Size of a block header message sent to the beacon (canonical header + signature).
HEADER_MESSAGE_BYTES = 420


class TwoLayerLayout(ShardedLayout):
    """Alliance chains, light user nodes and a checkpointing beacon chain."""

    name: ClassVar[str] = "two_layer"
    shard_word: ClassVar[str] = "area"

    def __init__(self, config: Any, consensus: Any, **kwargs: Any) -> None:
        super().__init__(config, consensus, **kwargs)
        n = consensus.n_validators
        self.beacon_id = f"{self.base_chain_id}-beacon"
        self._add_chain(
            self.beacon_id,
            {},
            [f"validator/{self.beacon_id}/{k}" for k in range(n)],
            [-1] * n,
            hybrid_areas=list(range(n)),
            kind="beacon",
        )
        self._identity_of = {seat.identity.public_hex: seat.identity for seat in self.seats}
        self.user_keys = [key for balances in kwargs["area_balances"] for key in balances]
        self.checkpoints = 0

    def _busy(self) -> bool:
        # Alliance blocks still to seal need their checkpoints sent as they commit.
        return super()._busy() or any(
            len(self.chains[chain_id].mempool) for chain_id in self.shard_ids
        )

    def _on_block(self, chain_id: str, block: Block) -> None:
        super()._on_block(chain_id, block)
        if chain_id == self.beacon_id:
            return
        commit_ms = self.chains[chain_id].recorder.commit_times_ms[block.height - 1]
        network = self.consensus.network
        delay = network.latency_ms + HEADER_MESSAGE_BYTES * 8 / (network.bandwidth_mbps * 1e3)
        self._count("checkpoint_header", self.consensus.n_validators, HEADER_MESSAGE_BYTES)
        self._schedule(commit_ms + math.ceil(delay), "checkpoint", block)  # type: ignore[arg-type]

    def _release(self, now: int) -> None:
        checkpoints = sorted(
            (item for item in self._queue if item[2] == "checkpoint" and item[0] <= now),
            key=lambda item: (item[0], item[1]),
        )
        if checkpoints:
            done = {item[1] for item in checkpoints}
            self._queue = [item for item in self._queue if item[1] not in done]
            for ready, _, _, block in checkpoints:
                self._submit_checkpoint(block, ready)  # type: ignore[arg-type]
        super()._release(now)

    def _submit_checkpoint(self, block: Block, ready_ms: int) -> None:
        header = block.header
        proposer = self._identity_of[header.proposer]
        key = (self.beacon_id, proposer.public_hex)
        nonce = self._nonces.get(key, 0)
        self._nonces[key] = nonce + 1
        tx = Transaction(
            chain_id=self.beacon_id,
            sender=proposer.public_hex,
            receiver=proposer.public_hex,
            amount=0,
            nonce=nonce,
            kind=CHECKPOINT_KIND,
            payload={
                "chain_id": header.chain_id,
                "height": header.height,
                "block_hash": block.block_hash,
                "prev_hash": header.prev_hash,
                "merkle_root": header.merkle_root,
                "timestamp_ms": header.timestamp_ms,
            },
            timestamp_ms=int(ready_ms),
        )
        errors = self.chains[self.beacon_id].submit([sign_transaction(proposer, tx)])
        if errors:
            raise RuntimeError(f"beacon refused a checkpoint: {errors[0][1]}")
        self.checkpoints += 1

    def role_of(self, chain_id: str) -> str:
        """``beacon`` or ``alliance``."""
        return "beacon" if chain_id == self.beacon_id else "alliance"

    def storage(self) -> dict[str, float | int]:
        """Alliance full nodes, light user nodes, beacon full nodes and cross-nodes."""
        alliance = [self.chains[cid].recorder.storage_bytes for cid in self.shard_ids]
        own: dict[str, int] = dict.fromkeys(self.user_keys, 0)
        for chain_id in self.shard_ids:
            for block in self.chains[chain_id].blocks:
                for stx in block.transactions:
                    size = stx.size_bytes
                    tx = stx.tx
                    if tx.sender in own:
                        own[tx.sender] += size
                    if tx.receiver in own and tx.receiver != tx.sender:
                        own[tx.receiver] += size
        light = np.array(list(own.values()), dtype=float)
        beacon = self.chains[self.beacon_id].recorder.storage_bytes
        storage: dict[str, float | int] = {
            "storage_bytes_full_node": beacon + sum(alliance),
            "storage_bytes_beacon_node": beacon + sum(alliance),
            "storage_bytes_beacon_chain": beacon,
            "storage_bytes_alliance_node": float(np.mean(alliance)),
            "storage_bytes_light_node_mean": float(light.mean()) if len(light) else 0.0,
            "storage_bytes_light_node_max": int(light.max()) if len(light) else 0,
        }
        if self.config.cross == "partial":
            storage["storage_bytes_cross_node"] = int(sum(alliance))
        return storage

    def layout_metrics(self) -> dict[str, float | int]:
        """Cross-area counters plus the number of checkpoints sent to the beacon."""
        return {**super().layout_metrics(), "checkpoints": self.checkpoints}

    def manifest(self) -> dict[str, Any]:
        """Sharded manifest plus the beacon chain id."""
        manifest = super().manifest()
        manifest["beacon"] = self.beacon_id
        return manifest
