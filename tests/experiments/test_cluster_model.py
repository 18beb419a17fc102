"""The cluster projection of experiments/bench/cluster.py: its arithmetic and a tiny run."""

from __future__ import annotations

import pytest

from experiments.bench.cluster import ClusterMeasurement, measure, project, table


def _measurement() -> ClusterMeasurement:
    return ClusterMeasurement(
        households=100, areas=4, steps=2, area_s=[0.1, 0.1, 0.1, 0.1], driver_s=0.2,
        driver_fixed_s=0.1, driver_per_tx_s=0.001, tx_per_step=100.0,
        bytes_per_step=1.25e9, step_s=0.6,
    )  # fmt: skip


def test_projection_arithmetic():
    # 10 Gbit/s moves 1.25e9 bytes in 1 s; rtt 0 for exact numbers.
    one, four = project(_measurement(), workers=[1, 4], rtt_ms=0.0, gbit_s=10.0)
    assert one["strong_step_s"] == pytest.approx(0.2 + 0.4 + 1.0)
    assert four["strong_step_s"] == pytest.approx(0.2 + 0.1 + 1.0)
    assert four["strong_speedup"] == pytest.approx(0.6 / 1.3)
    # Weak scaling: 4x the transactions on the driver and 4x the bytes.
    assert four["weak_households"] == 400
    assert four["weak_step_s"] == pytest.approx(0.1 + 0.001 * 400 + 0.4 + 4.0)


def test_tiny_measurement_and_table():
    m = measure(households=12, areas=2, steps=2)
    assert len(m.area_s) == 2 and all(s > 0 for s in m.area_s)
    assert m.driver_s > 0 and m.bytes_per_step > 0 and m.step_s >= m.driver_s
    text = table(m, project(m, workers=[1, 2]))
    assert "| 2 |" in text and "Measured here: 12 households" in text
