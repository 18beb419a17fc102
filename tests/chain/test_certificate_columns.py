"""Certificates stored by column: the registry is the one built from certificate objects."""

from __future__ import annotations

import pytest

from chain.authority import CertificateAuthority, RegistrationRefused, Registry
from chain.keys import Identity
from chain.node_certificate import CertificateColumns


def _authority(quota: int = 1) -> CertificateAuthority:
    ca = Identity.derive(5, "authority/ca")
    return CertificateAuthority(ca, quota, ca.public_bytes)


def _register_some(authority: CertificateAuthority, n: int = 6) -> list:
    issued = [authority.register("agent/0", "grid_operator", Identity.derive(5, "g").public_hex)]
    for k in range(1, n):
        issued.append(
            authority.register(
                f"agent/{k}", "user", Identity.derive(5, f"a{k}").public_hex, issued_ms=1000 * k
            )  # fmt: skip
        )
    return issued


def test_columnar_registry_equals_registry_of_certificate_objects():
    authority = _authority()
    issued = _register_some(authority)
    columnar = authority.registry()
    plain = Registry(authority.public_key, issued)  # verifies every signature
    assert isinstance(columnar.certificates, CertificateColumns)
    assert columnar.root == plain.root
    assert list(columnar.certificates) == issued == list(plain.certificates)
    assert columnar.to_rows() == plain.to_rows()
    for cert in issued:
        assert columnar.by_key[cert.public_key] == cert
        assert columnar.role_of(cert.public_key) == cert.role
        assert columnar.wallet_of(cert.public_key) == cert.wallet
        assert cert.public_key in columnar and cert.public_key in columnar.keys
        assert columnar.by_id[cert.node_id] == cert
    assert columnar.role_of("ab" * 32) is None and columnar.wallet_of("ab" * 32) == ""
    assert set(columnar.keys) == set(plain.by_key) and len(columnar.by_key) == 6
    assert Registry(authority.public_key, authority._issued).root == plain.root


def test_registry_snapshot_ignores_later_registrations():
    authority = _authority()
    _register_some(authority, 3)
    before = authority.registry()
    late = authority.register("agent/9", "user", Identity.derive(5, "late").public_hex)
    assert len(before) == 3 and late.public_key not in before
    assert before.by_key.get(late.public_key) is None
    assert late.public_key in authority.registry()
    with pytest.raises(ValueError, match="read-only"):
        before.certificates.append(late)


def test_entity_quota_counts_own_and_named_registrations():
    authority = _authority(quota=2)
    authority.register("agent/1", "user", Identity.derive(5, "x1").public_hex)
    # agent/1 is its own entity (1); one more identity for it is allowed, then refused.
    authority.register("sybil/1/0", "user", Identity.derive(5, "s0").public_hex, entity="agent/1")
    with pytest.raises(RegistrationRefused) as refused:
        authority.register(
            "sybil/1/1", "user", Identity.derive(5, "s1").public_hex, entity="agent/1"
        )
    assert refused.value.reason == "quota"
    # A node registered for another entity does not count as its own entity.
    authority.register("agent/2", "user", Identity.derive(5, "x2").public_hex, entity="meter/7")
    authority.register("sybil/2", "user", Identity.derive(5, "s2").public_hex, entity="agent/2")
    assert authority.registry().by_id["sybil/1/0"].entity == "agent/1"
    assert authority.refused == {"quota": 1}
