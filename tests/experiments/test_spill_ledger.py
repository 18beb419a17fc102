"""Sealed blocks spilled to disk in real runs: same export, resumable, cleaned up."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from chain.verify import verify_run
from experiments import checkpoint
from experiments.build import build
from experiments.run import run_simulation
from tests.conftest import make_config

BASE = ("time.steps=8", "population.size=24", "output.progress=false")
LEDGER_TABLES = ("blocks", "transactions", "certificates")


def _same_export(a, b) -> None:
    for name in LEDGER_TABLES:
        left, right = pq.read_table(a / f"{name}.parquet"), pq.read_table(b / f"{name}.parquet")
        assert left.equals(right), name
    assert (a / "genesis.json").read_bytes() == (b / "genesis.json").read_bytes()


@pytest.mark.parametrize(
    "overrides", [(), ("chain=pbft", "chain.max_block_tx=5")], ids=["poa", "pbft"]
)
def test_spilled_run_exports_what_an_in_memory_run_does(tmp_path, overrides):
    cfg = make_config(*BASE, *overrides)
    memory = build(cfg)
    memory.run()
    memory.ledger_layout.export(tmp_path / "memory")
    summary = run_simulation(cfg, tmp_path / "run")
    assert summary["ledger_head"] == {memory.chain.chain_id: memory.chain.head_hash}
    assert summary["counts"]["transactions"] == memory.chain.ledger.committed_tx > 0
    _same_export(tmp_path / "memory", tmp_path / "run")
    assert verify_run(tmp_path / "run").ok
    assert not (tmp_path / "run" / ".spill").exists()  # removed once the results are written


def test_resume_after_a_crash_cuts_the_spill_back(tmp_path):
    cfg = make_config(*BASE, "chain=pbft", "chain.max_block_tx=5")
    straight = build(cfg)
    straight.run()
    straight.ledger_layout.export(tmp_path / "straight")
    run_dir = tmp_path / "run"
    crashed = build(cfg)
    crashed.spill_to(run_dir / ".spill")
    for _ in range(3):
        crashed.step()
    cfg_hash = checkpoint.config_hash(cfg)
    checkpoint.write_checkpoint(crashed, run_dir, cfg_hash)
    saved_blocks = crashed.chain.ledger.blocks.n_spilled
    for _ in range(3):  # the run goes on, spills more, then dies
        crashed.step()
    blocks_file = crashed.chain.ledger.blocks.path
    assert crashed.chain.ledger.blocks.n_spilled > saved_blocks > 0
    list(crashed.chain.blocks)  # flush, as the operating system would on a kill
    longer = blocks_file.stat().st_size
    resumed = checkpoint.resume(build(cfg), run_dir, cfg_hash)
    resumed.spill_to(run_dir / ".spill")  # what run_simulation does after resuming
    assert resumed.chain.ledger.blocks.n_spilled == saved_blocks
    assert blocks_file.stat().st_size == resumed.chain.ledger.blocks.spilled_bytes < longer
    resumed.run()
    assert resumed.chain.head_hash == straight.chain.head_hash
    resumed.ledger_layout.export(tmp_path / "resumed")
    _same_export(tmp_path / "straight", tmp_path / "resumed")
