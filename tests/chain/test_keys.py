"""Deterministic Ed25519 identities and signature checks."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import hashlib
import pickle

import pytest

from chain.keys import Identity, verify_signature, verify_signature_hex

# RFC 8032, section 7.1, TEST 1 (empty message).
RFC_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8032_vector() -> None:
    identity = Identity.from_private_bytes(bytes.fromhex(RFC_SECRET))
    assert identity.public_hex == RFC_PUBLIC
    assert identity.sign(b"").hex() == RFC_SIGNATURE
    assert verify_signature(RFC_PUBLIC, bytes.fromhex(RFC_SIGNATURE), b"")


def test_derive_follows_the_documented_rule() -> None:
    identity = Identity.derive(7, "prosumer/3")
    expected = Identity.from_private_bytes(
        hashlib.sha256(b"gridledger/identity/v1|7|prosumer/3").digest()
    )
    assert identity == expected
    assert (
        identity.private_bytes() == hashlib.sha256(b"gridledger/identity/v1|7|prosumer/3").digest()
    )


def test_derive_is_deterministic_and_separates_seed_and_label() -> None:
    assert Identity.derive(1, "a").public_hex == Identity.derive(1, "a").public_hex
    keys = {Identity.derive(s, label).public_hex for s in (1, 2, 12) for label in ("a", "2|a", "b")}
    assert len(keys) == 9


def test_public_key_forms() -> None:
    identity = Identity.derive(1, "a")
    assert len(identity.public_hex) == 64
    assert identity.public_hex == identity.public_hex.lower()
    assert identity.public_bytes.hex() == identity.public_hex


def test_signatures_are_deterministic_and_verify() -> None:
    identity = Identity.derive(3, "v")
    signature = identity.sign(b"hello")
    assert signature == identity.sign(b"hello")
    assert verify_signature(identity.public_hex, signature, b"hello")
    assert not verify_signature(identity.public_hex, signature, b"hellp")
    assert not verify_signature(Identity.derive(3, "w").public_hex, signature, b"hello")
    assert verify_signature_hex(identity.public_hex, signature.hex(), b"hello")
    assert not verify_signature_hex(identity.public_hex, signature.hex().upper(), b"hello")


@pytest.mark.parametrize(
    ("public_hex", "signature"),
    [("zz" * 32, b"\0" * 64), ("ab" * 31, b"\0" * 64), ("ab" * 32, b"\0" * 63)],
)
def test_malformed_inputs_verify_false(public_hex: str, signature: bytes) -> None:
    assert not verify_signature(public_hex, signature, b"x")


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Identity.from_private_bytes(b"short")
    with pytest.raises(TypeError):
        Identity.derive(1.5, "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Identity.derive(1, 2)  # type: ignore[arg-type]


def test_pickle_and_repr() -> None:
    identity = Identity.derive(9, "agent")
    clone = pickle.loads(pickle.dumps(identity))
    assert clone == identity and clone.sign(b"m") == identity.sign(b"m")
    assert identity.private_bytes().hex() not in repr(identity)
