"""The seed 002 §6 sharding reproduction: its measurements and its command."""

from __future__ import annotations

import pytest

from experiments.repro import sharding


def test_partial_sharding_relays_faster_and_stays_flat():
    full2 = sharding.relay_time_ms(2, 2, "full", relays=2, seed=0)
    full3 = sharding.relay_time_ms(3, 2, "full", relays=2, seed=0)
    partial2 = sharding.relay_time_ms(2, 2, "partial", relays=2, seed=0)
    partial3 = sharding.relay_time_ms(3, 2, "partial", relays=2, seed=0)
    # Each full hop: lock in one 2 s slot, two-phase messages, credit in the next slot.
    assert full3 - full2 == pytest.approx(4_000, abs=200)
    assert partial2 < 2_100 and partial3 < 2_100
    assert partial2 / full2 < 0.6


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_normal_node_keeps_one_shard_of_what_a_cross_node_keeps(shards):
    normal, cross_node = sharding.storage_bytes(shards, 12, seed=1)
    assert normal * shards == pytest.approx(cross_node)


def test_command_writes_tables_and_plots(tmp_path, capsys):
    assert sharding.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "time cost of a payment relayed across s shards" in out
    assert (tmp_path / "time_cost.png").is_file() and (tmp_path / "storage.png").is_file()
    assert "partial / full time cost, %, s = 2, n = 2" in (tmp_path / "replication.md").read_text()
