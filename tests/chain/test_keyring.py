"""The compact key store: same keys and signatures as Identity, on both backends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import keyring
from chain.keyring import KeyRing, RingSigner
from chain.keys import Identity, verify_signature
from chain.transaction import Transaction, sign_transaction

NACL = pytest.mark.skipif(keyring._nacl_sign is None, reason="PyNaCl not installed")
BACKENDS = ["openssl", pytest.param("nacl", marks=NACL)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ring_keys_and_signatures_equal_eagerly_derived_identities(backend):
    ring = KeyRing(7, 40, 5, backend=backend)
    assert len(ring) == 5
    for row in range(5):
        identity = Identity.derive(7, f"agent/{40 + row}")
        signer = ring[row]
        assert ring.public_hexes[row] == signer.public_hex == identity.public_hex
        assert signer.public_bytes == identity.public_bytes
        assert signer.private_bytes() == identity.private_bytes()
        message = b"gridledger-order/1|0|3|%d|1|250|180000" % row
        signature = signer.sign(message)
        assert signature == identity.sign(message)  # RFC 8032: deterministic
        assert verify_signature(signer.public_hex, signature, message)
        assert not verify_signature(signer.public_hex, signature, message + b"x")
        assert signer == identity and signer.identity() == identity


@pytest.mark.parametrize("backend", BACKENDS)
def test_ring_signer_signs_transactions_like_the_identity(backend):
    ring = KeyRing(3, 1, 2, backend=backend)
    tx = Transaction(
        chain_id="main",
        sender=ring[1].public_hex,
        receiver=ring[0].public_hex,
        amount=1_500,
        nonce=0,
        kind="p2p_local",
        payload={"trade_id": 4, "step": 2},
        timestamp_ms=900_000,
    )
    assert sign_transaction(ring[1], tx) == sign_transaction(Identity.derive(3, "agent/2"), tx)
    with pytest.raises(ValueError, match="cannot sign"):
        sign_transaction(ring[0], tx)


def test_ring_indexing_slices_and_bounds():
    ring = KeyRing(1, 0, 3, prefix="validator/", backend="openssl")
    assert ring[-1].public_hex == Identity.derive(1, "validator/2").public_hex
    assert [s.public_hex for s in ring[1:]] == ring.public_hexes[1:]
    assert all(isinstance(s, RingSigner) for s in ring)
    with pytest.raises(IndexError):
        ring[3]
    assert len(KeyRing(1, 0, 0)) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"count": -1}, ValueError, "count"),
        ({"backend": "gpu"}, ValueError, "backend must be one of"),
    ],
)
def test_ring_rejects_bad_arguments(kwargs, error, match):
    args = {"run_seed": 1, "first": 0, "count": 2, **kwargs}
    with pytest.raises(error, match=match):
        KeyRing(**args)
    with pytest.raises(TypeError, match="run_seed"):
        KeyRing("1", 0, 2)  # type: ignore[arg-type]


def test_identity_signs_like_openssl_whatever_the_backend():
    identity = Identity.derive(9, "validator/0")
    message = b"block header bytes"
    assert identity.sign(message) == identity._private_key.sign(message)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=64 * 8 - 1))
def test_ring_verify_agrees_with_openssl(backend, message, flip):
    ring = KeyRing(11, 0, 2, backend=backend)
    signature = ring.sign(1, message)
    assert ring.verify(1, signature, message)
    assert verify_signature(ring.public_hexes[1], signature, message)
    bad = bytearray(signature)
    bad[flip // 8] ^= 1 << (flip % 8)
    bad = bytes(bad)
    assert ring.verify(1, bad, message) == verify_signature(ring.public_hexes[1], bad, message)
    assert not ring.verify(1, bad, message)
    assert not ring.verify(0, signature, message)  # another row's key
    assert not ring.verify(1, signature, message + b"x")
    assert not ring.verify(1, signature[:63], message)
