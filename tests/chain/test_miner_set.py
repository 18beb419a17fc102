"""Proof of work changes its miners through signed miner_set records (seed 000 Alg. 1)."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain import Chain, ProofOfAuthority, ProofOfWork, make_genesis, verify_run, write_ledger
from chain.authority import registry_for_run
from chain.keys import Identity
from chain.miner_set import InvalidMinerSet, miner_set_transaction
from tests.chain.builders import COIN, users, validators
from tests.chain.consensus_helpers import EXACT_NETWORK, PEOPLE, submit_payments
from tests.chain.ledger_files import LedgerFiles, copy_run

AUTHORITY = Identity.derive(7, "agent/0")
OLD = validators(3)
NEW = [Identity.derive(7, f"miner/{k}") for k in range(4)]
OUTSIDER = Identity.derive(7, "miner/unregistered")


def _registry():
    nodes = [("agent/0", "grid_operator", AUTHORITY.public_hex)]
    nodes += [(f"validator/{k}", "validator", v.public_hex) for k, v in enumerate(OLD + NEW)]
    nodes += [(f"agent/{k + 1}", "user", p.public_hex) for k, p in enumerate(PEOPLE)]
    return registry_for_run(7, nodes)[1]


def _pow_chain(*, registry=None, authority: str = AUTHORITY.public_hex) -> Chain:
    consensus = ProofOfWork(
        n_validators=3,
        hash_rates_hps=[100_000, 200_000, 300_000],
        difficulty_bits=4,
        simulated_difficulty_bits=20,
        confirmations=2,
        network=EXACT_NETWORK,
        miner_set_authority=authority,
    )
    balances = {p.public_hex: 10 * COIN for p in PEOPLE}
    balances[AUTHORITY.public_hex] = COIN
    extra = registry.genesis_params() if registry is not None else None
    genesis = make_genesis("pow-c", consensus, balances, OLD, extra_params=extra)
    chain = Chain(genesis, consensus, OLD, registry)
    chain.enroll(NEW)
    return chain


def _record(chain: Chain, miners, rates, *, sender=AUTHORITY, nonce=0, period=1, at_ms=60_000):
    return miner_set_transaction(
        sender, chain.chain_id, nonce, at_ms, [m.public_hex for m in miners], rates, period
    )


@pytest.fixture(scope="module")
def changed() -> Chain:
    chain = _pow_chain(registry=_registry())
    submit_payments(chain, 6, spacing_ms=10_000)
    assert chain.submit([_record(chain, NEW, [50_000, 60_000, 70_000, 80_000])]) == []
    submit_payments(chain, 6, spacing_ms=10_000, start_ms=60_000)
    chain.advance_to(900_000)
    return chain


def _change_height(chain: Chain) -> int:
    for block in chain.blocks:
        if any(stx.tx.kind == "miner_set" for stx in block.transactions):
            return block.height
    raise AssertionError("no miner_set record on the chain")


def test_blocks_after_the_record_are_sealed_and_agreed_by_the_new_miners(changed: Chain) -> None:
    h = _change_height(changed)
    old_keys, new_keys = {v.public_hex for v in OLD}, {v.public_hex for v in NEW}
    assert 1 < h < changed.ledger.height  # blocks on both sides of the change
    for block in changed.blocks:
        cert = changed.ledger.certificates[block.height]
        expected = old_keys if block.height <= h else new_keys
        assert block.header.proposer in expected
        assert set(cert.signers) == expected
    assert changed.ledger.validators_at(h + 1) == tuple(v.public_hex for v in NEW)
    assert changed.ledger.validators_at(h) == tuple(v.public_hex for v in OLD)
    assert [v.public_hex for v in changed.validators] == [v.public_hex for v in NEW]
    assert changed.metrics()["miner_set_changes"] == 1
    assert changed.metrics()["committed_tx"] == 13


def test_export_verifies_and_a_tampered_set_fails(changed: Chain, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    write_ledger(run, [changed])
    (run / "summary.json").write_text(json.dumps({"ledger_head": {"pow-c": changed.head_hash}}))
    report = verify_run(run)
    assert report.ok, report.problems
    assert report.chains["pow-c"]["miner_set_changes"] == 1
    # Swap one miner of the record for an old one: the record's hash and signature break,
    # and the blocks after it are sealed by keys the (tampered) set does not hold.
    bad = copy_run(run, tmp_path / "bad")
    files = LedgerFiles(bad)
    row = next(tx for tx in files.txs if tx["kind"] == "miner_set")
    payload = json.loads(row["payload"])
    payload["miners"][0] = OLD[0].public_hex
    row["payload"] = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    files.save()
    problems = verify_run(bad).problems
    assert any("tx_hash does not match" in p for p in problems)
    assert any("is not a validator" in p or "agreement of all" in p for p in problems)


def test_a_run_without_the_record_rejects_new_miners_blocks(changed: Chain, tmp_path: Path) -> None:
    # Drop the record from the export: the blocks after it name unknown sealers.
    run = tmp_path / "run"
    run.mkdir()
    write_ledger(run, [changed])
    files = LedgerFiles(run)
    files.txs = [tx for tx in files.txs if tx["kind"] != "miner_set"]
    files.save()
    problems = verify_run(run).problems
    h = _change_height(changed)
    assert any(f"block {h + 1}: proposer" in p and "is not a validator" in p for p in problems)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: _record(c, NEW, [1, 2, 3, 4], sender=PEOPLE[0]), "not the miner-set authority"),
        (lambda c: _record(c, NEW, [1, 2, 3]), "one int >= 1 per miner"),
        (lambda c: _record(c, NEW, [1, 0, 3, 4]), "one int >= 1 per miner"),
        (lambda c: _record(c, [], []), "non-empty list"),
        (lambda c: _record(c, [NEW[0], NEW[0]], [1, 2]), "distinct"),
        (lambda c: _record(c, [OUTSIDER], [5]), "holds no certificate"),
        (lambda c: _record(c, NEW[:1], [5], period=0), "period"),
    ],
)
def test_invalid_records_are_refused_at_the_mempool(make, message: str) -> None:
    chain = _pow_chain(registry=_registry())
    rejected = chain.submit([make(chain)])
    assert len(rejected) == 1
    assert isinstance(rejected[0][1], InvalidMinerSet)
    assert message in str(rejected[0][1])


def test_records_need_a_pow_chain_with_an_authority() -> None:
    chain = _pow_chain(authority="")
    (_, err), *_ = chain.submit([_record(chain, NEW, [1, 2, 3, 4])])
    assert isinstance(err, InvalidMinerSet)
    poa = ProofOfAuthority(n_validators=3)
    genesis = make_genesis("poa-c", poa, {AUTHORITY.public_hex: COIN}, OLD)
    chain = Chain(genesis, poa, OLD)
    (_, err), *_ = chain.submit([_record(chain, NEW, [1, 2, 3, 4])])
    assert isinstance(err, InvalidMinerSet)


def test_a_new_miner_without_an_enrolled_key_stops_the_chain() -> None:
    chain = _pow_chain()
    chain._keyring.pop(NEW[0].public_hex)
    chain.submit([_record(chain, NEW, [1, 2, 3, 4])])
    with pytest.raises(ValueError, match="no identity enrolled"):
        chain.advance_to(3_600_000)


def test_the_change_is_deterministic() -> None:
    heads = []
    for _ in range(2):
        chain = _pow_chain()
        submit_payments(chain, 3, spacing_ms=10_000)
        chain.submit([_record(chain, NEW, [50_000, 60_000, 70_000, 80_000])])
        chain.advance_to(600_000)
        heads.append(chain.head_hash)
    assert heads[0] == heads[1]
    assert users(1)  # builders import stays used


@pytest.mark.parametrize("value", ["xyz", "A" * 64, 5])
def test_a_bad_authority_is_refused(value) -> None:
    with pytest.raises(ValueError, match="^miner_set_authority must be empty or a 64-hex"):
        ProofOfWork(miner_set_authority=value)
