"""The Ed25519 keys of many agents in two byte columns (compact :class:`Identity` store).

An :class:`chain.keys.Identity` holds an OpenSSL key object (about 430 bytes of native
memory) plus Python objects for its public key; a million agents would spend more on
their keys than the whole per-agent budget. A :class:`KeyRing` keeps, per agent, only
the 32-byte private seed and the 32-byte public key (each in one ``bytes`` column) and
the public key's hex string (the on-ledger address, which the genesis and the ledger
hold anyway). Keys are derived exactly as :meth:`Identity.derive` derives them, and
Ed25519 signing is deterministic (RFC 8032), so a signature made through the ring is
byte for byte the one the identity makes: ledgers are unchanged.

Signing needs no key object: with PyNaCl installed, libsodium signs from the 64-byte
secret key ``seed || public key`` directly (and derives the public key at build
faster than OpenSSL); without it each signature parses the seed into an OpenSSL key
first (correct, about twice the signing time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import overload

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chain.keys import _DERIVATION_DOMAIN, SIGNATURE_BYTES, Identity, verify_signature

try:  # PyNaCl (libsodium): optional, faster, no per-key objects.
    from nacl.bindings import crypto_sign as _nacl_sign
    from nacl.bindings import crypto_sign_open as _nacl_open
    from nacl.bindings import crypto_sign_seed_keypair as _nacl_keypair
    from nacl.exceptions import BadSignatureError as _NaclBadSignature
except ImportError:  # pragma: no cover - exercised through the ``backend`` argument
    _nacl_sign = _nacl_open = _nacl_keypair = None
    _NaclBadSignature = ValueError

SEED_BYTES = 32
PUBLIC_BYTES = 32
BACKENDS = ("auto", "nacl", "openssl")


def _public_openssl(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _public_nacl(seed: bytes) -> bytes:
    return _nacl_keypair(seed)[0]


class KeyRing(Sequence["RingSigner"]):
    """Deterministic Ed25519 keys of the labels ``prefix + str(first + row)``.

    Args:
        run_seed: The run's integer seed.
        first: Number of the first label (e.g. an area's first global agent id).
        count: Number of keys.
        prefix: Label prefix (``"agent/"``: the keys of :meth:`Identity.derive`
            with labels ``"agent/<id>"``).
        backend: ``"auto"`` (PyNaCl when installed), ``"nacl"`` or ``"openssl"``.

    Indexing gives a :class:`RingSigner` (``sign``, ``public_hex``, ``public_bytes``),
    which signs wherever an :class:`Identity` does.

    Raises:
        ValueError: ``count`` or ``first`` negative, an unknown backend, or ``nacl``
            asked for without PyNaCl.
        TypeError: ``run_seed`` not an int.
    """

    def __init__(
        self, run_seed: int, first: int, count: int, prefix: str = "agent/", backend: str = "auto"
    ) -> None:
        if isinstance(run_seed, bool) or not isinstance(run_seed, int):
            raise TypeError(f"run_seed must be an int (got {type(run_seed).__name__})")
        if count < 0 or first < 0:
            raise ValueError(f"count and first must be >= 0 (got {count}, {first})")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)} (got {backend!r})")
        if backend == "nacl" and _nacl_sign is None:
            raise ValueError("backend 'nacl' needs PyNaCl (pip install pynacl)")
        self._nacl = _nacl_sign is not None and backend != "openssl"
        public_of = _public_nacl if self._nacl else _public_openssl
        seeds = bytearray(SEED_BYTES * count)
        public = bytearray(PUBLIC_BYTES * count)
        head = b"%s|%d|%s" % (_DERIVATION_DOMAIN, run_seed, prefix.encode("utf-8"))
        sha256 = hashlib.sha256
        for row in range(count):
            seed = sha256(b"%s%d" % (head, first + row)).digest()
            seeds[SEED_BYTES * row : SEED_BYTES * (row + 1)] = seed
            public[PUBLIC_BYTES * row : PUBLIC_BYTES * (row + 1)] = public_of(seed)
        self._seeds, self._public = bytes(seeds), bytes(public)
        #: Public key of every row as 64 lowercase hex chars (the on-ledger addresses).
        self.public_hexes: list[str] = [
            self._public[PUBLIC_BYTES * row : PUBLIC_BYTES * (row + 1)].hex()
            for row in range(count)
        ]

    def __len__(self) -> int:
        return len(self.public_hexes)

    @overload
    def __getitem__(self, row: int) -> RingSigner: ...

    @overload
    def __getitem__(self, row: slice) -> list[RingSigner]: ...

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [RingSigner(self, r) for r in range(*row.indices(len(self)))]
        n = len(self)
        row = int(row)
        if row < 0:
            row += n
        if not 0 <= row < n:
            raise IndexError(f"key row {row} out of range (ring of {n})")
        return RingSigner(self, row)

    def __iter__(self) -> Iterator[RingSigner]:
        return (RingSigner(self, r) for r in range(len(self)))

    def private_bytes(self, row: int) -> bytes:
        """The raw 32-byte private key of ``row``."""
        return self._seeds[SEED_BYTES * row : SEED_BYTES * (row + 1)]

    def public_bytes(self, row: int) -> bytes:
        """The raw 32-byte public key of ``row``."""
        return self._public[PUBLIC_BYTES * row : PUBLIC_BYTES * (row + 1)]

    def sign(self, row: int, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data`` by ``row``'s key."""
        seed = self._seeds[SEED_BYTES * row : SEED_BYTES * (row + 1)]
        if self._nacl:
            public = self._public[PUBLIC_BYTES * row : PUBLIC_BYTES * (row + 1)]
            return _nacl_sign(data, seed + public)[:64]
        return Ed25519PrivateKey.from_private_bytes(seed).sign(data)

    def verify(self, row: int, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` (64 raw bytes) is ``row``'s Ed25519 signature of ``data``.

        With PyNaCl, libsodium checks it from the raw public key (``crypto_sign_open``):
        about twice as fast as OpenSSL here and no key object to parse or cache. libsodium
        accepts a subset of what OpenSSL accepts (the same RFC 8032 equation; it also
        rejects non-canonical and small-order points), so a signature this check passes
        also passes :func:`chain.keys.verify_signature`, which the chain and the
        verifier use. Without PyNaCl (or with ``backend="openssl"``) it is that function.
        """
        if len(signature) != SIGNATURE_BYTES:
            return False
        if not self._nacl:
            return verify_signature(self.public_hexes[row], signature, data)
        public = self._public[PUBLIC_BYTES * row : PUBLIC_BYTES * (row + 1)]
        try:
            _nacl_open(signature + data, public)
        except _NaclBadSignature:
            return False
        return True

    def identity(self, row: int) -> Identity:
        """A full :class:`Identity` of ``row`` (builds the OpenSSL key object)."""
        return Identity.from_private_bytes(self.private_bytes(row))


class RingSigner:
    """One row of a :class:`KeyRing`, usable wherever an :class:`Identity` signs."""

    __slots__ = ("_ring", "_row")

    def __init__(self, ring: KeyRing, row: int) -> None:
        self._ring, self._row = ring, row

    @property
    def public_hex(self) -> str:
        """The public key as 64 lowercase hex chars."""
        return self._ring.public_hexes[self._row]

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._ring.public_bytes(self._row)

    def private_bytes(self) -> bytes:
        """The raw 32-byte private key."""
        return self._ring.private_bytes(self._row)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._ring.sign(self._row, data)

    def identity(self) -> Identity:
        """The equivalent :class:`Identity`."""
        return self._ring.identity(self._row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RingSigner, Identity)):
            return self.public_bytes == other.public_bytes
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.public_bytes)

    def __repr__(self) -> str:
        return f"RingSigner(public_hex={self.public_hex[:12]}…)"
