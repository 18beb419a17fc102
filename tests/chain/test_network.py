"""The simulated network: per-link latencies drawn once, bandwidth, validation."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import numpy as np
import pytest

from chain import NetworkModel
from chain.consensus.base import as_network


def test_constant_links_and_transfer_time() -> None:
    links = NetworkModel(latency_ms=20.0, bandwidth_mbps=8.0).links(3, b"seed")
    assert links.latency_ms.tolist() == [[0, 20, 20], [20, 0, 20], [20, 20, 0]]
    # 8 Mbit/s = 1000 bytes per ms.
    assert links.delay_ms(0, 2, 5000) == pytest.approx(25.0)
    assert links.delay_ms(1, 1, 5000) == 0.0
    assert links.arrivals(1, 100.0, 1000).tolist() == [121.0, 100.0, 121.0]


@pytest.mark.parametrize("distribution", ["uniform", "exponential"])
def test_random_links_are_symmetric_seeded_and_in_range(distribution: str) -> None:
    model = NetworkModel(latency_ms=50.0, latency_distribution=distribution, latency_spread_ms=30.0)
    links = model.links(6, b"genesis-a")
    matrix = links.latency_ms
    assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 0)
    off = matrix[~np.eye(6, dtype=bool)]
    assert np.all(off >= 0) and len(set(off.tolist())) == 15  # one draw per link
    if distribution == "uniform":
        assert np.all((off >= 20) & (off <= 80))
    assert np.array_equal(model.links(6, b"genesis-a").latency_ms, matrix)
    assert not np.array_equal(model.links(6, b"genesis-b").latency_ms, matrix)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latency_ms": -1}, r"^network.latency_ms must be a number >= 0"),
        ({"latency_ms": float("nan")}, r"^network.latency_ms"),
        ({"bandwidth_mbps": 0}, r"^network.bandwidth_mbps must be a number > 0"),
        ({"latency_distribution": "normal"}, r"^network.latency_distribution must be one of"),
        (
            {"latency_distribution": "uniform", "latency_ms": 5, "latency_spread_ms": 6},
            r"^network.latency_spread_ms must be <= latency_ms",
        ),
    ],
)
def test_invalid_network(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NetworkModel(**kwargs)


def test_mappings_from_the_config_become_models() -> None:
    model = as_network({"_target_": "x", "latency_ms": 5, "bandwidth_mbps": 1})
    assert model == NetworkModel(latency_ms=5, bandwidth_mbps=1)
    with pytest.raises(ValueError, match="^network has an unknown field"):
        as_network({"latency": 5})
    assert NetworkModel().params()["net_latency_us"] == 50_000
