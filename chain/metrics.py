"""Simulated-time performance counters of one chain.

The recorder collects what the chain and its consensus engine report: every
committed block with its commit time, every consensus message with its size,
signatures made and checked, and mempool samples. :meth:`ChainRecorder.summary`
turns them into the figures of ``Chain.metrics()``: throughput, latency from
submission to commit and to finality, block sizes, messages and bytes, storage.
"""

from __future__ import annotations

from array import array

import numpy as np


class ChainRecorder:
    """Counters of one chain run.

    Attributes:
        confirmations: Blocks (the block itself included) after which a block
            counts as final: 1 for the BFT-style and authority protocols, ``k``
            for proof of work.
        messages: Message count per kind (``block``, ``prepare``, ...).
        message_bytes: Bytes per kind.
        signatures_signed: Consensus signatures made (blocks and votes).
        signatures_verified: Consensus signatures checked by receivers.
    """

    def __init__(self, confirmations: int = 1) -> None:
        """Start empty."""
        self.confirmations = confirmations
        self.messages: dict[str, int] = {}
        self.message_bytes: dict[str, int] = {}
        self.signatures_signed = 0
        self.signatures_verified = 0
        self._commit_ms: list[float] = []
        self._block_tx: list[int] = []
        self._block_bytes: list[int] = []
        self._tx_timestamp_ms = array("q")
        self._tx_block = array("q")
        self._certificate_bytes = 0
        self._mempool_samples: list[int] = []

    def message(self, kind: str, count: int, size_bytes: int) -> None:
        """Count ``count`` messages of ``size_bytes`` each."""
        if count <= 0:
            return
        self.messages[kind] = self.messages.get(kind, 0) + count
        self.message_bytes[kind] = self.message_bytes.get(kind, 0) + count * size_bytes

    def block(
        self, tx_timestamps_ms: list[int], size_bytes: int, commit_ms: float, cert_bytes: int
    ) -> None:
        """Record a committed block."""
        index = len(self._commit_ms)
        self._commit_ms.append(float(commit_ms))
        self._block_tx.append(len(tx_timestamps_ms))
        self._block_bytes.append(size_bytes)
        self._tx_timestamp_ms.extend(tx_timestamps_ms)
        self._tx_block.extend([index] * len(tx_timestamps_ms))
        self._certificate_bytes += cert_bytes

    def mempool_sample(self, size: int) -> None:
        """Record the number of pending transactions at some moment."""
        self._mempool_samples.append(size)

    @property
    def commit_times_ms(self) -> list[float]:
        """Commit time of each block, in height order."""
        return self._commit_ms

    def commit_latencies_ms(self) -> np.ndarray:
        """Submission (tx timestamp) to commit delay of every committed transaction."""
        stamps = np.frombuffer(self._tx_timestamp_ms, dtype=np.int64)
        if not len(stamps):
            return np.zeros(0)
        tx_block = np.frombuffer(self._tx_block, dtype=np.int64)
        return np.asarray(self._commit_ms)[tx_block] - stamps

    @property
    def block_sizes(self) -> tuple[list[int], list[int]]:
        """Transactions and bytes of each committed block, in height order."""
        return self._block_tx, self._block_bytes

    @property
    def storage_bytes(self) -> int:
        """Bytes a full node keeps: every block and certificate."""
        return int(sum(self._block_bytes)) + self._certificate_bytes

    def summary(self, now_ms: int, n_validators: int) -> dict[str, float | int]:
        """Figures over the run so far (see ``Chain.metrics``)."""
        n_blocks = len(self._commit_ms)
        commit = np.asarray(self._commit_ms)
        stamps = np.frombuffer(self._tx_timestamp_ms, dtype=np.int64)
        tx_block = np.frombuffer(self._tx_block, dtype=np.int64)
        k = self.confirmations
        # Block i is final once block i + k - 1 committed.
        final_ms = np.full(n_blocks, np.nan)
        if n_blocks >= k:
            final_ms[: n_blocks - k + 1] = commit[k - 1 :]
        commit_latency = commit[tx_block] - stamps if len(stamps) else np.zeros(0)
        final_latency = final_ms[tx_block] - stamps if len(stamps) else np.zeros(0)
        final_latency = final_latency[~np.isnan(final_latency)]
        block_tx = np.asarray(self._block_tx, dtype=float)
        block_bytes = np.asarray(self._block_bytes, dtype=float)
        elapsed_s = now_ms / 1000
        committed = len(stamps)
        storage = int(block_bytes.sum()) + self._certificate_bytes
        samples = self._mempool_samples
        metrics: dict[str, float | int] = {
            "blocks": n_blocks,
            "committed_tx": committed,
            "confirmed_tx": len(final_latency),
            "unconfirmed_tx": committed - len(final_latency),
            "confirmations": k,
            "throughput_tx_per_s": committed / elapsed_s if elapsed_s > 0 else 0.0,
            "confirmed_throughput_tx_per_s": (
                len(final_latency) / elapsed_s if elapsed_s > 0 else 0.0
            ),
            "commit_latency_mean_ms": _mean(commit_latency),
            "commit_latency_p95_ms": _p95(commit_latency),
            "confirmation_latency_mean_ms": _mean(final_latency),
            "confirmation_latency_p95_ms": _p95(final_latency),
            "mean_block_tx": _mean(block_tx),
            "std_block_tx": float(block_tx.std()) if n_blocks else 0.0,
            "mean_block_bytes": _mean(block_bytes),
            "std_block_bytes": float(block_bytes.std()) if n_blocks else 0.0,
            "mempool_max": max(samples) if samples else 0,
            "mempool_mean": float(np.mean(samples)) if samples else 0.0,
            "consensus_messages": sum(self.messages.values()),
            "consensus_bytes": sum(self.message_bytes.values()),
            "signatures_signed": self.signatures_signed,
            "signatures_verified": self.signatures_verified,
            "storage_bytes_per_validator": storage,
            "storage_bytes_all_validators": storage * n_validators,
            "sim_time_ms": now_ms,
        }
        for kind in sorted(self.messages):
            metrics[f"messages_{kind.replace('-', '_')}"] = self.messages[kind]
            metrics[f"bytes_{kind.replace('-', '_')}"] = self.message_bytes[kind]
        return metrics


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def _p95(values: np.ndarray) -> float:
    return float(np.percentile(values, 95)) if len(values) else 0.0
