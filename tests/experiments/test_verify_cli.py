"""The ``gridledger-verify`` command line: exit codes 0 (valid), 1 (invalid), 2 (not a run)."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chain import (
    Chain,
    Identity,
    ProofOfAuthority,
    Transaction,
    make_genesis,
    sign_transaction,
    write_ledger,
)
from experiments.verify import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    poa = ProofOfAuthority(block_period_s=1.0, n_validators=2)
    validators = [Identity.derive(5, f"validator/{i}") for i in range(2)]
    alice, bob = Identity.derive(5, "alice"), Identity.derive(5, "bob")
    genesis = make_genesis("grid-cli", poa, {alice.public_hex: 1_000_000}, validators)
    chain = Chain(genesis, poa, validators)
    for nonce in range(3):
        tx = Transaction("grid-cli", alice.public_hex, bob.public_hex, 1000, nonce, "transfer",
                         {"trade_id": f"T-{nonce}", "energy_wh": 500}, 700 * nonce)  # fmt: skip
        assert chain.submit([sign_transaction(alice, tx)]) == []
    chain.advance_to(5000)
    run_dir = tmp_path_factory.mktemp("cli-run")
    write_ledger(run_dir, [chain])
    (run_dir / "summary.json").write_text(
        json.dumps({"ledger_head": {"grid-cli": chain.head_hash}})
    )
    return run_dir


def test_valid_run_exits_0(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "chain grid-cli: 2 blocks, 3 txs, head " in out
    assert out.rstrip().endswith("ledger OK")


def test_quiet_prints_only_the_verdict(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(run_dir), "--quiet"]) == 0
    assert capsys.readouterr().out == "ledger OK\n"


def test_edited_copy_exits_1(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = Path(shutil.copytree(run_dir, tmp_path / "edited"))
    rows = pq.read_table(copy / "transactions.parquet").to_pylist()
    rows[1]["amount"] = 999
    schema = pq.read_schema(copy / "transactions.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), copy / "transactions.parquet")
    assert main([str(copy), "--max-problems", "1"]) == 1
    out = capsys.readouterr().out
    assert "ledger INVALID" in out
    assert "block 1 tx 1: tx_hash does not match" in out
    assert "... and 1 more" in out  # the signature no longer verifies either


@pytest.mark.parametrize("make", ["missing", "empty", "wrong_format"])
def test_not_a_run_dir_exits_2_with_one_line(
    tmp_path: Path, run_dir: Path, make: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    if make == "empty":
        target.mkdir()
    elif make == "wrong_format":
        shutil.copytree(run_dir, target)
        (target / "genesis.json").write_text('{"format": "something-else"}')
    assert main([str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridledger-verify: error: ")
    expected = {"missing": "is not a directory", "empty": "genesis.json", "wrong_format": "format"}
    assert expected[make] in lines[0]


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--max-problems", "0"])
    assert exc.value.code == 2
