"""Every protocol's export verifies independently; each consensus rule catches its violation."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import (
    Central,
    Hybrid,
    Pbft,
    ProofOfAuthority,
    ProofOfWork,
    verify_run,
    write_ledger,
)
from chain.certificate import vote_bytes
from chain.export import CERTIFICATES_SCHEMA
from chain.merkle import merkle_root
from chain.replay import replay_run
from tests.chain.builders import users, validators
from tests.chain.consensus_helpers import consensus_chain, submit_payments
from tests.chain.ledger_files import LedgerFiles, copy_run

CHAINS = {
    "poa": lambda: ProofOfAuthority(silent_validators=[1]),
    "pow": lambda: ProofOfWork(hash="sha1", difficulty_bits=6, confirmations=2),
    "pbft": lambda: Pbft(faulty_replicas={0: "silent"}),
    "hybrid": lambda: Hybrid(n_validators=6, validator_areas=[-1, 0, 1, 0, 1, 2]),
    "central": lambda: Central(),
}
KEYS = {v.public_hex: v for v in validators(6)} | {u.public_hex: u for u in users(4)}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chains = []
    for name, make in CHAINS.items():
        chain = consensus_chain(make(), chain_id=f"c-{name}")
        submit_payments(chain, 7, spacing_ms=900)
        chain.advance_to(1_800_000)
        assert chain.metrics()["committed_tx"] == 7, name
        chains.append(chain)
    directory = tmp_path_factory.mktemp("consensus")
    write_ledger(directory, chains)
    heads = {chain.chain_id: chain.head_hash for chain in chains}
    (directory / "summary.json").write_text(json.dumps({"ledger_head": heads}))
    return directory


def test_every_protocol_verifies_and_replays(run_dir: Path) -> None:
    report = verify_run(run_dir)
    assert report.ok, report.problems
    info = report.chains
    assert info["c-pow"]["block_hash_function"] == "sha1"
    assert len(info["c-pow"]["head_hash"]) == 40
    assert info["c-pbft"]["certificates"] == info["c-pbft"]["blocks"]
    assert info["c-hybrid"]["certificates"] == info["c-hybrid"]["blocks"]
    assert info["c-poa"]["out_of_turn_blocks"] >= 1
    poa = info["c-poa"]
    assert poa["in_turn_blocks"] + poa["out_of_turn_blocks"] == poa["blocks"]
    ledgers = replay_run(run_dir)
    assert {cid: ledger.head_hash for cid, ledger in ledgers.items()} == {
        cid: chain["head_hash"] for cid, chain in info.items()
    }


def _problems(files: LedgerFiles) -> list[str]:
    files.save()
    report = verify_run(files.run_dir, max_problems=50)
    assert not report.ok
    return report.problems


@pytest.fixture
def files(run_dir: Path, tmp_path: Path) -> LedgerFiles:
    return LedgerFiles(copy_run(run_dir, tmp_path / "copy"))


def _certificates(files: LedgerFiles) -> list[dict[str, Any]]:
    return pq.read_table(files.run_dir / "certificates.parquet").to_pylist()


def _save_certificates(files: LedgerFiles, rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=CERTIFICATES_SCHEMA)
    pq.write_table(table, files.run_dir / "certificates.parquet")


def test_a_missing_certificate_vote_breaks_the_quorum(files: LedgerFiles) -> None:
    rows = _certificates(files)
    victim = next(r for r in rows if r["chain_id"] == "c-pbft")
    rows.remove(victim)
    _save_certificates(files, rows)
    assert any("quorum is 3" in p for p in _problems(files))


def test_a_forged_certificate_vote_fails(files: LedgerFiles) -> None:
    rows = _certificates(files)
    victim = next(r for r in rows if r["chain_id"] == "c-pow")
    victim["signature"] = ("0" if victim["signature"][0] != "0" else "1") + victim["signature"][1:]
    _save_certificates(files, rows)
    problems = _problems(files)
    assert any("does not verify" in p for p in problems)
    assert any("all 4 miners" in p for p in problems)


def test_a_certificate_from_a_stranger_fails(files: LedgerFiles) -> None:
    rows = _certificates(files)
    victim = next(r for r in rows if r["chain_id"] == "c-pbft")
    victim["signer"] = users(1)[0].public_hex
    _save_certificates(files, rows)
    assert any("is not a validator" in p for p in _problems(files))


def test_certificate_rows_without_a_block_fail(files: LedgerFiles) -> None:
    rows = _certificates(files)
    rows.append({**rows[0], "height": 999})
    _save_certificates(files, rows)
    assert any("height 999 name no block" in p for p in _problems(files))


def test_a_missing_certificates_file_fails_certified_chains(files: LedgerFiles) -> None:
    (files.run_dir / "certificates.parquet").unlink()
    problems = _problems(files)
    assert any("c-pbft" in p and "no commit certificate" in p for p in problems)
    assert not any("c-poa" in p for p in problems)


def test_changing_the_declared_hash_function_fails(files: LedgerFiles) -> None:
    files.genesis["chains"]["c-pow"]["params"]["block_hash_function"] = "sha256"
    problems = _problems(files)
    assert any("block_hash does not match the header" in p for p in problems)


# --- re-signed exports: valid signatures, hashes and links, but a broken consensus rule ----


def _resign_last_block(files: LedgerFiles, chain_id: str, **changes: Any) -> None:
    """Edit the last block of ``chain_id`` and re-seal it (and its certificate) honestly."""
    genesis = files.genesis["chains"][chain_id]
    hash_name = genesis["params"].get("block_hash_function", "sha256")
    row = [b for b in files.blocks if b["chain_id"] == chain_id][-1]
    row.update(changes)
    txs = [t for t in files.txs if t["chain_id"] == chain_id and t["block_height"] == row["height"]]
    row["merkle_root"] = merkle_root([t["tx_hash"] for t in txs])
    fields = ("chain_id", "height", "prev_hash", "merkle_root", "timestamp_ms", "proposer",
              "consensus", "nonce", "difficulty_bits")  # fmt: skip
    header = json.dumps({k: row[k] for k in fields}, sort_keys=True, separators=(",", ":"))
    row["block_hash"] = hashlib.new(hash_name, header.encode()).hexdigest()
    row["proposer_signature"] = KEYS[row["proposer"]].sign(header.encode()).hex()
    certs = _certificates(files)
    for cert in certs:
        if cert["chain_id"] == chain_id and cert["height"] == row["height"]:
            cert["block_hash"] = row["block_hash"]
            message = vote_bytes(
                chain_id, row["height"], row["block_hash"], cert["phase"], cert["view"]
            )
            cert["signature"] = KEYS[cert["signer"]].sign(message).hex()
    _save_certificates(files, certs)


def test_resigning_keeps_an_export_valid(files: LedgerFiles) -> None:
    _resign_last_block(files, "c-pbft")
    files.save()
    assert verify_run(files.run_dir).ok


def test_poa_recent_signer_rule(files: LedgerFiles) -> None:
    blocks = [b for b in files.blocks if b["chain_id"] == "c-poa"]
    _resign_last_block(files, "c-poa", proposer=blocks[-2]["proposer"])
    assert any("sealed one of the previous 2 blocks" in p for p in _problems(files))


def test_poa_block_period_rule(files: LedgerFiles) -> None:
    blocks = [b for b in files.blocks if b["chain_id"] == "c-poa"]
    _resign_last_block(files, "c-poa", timestamp_ms=blocks[-2]["timestamp_ms"] + 1999)
    assert any("less than block_period_ms after" in p for p in _problems(files))


def test_pow_difficulty_must_match_the_genesis(files: LedgerFiles) -> None:
    _resign_last_block(files, "c-pow", difficulty_bits=0)
    assert any("must be 6 for pow" in p for p in _problems(files))


def test_central_blocks_come_from_the_operator(files: LedgerFiles) -> None:
    # A key outside the genesis cannot seal for the operator.
    _resign_last_block(files, "c-central", proposer=validators(6)[5].public_hex)
    assert any("is not a validator" in p for p in _problems(files))


def test_hybrid_proposer_must_be_a_bookkeeper(files: LedgerFiles) -> None:
    _resign_last_block(files, "c-hybrid", proposer=validators(6)[0].public_hex)
    assert any("in no station area" in p for p in _problems(files))


def test_transactions_cannot_postdate_their_block(files: LedgerFiles) -> None:
    row = [b for b in files.blocks if b["chain_id"] == "c-central"][-1]
    _resign_last_block(files, "c-central", timestamp_ms=row["timestamp_ms"] - 1999)
    assert any("stamped after the block's timestamp_ms" in p for p in _problems(files))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_edit_of_a_certificate_vote_is_detected(
    run_dir: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    files = LedgerFiles(copy_run(run_dir, tmp_path_factory.mktemp("edit")))
    rows = _certificates(files)
    row = data.draw(st.sampled_from(rows))
    column = data.draw(st.sampled_from(["chain_id", "height", "block_hash", "phase", "view",
                                        "signer", "signature"]))  # fmt: skip
    value = row[column]
    if column in ("height", "view"):
        row[column] = value + data.draw(st.sampled_from([-1, 1, 2]))
    elif column in ("chain_id", "phase"):
        choices = ["c-poa", "c-pbft", "c-pow", "commit", "agree", "prepare", "x"]
        row[column] = data.draw(st.sampled_from([v for v in choices if v != value]))
    else:
        position = data.draw(st.integers(0, len(value) - 1))
        digit = data.draw(st.sampled_from([c for c in "0123456789abcdef" if c != value[position]]))
        row[column] = value[:position] + digit + value[position + 1 :]
    _save_certificates(files, rows)
    assert not verify_run(files.run_dir).ok, (column, row)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ProofOfWork(network={"latency_ms": 80, "latency_distribution": "exponential"}),
        lambda: Pbft(n_validators=7, faulty_replicas={0: "equivocate", 4: "silent"}),
        lambda: ProofOfAuthority(
            silent_validators=[0],
            network={"latency_distribution": "uniform", "latency_spread_ms": 40},
        ),
    ],
)
def test_runs_repeat_bit_for_bit(make: Any) -> None:
    def run() -> tuple[str, dict]:
        chain = consensus_chain(make())
        submit_payments(chain, 9, spacing_ms=1300)
        chain.advance_to(900_000)
        return chain.head_hash, chain.metrics()

    assert run() == run()
