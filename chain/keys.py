"""Ed25519 identities for agents and validators.

Keys are derived deterministically from the run seed and a label, so a run is
reproducible bit for bit: Ed25519 signing is deterministic (RFC 8032), hence
every signature in an exported ledger is a pure function of the run config.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from chain.encoding import is_hex

try:  # PyNaCl (libsodium) signs from the raw key about 2x faster than OpenSSL here.
    from nacl.bindings import crypto_sign as _nacl_sign
except ImportError:  # pragma: no cover - optional dependency
    _nacl_sign = None

PUBLIC_KEY_HEX_CHARS = 64
SIGNATURE_BYTES = 64
SIGNATURE_HEX_CHARS = 2 * SIGNATURE_BYTES
_DERIVATION_DOMAIN = b"gridledger/identity/v1"


class Identity:
    """An Ed25519 key pair.

    Picklable (it reduces to its 32 private bytes) so that agents holding an
    identity can move between Ray workers; the key objects themselves are
    rebuilt on unpickling.
    """

    __slots__ = ("_private_key", "_public_bytes", "_public_hex", "_secret_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Wrap an existing private key; prefer :meth:`derive` or :meth:`from_private_bytes`."""
        self._private_key = private_key
        self._public_bytes = private_key.public_key().public_bytes_raw()
        self._public_hex = self._public_bytes.hex()
        # libsodium's 64-byte secret key (seed || public key), when PyNaCl is installed.
        self._secret_key = (
            private_key.private_bytes_raw() + self._public_bytes if _nacl_sign else None
        )

    @classmethod
    def derive(cls, run_seed: int, label: str) -> Identity:
        """Derive the identity of ``label`` in the run seeded with ``run_seed``.

        The private key is ``SHA-256(b"gridledger/identity/v1|<seed>|<label>")``
        with the seed in decimal and the label UTF-8 encoded. The seed contains
        no ``|``, so distinct (seed, label) pairs never collide.

        Args:
            run_seed: The run's integer seed.
            label: A stable name such as ``"prosumer/17"`` or ``"validator/0"``.

        Raises:
            TypeError: If ``run_seed`` is not an int or ``label`` not a str.
        """
        if isinstance(run_seed, bool) or not isinstance(run_seed, int):
            raise TypeError(f"run_seed must be an int (got {type(run_seed).__name__})")
        if not isinstance(label, str):
            raise TypeError(f"label must be a str (got {type(label).__name__})")
        material = b"%s|%d|%s" % (_DERIVATION_DOMAIN, run_seed, label.encode("utf-8"))
        return cls.from_private_bytes(hashlib.sha256(material).digest())

    @classmethod
    def from_private_bytes(cls, private_bytes: bytes) -> Identity:
        """Build an identity from a raw 32-byte Ed25519 private key.

        Raises:
            ValueError: If ``private_bytes`` is not 32 bytes long.
        """
        if len(private_bytes) != 32:
            raise ValueError(
                f"private_bytes must be 32 bytes for Ed25519 (got {len(private_bytes)})"
            )
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(private_bytes)))

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public_bytes

    @property
    def public_hex(self) -> str:
        """The public key as 64 lowercase hex chars (the on-ledger address)."""
        return self._public_hex

    def private_bytes(self) -> bytes:
        """The raw 32-byte private key (for persistence and pickling)."""
        return self._private_key.private_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data`` (RFC 8032, deterministic)."""
        if self._secret_key is not None:
            return _nacl_sign(data, self._secret_key)[:64]
        return self._private_key.sign(data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Identity.from_private_bytes, (self.private_bytes(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identity):
            return NotImplemented
        return self._public_bytes == other._public_bytes

    def __hash__(self) -> int:
        return hash(self._public_bytes)

    def __repr__(self) -> str:
        # Never show private material.
        return f"Identity(public_hex={self._public_hex[:12]}…)"


@lru_cache(maxsize=1 << 16)
def _load_public_key(public_hex: str) -> Ed25519PublicKey | None:
    # Parsing a public key costs about as much as hashing a transaction, and
    # the same few thousand agents sign everything, so parsed keys are cached.
    if not is_hex(public_hex, PUBLIC_KEY_HEX_CHARS):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    except ValueError:
        return None


def verify_signature(public_hex: str, signature: bytes, data: bytes) -> bool:
    """Check an Ed25519 signature.

    Args:
        public_hex: Signer's public key, 64 lowercase hex chars.
        signature: The raw 64-byte signature.
        data: The signed message.

    Returns:
        True if the signature is valid; False for an invalid signature *or* a
        malformed key/signature (callers only need a yes/no answer).
    """
    if len(signature) != SIGNATURE_BYTES:
        return False
    key = _load_public_key(public_hex)
    if key is None:
        return False
    try:
        key.verify(signature, data)
    except _CryptoInvalidSignature:
        return False
    return True


def verify_signature_hex(public_hex: str, signature_hex: str, data: bytes) -> bool:
    """Like :func:`verify_signature` with the signature as 128 lowercase hex chars.

    Non-canonical hex (upper case, wrong length) is rejected so that each
    signature has exactly one textual form on the ledger.
    """
    if not is_hex(signature_hex, SIGNATURE_HEX_CHARS):
        return False
    return verify_signature(public_hex, bytes.fromhex(signature_hex), data)
