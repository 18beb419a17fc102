"""Simulated network between validators: per-link latency and bandwidth.

A message of ``b`` bytes from validator ``i`` to validator ``j`` arrives
``latency_ms[i, j] + 8 b / bandwidth`` milliseconds after it is sent. Link
latencies are drawn once per (unordered) link from the configured
distribution with a generator seeded from the chain (its genesis hash), so a
run is reproducible and both directions of a link are equally fast. Every
link has the same bandwidth; a broadcast sends one copy per link in parallel
(queueing at the sender's uplink is not modelled).

These delays move only simulated time: block commit times, PBFT phases and
proof-of-work agreement rounds (see ``docs/consensus.md``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

LATENCY_DISTRIBUTIONS = ("constant", "uniform", "exponential")


def _finite_at_least(name: str, value: object, minimum: float, *, strict: bool = False) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not ok:
        relation = ">" if strict else ">="
        raise ValueError(f"network.{name} must be a number {relation} {minimum} (got {value!r})")
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NetworkModel:
    """How validators are connected (a configuration; :meth:`links` draws the links).

    Attributes:
        latency_ms: Mean one-way link latency in milliseconds (>= 0). Default
            50 ms: a wide-area link between substations (our assumption; no
            paper gives one).
        latency_distribution: ``constant`` (every link ``latency_ms``),
            ``uniform`` (``latency_ms`` +- ``latency_spread_ms``) or
            ``exponential`` (mean ``latency_ms``), drawn once per link.
        latency_spread_ms: Half-width of the uniform distribution, at most
            ``latency_ms``; ignored otherwise.
        bandwidth_mbps: Link bandwidth in megabits per second (> 0). Default
            100 Mbit/s (assumption).
    """

    latency_ms: float = 50.0
    latency_distribution: str = "constant"
    latency_spread_ms: float = 0.0
    bandwidth_mbps: float = 100.0

    DISTRIBUTIONS: ClassVar[tuple[str, ...]] = LATENCY_DISTRIBUTIONS

    def __post_init__(self) -> None:
        latency = _finite_at_least("latency_ms", self.latency_ms, 0.0)
        if self.latency_distribution not in LATENCY_DISTRIBUTIONS:
            raise ValueError(
                f"network.latency_distribution must be one of {', '.join(LATENCY_DISTRIBUTIONS)} "
                f"(got {self.latency_distribution!r})"
            )
        spread = _finite_at_least("latency_spread_ms", self.latency_spread_ms, 0.0)
        if self.latency_distribution == "uniform" and spread > latency:
            raise ValueError(
                f"network.latency_spread_ms must be <= latency_ms ({latency}) so no link is "
                f"faster than 0 ms (got {spread})"
            )
        _finite_at_least("bandwidth_mbps", self.bandwidth_mbps, 0.0, strict=True)

    def params(self) -> dict[str, int | str]:
        """Integer/string description for the genesis params (microseconds, kbit/s)."""
        return {
            "net_latency_us": round(self.latency_ms * 1000),
            "net_latency_distribution": self.latency_distribution,
            "net_latency_spread_us": round(self.latency_spread_ms * 1000),
            "net_bandwidth_kbps": round(self.bandwidth_mbps * 1000),
        }

    def links(self, n_nodes: int, seed: bytes) -> Links:
        """Draw the link latencies between ``n_nodes`` nodes.

        Args:
            n_nodes: Number of nodes (validators).
            seed: Bytes that seed the draw (the chain passes its genesis hash).
        """
        digest = hashlib.sha256(b"gridledger/network/v1|" + seed).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
        n_links = n_nodes * (n_nodes - 1) // 2
        if self.latency_distribution == "constant":
            draws = np.full(n_links, float(self.latency_ms))
        elif self.latency_distribution == "uniform":
            low = self.latency_ms - self.latency_spread_ms
            draws = rng.uniform(low, self.latency_ms + self.latency_spread_ms, n_links)
        else:
            draws = (
                rng.exponential(self.latency_ms, n_links) if self.latency_ms else np.zeros(n_links)
            )
        latency = np.zeros((n_nodes, n_nodes))
        upper = np.triu_indices(n_nodes, k=1)
        latency[upper] = draws
        latency = latency + latency.T
        return Links(latency, 8.0 / (self.bandwidth_mbps * 1000.0))


class Links:
    """Drawn link latencies (ms) and the per-byte transfer time.

    Attributes:
        latency_ms: ``(n, n)`` symmetric matrix, zero on the diagonal.
        ms_per_byte: Transfer time of one byte on any link.
    """

    def __init__(self, latency_ms: np.ndarray, ms_per_byte: float) -> None:
        """Wrap a latency matrix (use :meth:`NetworkModel.links`)."""
        self.latency_ms = np.asarray(latency_ms, dtype=float)
        self.ms_per_byte = float(ms_per_byte)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.latency_ms.shape[0])

    def delay_ms(self, src: int, dst: int, size_bytes: int) -> float:
        """Delay of one message of ``size_bytes`` from ``src`` to ``dst`` (0 to itself)."""
        if src == dst:
            return 0.0
        return float(self.latency_ms[src, dst] + size_bytes * self.ms_per_byte)

    def arrivals(self, src: int, sent_ms: float, size_bytes: int) -> np.ndarray:
        """Arrival time at every node of a broadcast from ``src`` (``sent_ms`` at ``src``)."""
        times = sent_ms + self.latency_ms[src] + size_bytes * self.ms_per_byte
        times[src] = sent_ms
        return times
