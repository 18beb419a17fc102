"""Export, read-back, replay and independent verification of runs."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from chain import Chain, NotARunDirectory, read_ledger, verify_run, write_ledger
from chain.export import BLOCKS_SCHEMA, TRANSACTIONS_SCHEMA
from chain.replay import load_chains, replay_run
from tests.chain.builders import new_chain, two_chain_run
from tests.chain.ledger_files import LedgerFiles, copy_run


def write_run(run_dir: Path, chains: list[Chain], *, summary: bool = True) -> Path:
    write_ledger(run_dir, chains)
    if summary:
        heads = {chain.chain_id: chain.head_hash for chain in chains}
        (run_dir / "summary.json").write_text(json.dumps({"ledger_head": heads, "other": 1}))
    return run_dir


@pytest.fixture(scope="module")
def chains() -> list[Chain]:
    return two_chain_run()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, chains: list[Chain]) -> Path:
    return write_run(tmp_path_factory.mktemp("run"), chains)


def test_round_trip_verifies(run_dir: Path, chains: list[Chain]) -> None:
    report = verify_run(run_dir)
    assert report.ok, report.problems
    assert report.problems == [] and report.n_problems == 0
    for chain in chains:
        info = report.chains[chain.chain_id]
        assert info["blocks"] == len(chain.blocks)
        assert info["transactions"] == sum(b.n_tx for b in chain.blocks)
        assert info["head_hash"] == chain.head_hash
        assert info["genesis_hash"] == chain.genesis.hash
        assert info["total_supply"] == chain.genesis.total_supply


def test_files_have_the_documented_layout(run_dir: Path, chains: list[Chain]) -> None:
    genesis_doc, blocks, txs = read_ledger(run_dir)
    assert genesis_doc["format"] == "gridledger-ledger/1"
    assert genesis_doc["chains"] == {c.chain_id: c.genesis.to_dict() for c in chains}
    assert pq.read_schema(run_dir / "blocks.parquet").names == BLOCKS_SCHEMA.names
    assert pq.read_schema(run_dir / "transactions.parquet").names == TRANSACTIONS_SCHEMA.names
    assert len(blocks) == sum(len(c.blocks) for c in chains)
    first = chains[0].blocks[0]
    row = blocks.iloc[0]
    assert row["block_hash"] == first.block_hash and row["n_tx"] == first.n_tx
    tx = txs.iloc[0]
    stx = first.transactions[0]
    assert tx["payload"] == '{"energy_wh":100,"ok":true,"site":"Zürich","trade_id":"A-0"}'
    assert (tx["tx_hash"], tx["block_height"], tx["index"]) == (stx.tx_hash, 1, 0)
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temp files left


def test_replay_rebuilds_the_same_state(run_dir: Path, chains: list[Chain]) -> None:
    ledgers = replay_run(run_dir)
    for chain in chains:
        assert ledgers[chain.chain_id].head_hash == chain.head_hash
        assert ledgers[chain.chain_id].balances == chain.ledger.balances
        genesis, blocks = load_chains(run_dir)[chain.chain_id]
        assert blocks == chain.blocks and genesis == chain.genesis


def test_export_is_deterministic(tmp_path: Path) -> None:
    first = write_run(tmp_path / "a", two_chain_run(), summary=False)
    second = write_run(tmp_path / "b", two_chain_run(), summary=False)
    for name in ("genesis.json", "blocks.parquet", "transactions.parquet"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_empty_chain_exports_and_verifies(tmp_path: Path) -> None:
    chain = new_chain()
    write_run(tmp_path, [chain])
    report = verify_run(tmp_path)
    assert report.ok, report.problems
    assert report.chains[chain.chain_id]["head_hash"] == chain.genesis.hash


def test_duplicate_chain_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct"):
        write_ledger(tmp_path, [new_chain(), new_chain()])


def test_summary_head_mismatch_is_detected(run_dir: Path, tmp_path: Path) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    summary = json.loads((copy / "summary.json").read_text())
    summary["ledger_head"]["grid-b"] = "ab" * 32
    (copy / "summary.json").write_text(json.dumps(summary))
    report = verify_run(copy)
    assert not report.ok
    assert report.problems == [
        f"summary.json: ledger_head of chain 'grid-b' is {'ab' * 32!r}, the ledger's head is "
        f"{report.chains['grid-b']['head_hash']!r}"
    ]
    summary["ledger_head"] = {"grid-a": summary["ledger_head"]["grid-a"], "grid-z": "00"}
    (copy / "summary.json").write_text(json.dumps(summary))
    problems = verify_run(copy).problems
    assert any("no entry for chain 'grid-b'" in p for p in problems)
    assert any("unknown chain 'grid-z'" in p for p in problems)


def test_summary_without_ledger_head_is_ignored(run_dir: Path, tmp_path: Path) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    (copy / "summary.json").write_text(json.dumps({"metrics": {}}))
    assert verify_run(copy).ok


def test_dropping_the_last_empty_block_needs_the_summary(run_dir: Path, tmp_path: Path) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    files = LedgerFiles(copy)
    assert files.blocks[-1]["n_tx"] == 0
    files.blocks.pop()
    files.save()
    assert [p for p in verify_run(copy).problems if "summary.json" in p]
    (copy / "summary.json").unlink()
    assert verify_run(copy).ok  # a truncated chain is a valid chain: the head pins it


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda f: f.txs[3].update(amount=f.txs[3]["amount"] + 1),
            "block 2 tx 0: tx_hash does not match",
        ),
        (lambda f: f.blocks[1].update(timestamp_ms=0), "block 2: timestamp_ms 0 < parent's 1000"),
        (lambda f: f.blocks[0].update(n_tx=5), "block 1: n_tx is 5 but 3 transactions listed"),
        (lambda f: f.txs.insert(1, dict(f.txs[0])), "rows must be sorted"),
        (lambda f: f.blocks.pop(2), "block 4: height is not consecutive (expected 3)"),
        (
            lambda f: f.txs.__setitem__(0, {**f.txs[0], "payload": '{"energy_wh": 100}'}),
            "payload is not a canonical",
        ),
        (
            lambda f: f.txs.__setitem__(1, {**f.txs[1], "chain_id": "grid-x"}),
            "chain_id 'grid-x' has no genesis",
        ),
    ],
)
def test_specific_tampering_is_named(run_dir: Path, tmp_path: Path, edit, expected: str) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    files = LedgerFiles(copy)
    edit(files)
    files.save()
    report = verify_run(copy)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_genesis_edit_reports_link_and_overdraft(run_dir: Path, tmp_path: Path) -> None:
    # Zeroing a genesis balance breaks the hash link of block 1 and makes the
    # sender's first payment an overdraft; the verifier reports both.
    copy = copy_run(run_dir, tmp_path / "copy")
    files = LedgerFiles(copy)
    sender = files.txs[0]["sender"]
    files.genesis["chains"]["grid-a"]["balances"][sender] = 0
    files.save()
    problems = verify_run(copy, max_problems=100).problems
    assert any("block 1: prev_hash does not link" in p for p in problems)
    assert any("block 1 tx 0: overdraft" in p for p in problems)


def test_max_problems_caps_the_list(run_dir: Path, tmp_path: Path) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    files = LedgerFiles(copy)
    for row in files.txs:
        row["signature"] = "00" * 64
    files.save()
    report = verify_run(copy, max_problems=3)
    assert len(report.problems) == 3 and report.n_problems >= len(files.txs)


def test_not_a_run_directory(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(NotARunDirectory, match="not a directory"):
        verify_run(tmp_path / "nope")
    with pytest.raises(
        NotARunDirectory, match="genesis.json, blocks.parquet, transactions.parquet"
    ):
        verify_run(tmp_path)
    copy = copy_run(run_dir, tmp_path / "copy")
    (copy / "blocks.parquet").unlink()
    with pytest.raises(NotARunDirectory, match="has no blocks.parquet"):
        verify_run(copy)
    copy = copy_run(run_dir, tmp_path / "copy2")
    (copy / "genesis.json").write_text(json.dumps({"format": "other/2", "chains": {}}))
    with pytest.raises(NotARunDirectory, match="'other/2'"):
        verify_run(copy)
    (copy / "genesis.json").write_text("{not json")
    with pytest.raises(NotARunDirectory, match="not readable JSON"):
        verify_run(copy)


def test_corrupt_parquet_is_invalid_not_a_crash(run_dir: Path, tmp_path: Path) -> None:
    copy = copy_run(run_dir, tmp_path / "copy")
    (copy / "transactions.parquet").write_bytes(b"garbage")
    report = verify_run(copy)
    assert (
        not report.ok and "transactions.parquet: not a readable Parquet file" in report.problems[0]
    )
