"""Authenticated queries: users read only their records, the regulator traces."""

from __future__ import annotations

import pytest

from chain import Identity
from chain.export import write_ledger
from chain.query import AccessDenied, LedgerQuery, QueryRejected, main, sign_query
from tests.chain.builders import COIN, SEED, pay
from tests.chain.security_builders import registered_chain


@pytest.fixture()
def service(tmp_path):
    chain, _, people = registered_chain()
    txs = [pay(people[0], people[1], COIN, 0, timestamp_ms=100),
           pay(people[2], people[3], COIN, 0, timestamp_ms=100)]  # fmt: skip
    assert chain.submit(txs) == []
    chain.advance_to(4000)
    write_ledger(tmp_path, [chain])
    return LedgerQuery.from_run(tmp_path), people, txs, tmp_path


def test_user_sees_only_own_transactions(service) -> None:
    svc, people, txs, _ = service
    mine = svc.answer(sign_query(people[1], "own", nonce=0))
    assert [r["tx_hash"] for r in mine] == [txs[0].tx_hash]
    with pytest.raises(AccessDenied):
        svc.answer(sign_query(people[1], "own", txs[1].tx_hash, nonce=1))
    with pytest.raises(AccessDenied):
        svc.answer(sign_query(people[1], "trace", txs[1].tx_hash, nonce=1))


def test_regulator_traces_anything(service) -> None:
    svc, people, txs, _ = service
    regulator = Identity.derive(SEED, "regulator/0")
    found = svc.answer(sign_query(regulator, "trace", people[3].public_hex, nonce=0))
    assert [r["tx_hash"] for r in found] == [txs[1].tx_hash]
    assert len(svc.answer(sign_query(regulator, "trace", "", nonce=1))) == 2


def test_authentication(service) -> None:
    svc, people, _, _ = service
    query = sign_query(people[0], "own", nonce=0)
    svc.answer(query)
    with pytest.raises(QueryRejected, match="nonce"):
        svc.answer(query)  # replayed query
    forged = sign_query(people[1], "own", nonce=0)
    with pytest.raises(QueryRejected, match="signature"):
        svc.answer(type(forged)(people[2].public_hex, "own", "", 0, forged.signature))
    with pytest.raises(QueryRejected, match="certificate"):
        svc.answer(sign_query(Identity.derive(SEED, "nobody"), "own"))


def test_cli(service, capsys) -> None:
    _, _, _, run_dir = service
    assert main([str(run_dir), "--seed", str(SEED), "--label", "user/0", "--trace", ""]) == 2
    assert main([str(run_dir), "--seed", str(SEED), "--label", "regulator/0", "--trace", ""]) == 0
    assert "2 records" in capsys.readouterr().err
