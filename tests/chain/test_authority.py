"""Certificate authority, registry, wallet addresses and unregistered senders."""

from __future__ import annotations

import hashlib

import pytest

from chain import Identity, Ledger, UnregisteredSender
from chain.authority import (
    CertificateAuthority,
    NodeCertificate,
    RegistrationRefused,
    Registry,
    wallet_address,
)
from chain.export import write_ledger
from chain.replay import replay_run
from chain.verify import verify_run
from tests.chain.builders import COIN, SEED, pay
from tests.chain.security_builders import registered_chain


def test_wallet_address_is_sha1_of_sha256_of_id_and_random_plus_nonce() -> None:
    inner = hashlib.sha256(b"agent/7" + (5).to_bytes(4, "big")).digest()
    expected = "W" + hashlib.sha1(inner + (9).to_bytes(4, "big")).hexdigest()
    assert wallet_address("agent/7", 5, 9) == expected
    assert len(expected) == 41
    with pytest.raises(ValueError, match="wallet_nonce"):
        wallet_address("agent/7", 5, 2**32)


def test_certificates_verify_and_tampering_breaks_them() -> None:
    ca = CertificateAuthority(Identity.derive(1, "ca"))
    key = Identity.derive(1, "a").public_hex
    cert = ca.register("a", "user", key)
    assert cert.verify(ca.public_key)
    fields = {**cert.body(), "role": "regulator"}
    forged = NodeCertificate(**fields, signature=cert.signature)
    assert not forged.verify(ca.public_key)
    with pytest.raises(ValueError, match="does not verify"):
        Registry(ca.public_key, [forged])


def test_quota_refuses_and_counts_sybils() -> None:
    ca = CertificateAuthority(Identity.derive(1, "ca"), max_identities_per_entity=2)
    keys = [Identity.derive(1, f"s{i}").public_hex for i in range(4)]
    ca.register("s0", "user", keys[0], entity="meter/1")
    ca.register("s1", "user", keys[1], entity="meter/1")
    with pytest.raises(RegistrationRefused, match="already holds 2") as info:
        ca.register("s2", "user", keys[2], entity="meter/1")
    assert info.value.reason == "quota"
    with pytest.raises(RegistrationRefused):
        ca.register("s3", "user", keys[0], entity="meter/2")  # key reused
    with pytest.raises(RegistrationRefused):
        ca.register("s1", "user", keys[3], entity="meter/3")  # ID reused
    assert ca.refused == {"quota": 1, "duplicate_key": 1, "duplicate_id": 1}
    assert len(ca.registry()) == 2
    with pytest.raises(ValueError, match="max_identities_per_entity"):
        CertificateAuthority(Identity.derive(1, "ca"), 0)


def test_unregistered_sender_rejected_by_mempool_and_ledger() -> None:
    chain, _, people = registered_chain()
    outsider = Identity.derive(SEED, "outsider")
    stx = pay(outsider, people[0], 0, 0)
    rejected = chain.submit([stx])
    assert [type(err) for _, err in rejected] == [UnregisteredSender]
    assert chain.metrics()["rejected_tx_unregistered_sender"] == 1
    with pytest.raises(UnregisteredSender):
        chain.ledger.check_transaction(stx)


def test_ledger_requires_the_matching_registry() -> None:
    chain, ca, _ = registered_chain()
    with pytest.raises(ValueError, match="registry"):
        Ledger(chain.genesis)
    other = CertificateAuthority(Identity.derive(2, "ca")).registry()
    with pytest.raises(ValueError, match="registry"):
        Ledger(chain.genesis, other)


def test_export_carries_registry_and_verifier_checks_it(tmp_path) -> None:
    chain, _, people = registered_chain()
    chain.submit([pay(people[0], people[1], COIN, 0, timestamp_ms=100)])
    chain.advance_to(4000)
    write_ledger(tmp_path, [chain])
    report = verify_run(tmp_path)
    assert report.ok, report.problems
    assert report.chains["grid-a"]["registered_identities"] == 9
    assert replay_run(tmp_path)["grid-a"].head_hash == chain.head_hash
    # A tampered certificate (another role) breaks its signature and the registry root.
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "identities.parquet").to_pandas()
    table.loc[0, "role"] = "regulator"
    table.to_parquet(tmp_path / "identities.parquet")
    problems = " ".join(verify_run(tmp_path).problems)
    assert "certificate signature does not verify" in problems
    assert "registry_root does not match" in problems


def test_verifier_flags_a_sender_missing_from_the_registry(tmp_path) -> None:
    chain, _, people = registered_chain()
    chain.submit([pay(people[0], people[1], COIN, 0, timestamp_ms=100)])
    chain.advance_to(4000)
    write_ledger(tmp_path, [chain])
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "identities.parquet").to_pandas()
    table = table[table["public_key"] != people[0].public_hex]
    table.to_parquet(tmp_path / "identities.parquet")
    problems = " ".join(verify_run(tmp_path).problems)
    assert "sender" in problems and "is not registered" in problems
