"""Sealed blocks and certificates on disk: the spill stores behave as the list they replace."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pickle
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import Chain, Pbft, ProofOfAuthority
from chain.block_store import BlockStore, CertificateStore, SpillFileError, SpillSequence
from chain.export import write_ledger
from chain.verify import verify_run
from tests.chain.builders import new_chain, pay, users
from tests.chain.consensus_helpers import consensus_chain, submit_payments

PEOPLE = users(4)


def _spilled(records: list, keep: int, path: Path) -> SpillSequence:
    store: SpillSequence = SpillSequence(keep)
    for record in records[: len(records) // 2]:
        store.append(record)
    store.spill_to(path)
    for record in records[len(records) // 2 :]:
        store.append(record)
    return store


def test_without_spilling_it_is_a_list() -> None:
    store: SpillSequence = SpillSequence(keep=2)
    assert not store and len(store) == 0 and store == [] and store.path is None
    for k in range(10):
        store.append(("record", k))
    assert store.n_spilled == 0 and len(store) == 10
    assert store[-1] == ("record", 9) and store[3:5] == [("record", 3), ("record", 4)]


def test_spilled_records_are_read_back_in_order(tmp_path: Path) -> None:
    records = [{"k": k, "text": "x" * k} for k in range(40)]
    store = _spilled(records, 3, tmp_path / "s" / "records.bin")
    assert store.n_spilled == 37 and len(store) == 40 and store
    assert list(store) == records and store == records and store != records[:-1]
    assert store[0] == records[0] and store[-1] == records[-1] and store[-40] == records[0]
    assert store[5] == records[5] and store[-3:] == records[-3:] and store[::7] == records[::7]
    assert store.spilled_bytes == (tmp_path / "s" / "records.bin").stat().st_size
    with pytest.raises(IndexError):
        store[40]
    with pytest.raises(IndexError):
        store[-41]
    store[-1] = "forged"  # a record still in memory may be replaced (tests forge blocks)
    assert store[39] == "forged"
    with pytest.raises(TypeError, match="spilled to .* cannot be replaced"):
        store[0] = "forged"


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 30),
    keep=st.integers(1, 6),
    spill_at=st.integers(0, 30),
    probes=st.lists(st.integers(-30, 29), max_size=8),
)
def test_property_reads_match_a_list(
    tmp_path_factory: pytest.TempPathFactory, n: int, keep: int, spill_at: int, probes: list[int]
) -> None:
    path = tmp_path_factory.mktemp("spill") / "r.bin"
    store: SpillSequence = SpillSequence(keep)
    reference = []
    for k in range(n):
        if k == spill_at:
            store.spill_to(path)
        store.append(k * k)
        reference.append(k * k)
    assert list(store) == reference and len(store) == n and bool(store) == bool(reference)
    assert store.n_spilled == (max(0, n - keep) if spill_at < n else 0)
    for index in probes:
        if -n <= index < n:
            assert store[index] == reference[index]
    assert store[-keep:] == reference[-keep:]


def test_checkpoint_then_crash_then_resume_truncates(tmp_path: Path) -> None:
    path = tmp_path / "r.bin"
    store = _spilled(list(range(10)), 2, path)
    saved = pickle.dumps(store)
    size = path.stat().st_size
    for k in range(10, 25):  # the interrupted run goes on appending
        store.append(k)
    assert list(store) == list(range(25))  # (reading flushes the writer)
    assert path.stat().st_size > size
    resumed = pickle.loads(saved)
    assert len(resumed) == 10 and list(resumed) == list(range(10))
    assert path.stat().st_size == size  # cut back to the checkpoint's records
    resumed.spill_to(path)  # the run re-attaches the same file: nothing changes
    for k in range(10, 25):
        resumed.append(k)
    assert list(resumed) == list(range(25))
    assert resumed.spilled_bytes == path.stat().st_size


def test_resume_in_a_moved_directory_and_lost_files(tmp_path: Path) -> None:
    store = _spilled(list(range(12)), 2, tmp_path / "a" / "r.bin")
    saved = pickle.dumps(store)
    moved = pickle.loads(saved)
    moved.spill_to(tmp_path / "b" / "r.bin")  # copies the spilled prefix over
    moved.append(12)
    assert list(moved) == list(range(13))
    lost = pickle.loads(saved)
    (tmp_path / "a" / "r.bin").unlink()
    with pytest.raises(SpillFileError, match="missing or shorter"):
        list(lost)
    with pytest.raises(SpillFileError, match="missing or shorter"):
        pickle.loads(saved).spill_to(tmp_path / "c" / "r.bin")


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError, match="^keep must be an integer >= 1"):
        SpillSequence(0)
    with pytest.raises(ValueError, match="^keep must be"):
        BlockStore(True)


def test_certificate_store_is_a_height_mapping(tmp_path: Path) -> None:
    chain = consensus_chain(Pbft(n_validators=4, block_period_s=1.0))
    submit_payments(chain, 12, spacing_ms=700)
    chain.advance_to(30_000)
    certificates = dict(chain.ledger.certificates)
    store = CertificateStore(keep=2)
    heights = sorted(certificates)
    store[heights[0]] = certificates[heights[0]]
    store.spill_to(tmp_path / "c.bin")
    for height in heights[1:]:
        store[height] = certificates[height]
    assert len(store) == len(heights) and list(store) == heights and store == certificates
    assert store[heights[0]] == certificates[heights[0]] and heights[-1] in store
    assert list(store.values()) == [certificates[h] for h in heights]
    assert store.get(10_000) is None
    with pytest.raises(KeyError):
        store[heights[-1] + 1]
    with pytest.raises(ValueError, match="^height must exceed"):
        store[heights[-1]] = certificates[heights[-1]]


def _run(chain: Chain, spill: Path | None) -> Chain:
    if spill is not None:
        chain.ledger.spill_to(spill)
    submit_payments(chain, 30, spacing_ms=300)
    chain.advance_to(40_000)
    return chain


@pytest.mark.parametrize(
    "consensus",
    [ProofOfAuthority(block_period_s=1.0, n_validators=4), Pbft(n_validators=4)],
    ids=["poa", "pbft"],
)
def test_spilled_chain_exports_the_same_tables(tmp_path: Path, consensus) -> None:
    memory = _run(consensus_chain(consensus), None)
    spilled = _run(consensus_chain(consensus), tmp_path / "spill")
    ledger = spilled.ledger
    assert ledger.blocks.keep == 3  # floor(4 / 2) + 1
    assert ledger.blocks.n_spilled == len(ledger.blocks) - ledger.blocks.keep > 0
    assert spilled.head_hash == memory.head_hash and spilled.blocks == memory.blocks
    assert ledger.committed_tx == 30 == sum(block.n_tx for block in memory.blocks)
    first, first_memory = spilled.blocks[0].transactions, memory.blocks[0].transactions
    for stx, original in zip(first, first_memory, strict=True):
        assert stx.tx.canonical() == original.tx.canonical() and stx.tx.tx_hash == stx.tx_hash
        assert stx.tx.payload == original.tx.payload and stx.verify_signature()
    write_ledger(tmp_path / "memory", [memory])
    write_ledger(tmp_path / "spilled", [spilled], row_group_rows=7)
    for name in ("blocks", "transactions", "certificates"):
        a = pq.read_table(tmp_path / "memory" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "spilled" / f"{name}.parquet")
        assert a.equals(b), name
    groups = pq.ParquetFile(tmp_path / "spilled" / "transactions.parquet").metadata
    most = max(block.n_tx for block in memory.blocks)
    assert groups.num_row_groups >= 3
    full = range(groups.num_row_groups - 1)
    assert all(7 <= groups.row_group(k).num_rows < 7 + most for k in full)
    assert verify_run(tmp_path / "spilled").ok


def test_row_group_rows_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="^row_group_rows must be an integer >= 1"):
        write_ledger(tmp_path, [new_chain()], row_group_rows=0)
    assert list(tmp_path.iterdir()) == []


def test_spilled_poa_chain_keeps_sealing_with_many_validators(tmp_path: Path) -> None:
    # 40 validators: the recent-signer rule reads 20 blocks, more than the default keep.
    chain = new_chain(ProofOfAuthority(block_period_s=1.0, n_validators=40))
    assert chain.ledger.blocks.keep == 21
    chain.ledger.spill_to(tmp_path)
    alice, bob = users(2)
    for n in range(60):
        assert chain.submit([pay(alice, bob, 1, n, timestamp_ms=1000 * n)]) == []
    chain.advance_to(70_000)
    assert chain.ledger.height == 60 and chain.ledger.blocks.n_spilled == 39
