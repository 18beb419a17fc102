"""Two-layer checkpoints and light nodes; multi-chain exports verify and edits are caught."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chain.layouts.two_layer import CHECKPOINT_KIND
from chain.verify import verify_run
from tests.chain.layout_builders import make_town


def _two_layer_town(cross: str = "full"):
    town = make_town("two_layer", cross=cross)
    town.pay((0, 0), (0, 1), 111, at_ms=0)
    town.pay((0, 0), (2, 2), 222, at_ms=0)
    town.pay((1, 1), (1, 2), 333, at_ms=5_000)
    town.drain(start_ms=6_000)
    return town


def test_every_alliance_block_is_checkpointed_on_the_beacon_by_its_proposer():
    town = _two_layer_town()
    layout = town.layout
    beacon = layout.chains["town-beacon"]
    checkpoints = {
        (s.tx.payload["chain_id"], s.tx.payload["height"]): s
        for block in beacon.blocks
        for s in block.transactions
    }
    alliance_blocks = [
        (cid, block) for cid in layout.shard_ids for block in layout.chains[cid].blocks
    ]
    assert len(alliance_blocks) == len(checkpoints) == layout.checkpoints >= 3
    for cid, block in alliance_blocks:
        stx = checkpoints[(cid, block.height)]
        assert stx.tx.kind == CHECKPOINT_KIND and stx.tx.amount == 0
        assert stx.tx.sender == block.header.proposer
        assert stx.tx.payload["block_hash"] == block.block_hash
        assert stx.tx.payload["prev_hash"] == block.header.prev_hash
        assert stx.tx.timestamp_ms > block.header.timestamp_ms


def test_light_nodes_store_only_their_own_transactions():
    town = _two_layer_town()
    layout = town.layout
    size = {
        s.tx_hash: s.size_bytes
        for cid in layout.shard_ids
        for b in layout.chains[cid].blocks
        for s in b.transactions
    }
    own = {key: 0 for key in layout.user_keys}
    for cid in layout.shard_ids:
        for b in layout.chains[cid].blocks:
            for s in b.transactions:
                for key in {s.tx.sender, s.tx.receiver}:
                    if key in own:
                        own[key] += size[s.tx_hash]
    storage = layout.storage()
    assert own[town.key(1, 0)] == 0  # took no part in any payment
    assert storage["storage_bytes_light_node_max"] == max(own.values())
    assert storage["storage_bytes_light_node_mean"] == pytest.approx(sum(own.values()) / len(own))
    assert storage["storage_bytes_light_node_max"] < storage["storage_bytes_alliance_node"]
    assert storage["storage_bytes_beacon_node"] == storage["storage_bytes_beacon_chain"] + sum(
        layout.chains[cid].recorder.storage_bytes for cid in layout.shard_ids
    )


def test_partial_cross_node_keeps_every_shard_normal_node_its_own():
    town = make_town("sharded", cross="partial")
    for a in range(3):
        town.pay((a, 0), (a, 1), 10, at_ms=0)
    town.drain()
    storage = town.layout.storage()
    sizes = [town.layout.chains[cid].recorder.storage_bytes for cid in town.layout.shard_ids]
    assert storage["storage_bytes_cross_node"] == sum(sizes)
    assert storage["storage_bytes_normal_node"] == pytest.approx(sum(sizes) / 3)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    dirs = {}
    for name, town in (
        ("two_layer", _two_layer_town()),
        ("sharded_abort", _aborting_town()),
    ):
        directory = tmp_path_factory.mktemp(name)
        town.layout.export(directory)
        dirs[name] = directory
    return dirs


def _aborting_town():
    town = make_town("sharded", cross="full", cross_reserve_coins=0.0005)  # 500 micro
    town.pay((0, 0), (1, 0), 400, at_ms=0)
    town.pay((0, 1), (1, 1), 400, at_ms=0)  # reserve spent by the first: aborts
    town.drain()
    assert [p.status for p in town.layout.payments] == ["committed", "aborted"]
    return town


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    return dst


def _edit_parquet(path: Path, column: str, row: int, value) -> None:
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.column_names.index(column)
    table = table.set_column(index, column, pa.array(values, type=table.schema.field(column).type))
    pq.write_table(table, path)


@pytest.mark.parametrize("name", ["two_layer", "sharded_abort"])
def test_untouched_layout_exports_verify(exports, name):
    report = verify_run(exports[name])
    assert report.ok, report.problems


def test_two_layer_report_counts_checkpoints(exports):
    report = verify_run(exports["two_layer"])
    assert report.layout["layout"] == "two_layer"
    assert report.layout["checkpoints"] >= 3


def test_dropping_a_checkpoint_is_detected(exports, tmp_path):
    run = _copy(exports["two_layer"], tmp_path / "run")
    table = pq.read_table(run / "transactions.parquet")
    rows = table.to_pylist()
    last = max(i for i, r in enumerate(rows) if r["kind"] == CHECKPOINT_KIND)
    # Drop the beacon's last checkpoint together with its block row (a shorter beacon).
    dropped = rows.pop(last)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), run / "transactions.parquet")
    blocks = pq.read_table(run / "blocks.parquet")
    kept = [
        b
        for b in blocks.to_pylist()
        if not (b["chain_id"] == "town-beacon" and b["height"] == dropped["block_height"])
    ]
    pq.write_table(pa.Table.from_pylist(kept, schema=blocks.schema), run / "blocks.parquet")
    report = verify_run(run)
    assert not report.ok
    assert any("no checkpoint on the beacon chain" in p for p in report.problems)


@pytest.mark.parametrize(
    "edit,fragment",
    [
        (("status", 1, "committed"), "committed payment's credit leg is not in"),
        (("status", 0, "aborted"), "aborted payment's refund leg is not in"),
        (("amount", 0, 401), "does not move 401"),
        (("status", 1, "pending"), "status 'pending' is not committed or aborted"),
        (("target_chain", 0, "town-shard2"), "credit leg is not in 'town-shard2'"),
    ],
)
def test_edited_cross_shard_record_is_detected(exports, tmp_path, edit, fragment):
    run = _copy(exports["sharded_abort"], tmp_path / "run")
    _edit_parquet(run / "cross_shard.parquet", *edit)
    report = verify_run(run)
    assert not report.ok
    assert any(fragment in p for p in report.problems), report.problems


def test_a_missing_cross_record_leaves_escrow_transfers_unexplained(exports, tmp_path):
    run = _copy(exports["sharded_abort"], tmp_path / "run")
    table = pq.read_table(run / "cross_shard.parquet")
    pq.write_table(table.slice(1), run / "cross_shard.parquet")
    report = verify_run(run)
    assert any("escrow transfer is not exactly one leg" in p for p in report.problems)


@pytest.mark.parametrize(
    "change,fragment",
    [
        (lambda m: m["chains"].pop(), "are not the exported chains"),
        (lambda m: m.update(layout="ring"), "unknown layout 'ring'"),
        (lambda m: m["chains"][0].update(escrow="00" * 32), "lock leg does not move 400"),
        (lambda m: m["chains"][0].update(role="beacon"), "has role 'beacon' in a sharded run"),
    ],
)
def test_edited_manifest_is_detected(exports, tmp_path, change, fragment):
    run = _copy(exports["sharded_abort"], tmp_path / "run")
    manifest = json.loads((run / "layout.json").read_text())
    change(manifest)
    (run / "layout.json").write_text(json.dumps(manifest))
    report = verify_run(run)
    assert not report.ok
    assert any(fragment in p for p in report.problems), report.problems


def test_verify_cli_prints_the_layout_checks(exports, capsys):
    from experiments.verify import main

    assert main([str(exports["sharded_abort"])]) == 0
    out = capsys.readouterr().out
    assert "layout sharded: chains 3, cross_committed 1, cross_aborted 1, checkpoints" not in out
    assert "layout sharded: chains 3, cross_committed 1, cross_aborted 1" in out
    assert out.rstrip().endswith("ledger OK")
