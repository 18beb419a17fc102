"""Every ``chain=<protocol>`` runs with the default market, and its export verifies."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain import verify_run
from experiments.build import build
from experiments.errors import ConfigError
from experiments.run import run_simulation
from tests.chain.ledger_files import LedgerFiles
from tests.conftest import make_config

SHORT = ("population.size=8", "time.steps=12", "output.progress=false", "output.agents_sample=0")
PROTOCOLS = ["poa", "pow", "pbft", "hybrid", "central"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    results = {}
    for name in PROTOCOLS:
        run_dir = tmp_path_factory.mktemp(name)
        summary = run_simulation(make_config(f"chain={name}", *SHORT), run_dir)
        results[name] = (run_dir, summary)
    return results


@pytest.mark.parametrize("name", PROTOCOLS)
def test_protocol_runs_and_its_export_verifies(runs: dict, name: str) -> None:
    run_dir, summary = runs[name]
    assert summary["consensus"] == name
    assert summary["wallets_match_ledger"] is True
    metrics = summary["chain"]["main"]
    assert metrics["committed_tx"] == summary["counts"]["transactions"] > 0
    assert metrics["mempool_size"] == 0 and metrics["throughput_tx_per_s"] > 0
    report = verify_run(run_dir)
    assert report.ok, report.problems
    if name in ("pbft", "hybrid", "pow"):
        assert report.chains["main"]["certificates"] == report.chains["main"]["blocks"]
    assert (run_dir / "certificates.parquet").is_file()


@pytest.mark.parametrize("name", PROTOCOLS)
def test_an_edited_export_fails(runs: dict, name: str, tmp_path: Path) -> None:
    source, _ = runs[name]
    files = LedgerFiles(source)
    files.run_dir = tmp_path
    (tmp_path / "certificates.parquet").write_bytes((source / "certificates.parquet").read_bytes())
    (tmp_path / "summary.json").write_text((source / "summary.json").read_text())
    victim = files.txs[len(files.txs) // 2]
    victim["amount"] += 1
    files.save()
    report = verify_run(tmp_path)
    assert not report.ok
    assert any("tx_hash does not match" in p for p in report.problems)


def test_summary_states_both_pow_difficulties(runs: dict) -> None:
    _, summary = runs["pow"]
    metrics = summary["chain"]["main"]
    assert metrics["difficulty_bits"] == 8 and metrics["simulated_difficulty_bits"] == 24
    assert metrics["confirmations"] == 6
    assert (
        json.loads((runs["pow"][0] / "genesis.json").read_text())["chains"]["main"]["params"][
            "block_hash_function"
        ]
        == "sha256"
    )


def test_hybrid_gets_the_validators_areas_from_the_grid(runs: dict) -> None:
    run_dir, _ = runs["hybrid"]
    params = json.loads((run_dir / "genesis.json").read_text())["chains"]["main"]["params"]
    assert params["validator_areas"].split(",")[:3] == ["-1", "0", "1"]  # substation, stations
    assert params["n_areas"] == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("chain=central", "chain.n_validators=3"), "chain.n_validators must be 1 for central"),
        (("chain=pbft", "chain.faulty_replicas={7:silent}"), "chain.faulty_replicas keys"),
        (("chain=pow", "chain.hash=md5"), "chain.hash must be one of"),
        (("chain=poa", "chain.network.latency_ms=-5"), "chain.network.latency_ms must be"),
        (("chain=hybrid", "chain.n_validators=2"), "chain.n_validators must be large enough"),
    ],
)
def test_bad_chain_settings_name_the_key(overrides: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(make_config(*overrides, *SHORT))
