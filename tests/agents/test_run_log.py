"""agents.run_log: per-step logs spilled to Parquet parts read back exactly as appended."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.run_log import RunLog, trade_tx_hashes

KINDS = ("p2p_local", "p2p_cross", "grid_import", "grid_export")


def entry(step: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(step)
    return {
        "trade_id": np.arange(n, dtype=np.int64) + 100 * step,
        "kind": rng.integers(0, 4, n).astype(np.int8),
        "price": rng.random(n),
        "plugged": rng.random(n) < 0.5,
        "tx_hash": np.array([f"{step:02d}{i:062x}" for i in range(n)], dtype=object),
    }


def assert_entries_equal(got, want) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert list(a) == list(b)
        for key in b:
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_array_equal(a[key], b[key])


def parts(directory):
    return sorted(p.name for p in directory.glob("*.parquet"))


def test_in_memory_log_keeps_every_entry_by_reference():
    log = RunLog("trades", categories={"kind": KINDS})
    assert not log and len(log) == 0 and log.last is None
    entries = [entry(s, n) for s, n in enumerate((3, 0, 5))]
    for e in entries:
        log.append(e)
    assert log.maybe_flush() is False  # no spill directory: nothing leaves memory
    assert len(log) == 3 and log.lengths == [3, 0, 5]
    assert log[0] is entries[0] and log[-1] is entries[2] and log.last is entries[2]
    assert [e is f for e, f in zip(log, entries, strict=True)] == [True] * 3
    with pytest.raises(IndexError):
        log[3]


def test_spilled_log_writes_parts_every_n_entries_and_reads_them_back(tmp_path):
    log = RunLog("trades", categories={"kind": KINDS}, flush_entries=2)
    log.spill_to(tmp_path)
    entries = [entry(s, n) for s, n in enumerate((3, 0, 5, 1, 4))]
    written = []
    for e in entries:
        log.append(e)
        written.append(log.maybe_flush())
    assert written == [False, True, False, True, False]
    assert parts(tmp_path) == ["trades-000000.parquet", "trades-000001.parquet"]
    assert log.last is entries[4]  # still in memory
    assert_entries_equal(list(log), entries)
    assert_entries_equal([log[i] for i in range(5)], entries)
    log.flush()
    assert len(parts(tmp_path)) == 3
    assert_entries_equal(list(log.entries()), entries)
    assert log[-1] is entries[4]


def test_categories_are_dictionary_columns_in_the_parts(tmp_path):
    import pyarrow.parquet as pq

    log = RunLog("trades", categories={"kind": KINDS}, flush_entries=1)
    log.spill_to(tmp_path)
    log.append({"kind": np.array([3, 0, 3], np.int8), "x": np.arange(3)})
    log.maybe_flush()
    column = pq.read_table(tmp_path / "trades-000000.parquet").column("kind")
    assert str(column.type).startswith("dictionary")
    assert column.to_pylist() == ["grid_export", "p2p_local", "grid_export"]
    np.testing.assert_array_equal(log[0]["kind"], [3, 0, 3])


def test_byte_budget_triggers_a_part_before_the_entry_count(tmp_path):
    log = RunLog("agents", flush_entries=100, flush_bytes=1000)
    log.spill_to(tmp_path)
    log.append({"a": np.zeros(100)})  # 800 bytes
    assert not log.maybe_flush()
    log.append({"a": np.zeros(100)})  # 1600 bytes > 1000
    assert log.maybe_flush()
    assert parts(tmp_path) == ["agents-000000.parquet"]


def test_keep_last_holds_entries_whose_columns_may_still_change(tmp_path):
    log = RunLog("trades", flush_entries=1)
    log.spill_to(tmp_path)
    entries = [entry(s, 2) for s in range(3)]
    for e in entries:
        log.append(e)
        log.maybe_flush(keep_last=3)
    assert parts(tmp_path) == []
    entries[0]["tx_hash"] = np.array(["late", "hash"], dtype=object)  # window closed
    assert log.maybe_flush(keep_last=0)
    assert list(log[0]["tx_hash"]) == ["late", "hash"]


def test_schema_is_fixed_by_the_first_part(tmp_path):
    log = RunLog("trades", flush_entries=1)
    log.spill_to(tmp_path)
    log.append({"tx_hash": np.array([], dtype=object), "x": np.zeros(0, np.int64)})
    log.maybe_flush()  # an empty step still stores its strings as strings
    log.append({"tx_hash": np.array(["ab"], dtype=object), "x": np.ones(1, np.int64)})
    log.maybe_flush()
    assert [list(e["tx_hash"]) for e in log] == [[], ["ab"]]
    with pytest.raises(ValueError, match="columns"):
        log.append({"other": np.zeros(1)})


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"flush_entries": 0}, "flush_entries"), ({"flush_bytes": -1}, "flush_bytes")],
)
def test_bad_flush_settings_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be an integer >= 1"):
        RunLog("trades", **kwargs)


def test_restored_log_ignores_and_replaces_parts_written_after_its_pickle(tmp_path):
    def run(log, steps):
        for s in steps:
            log.append(entry(s, s + 1))
            log.maybe_flush()

    straight = RunLog("trades", flush_entries=2)
    straight.spill_to(tmp_path / "straight")
    run(straight, range(7))

    log = RunLog("trades", flush_entries=2)
    log.spill_to(tmp_path / "crashed")
    run(log, range(3))
    saved = pickle.dumps(log)  # the checkpoint: one part on disk, one entry buffered
    run(log, range(3, 6))  # the interrupted run goes on and writes two more parts
    assert len(parts(tmp_path / "crashed")) == 3
    (tmp_path / "crashed" / "trades-000002.parquet").write_bytes(b"not parquet")
    (tmp_path / "crashed" / ".trades-000003.parquet.tmp1").write_bytes(b"torn write")
    resumed = pickle.loads(saved)
    resumed.spill_to(tmp_path / "crashed")
    assert parts(tmp_path / "crashed") == ["trades-000000.parquet"]
    assert not list((tmp_path / "crashed").glob(".trades-*"))
    run(resumed, range(3, 7))
    assert_entries_equal(list(resumed), list(straight))
    assert parts(tmp_path / "crashed") == parts(tmp_path / "straight")


def test_spill_to_another_directory_moves_the_parts(tmp_path):
    log = RunLog("agents", flush_entries=1)
    log.spill_to(tmp_path / "a")
    log.append({"x": np.arange(3)})
    log.maybe_flush()
    log.spill_to(tmp_path / "b")
    assert parts(tmp_path / "a") == [] and parts(tmp_path / "b") == ["agents-000000.parquet"]
    np.testing.assert_array_equal(log[0]["x"], [0, 1, 2])


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 6), max_size=12),
    flush_entries=st.integers(1, 4),
    flush_bytes=st.integers(1, 4000),
    keep=st.integers(0, 2),
)
def test_any_flush_pattern_reads_back_the_appended_entries(
    tmp_path_factory, sizes, flush_entries, flush_bytes, keep
):
    log = RunLog("trades", {"kind": KINDS}, flush_entries=flush_entries, flush_bytes=flush_bytes)
    log.spill_to(tmp_path_factory.mktemp("spill"))
    entries = [entry(s, n) for s, n in enumerate(sizes)]
    for e in entries:
        log.append(e)
        log.maybe_flush(keep_last=keep)
    assert_entries_equal(list(log), entries)
    if entries:
        assert_entries_equal([log[0], log[-1]], [entries[0], entries[-1]])


def signed_tx(payload: dict, tx_hash: str):
    return SimpleNamespace(tx=SimpleNamespace(payload=payload), tx_hash=tx_hash)


def test_trade_tx_hashes_follow_the_payments_in_chain_order():
    trade_id = np.arange(10, 14, dtype=np.int64)
    payments = [signed_tx({"trade_id": t}, f"h{t}") for t in range(10, 14)]
    transfers = [signed_tx({"transfer_id": 0}, "t0"), signed_tx({"agent": 3}, "n0")]
    column = trade_tx_hashes(payments + transfers, trade_id)
    assert column.dtype == object and list(column) == ["h10", "h11", "h12", "h13"]
    # A dropped payment (its signature failed) leaves "" for its trade.
    dropped = [p for p in payments if p.tx.payload["trade_id"] != 11]
    assert list(trade_tx_hashes(dropped + transfers, trade_id)) == ["h10", "", "h12", "h13"]
    # Net settlement: no payment names a trade.
    assert list(trade_tx_hashes(transfers, trade_id)) == ["", "", "", ""]
    assert list(trade_tx_hashes([], np.zeros(0, np.int64))) == []
