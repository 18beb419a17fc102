"""Node certificates of the certificate authority, and their column store.

:class:`NodeCertificate` is one signed identity certificate (seed 001 §4.2.3, wallet
address of seed 000 §3.2; see :mod:`chain.authority`). :class:`CertificateColumns`
keeps the certificates an authority issues column by column (node IDs, role codes,
public keys, wallet draws, issue times and raw 64-byte signatures) instead of one
frozen dataclass per node, which is what makes a registry of a million agents fit in
a few hundred bytes per agent; a :class:`NodeCertificate` is rebuilt on demand and is
field for field the one the authority issued, so registry roots and exports are the
same either way.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from chain.encoding import canonical_bytes_unchecked, require_hex, require_int, require_str
from chain.keys import PUBLIC_KEY_HEX_CHARS, verify_signature_hex

ROLES = ("user", "grid_operator", "validator", "regulator")
CERTIFICATE_FIELDS = (
    "node_id", "role", "entity", "public_key", "wallet", "wallet_random", "wallet_nonce",
    "issued_ms",
)  # fmt: skip
_WALLET_DOMAIN = b"gridledger/wallet/v1"


def wallet_address(node_id: str, wallet_random: int, wallet_nonce: int) -> str:
    """Seed 000's wallet address of ``node_id`` (see the module docstring).

    Args:
        node_id: The node's ID.
        wallet_random: The 32-bit random number ``rn``.
        wallet_nonce: The 32-bit nonce.

    Returns:
        ``"W"`` followed by 40 lowercase hex chars (160 bits).
    """
    for name, value in (("wallet_random", wallet_random), ("wallet_nonce", wallet_nonce)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"{name} must be a 32-bit unsigned int (got {value!r})")
    inner = hashlib.sha256(node_id.encode("utf-8") + wallet_random.to_bytes(4, "big")).digest()
    return "W" + hashlib.sha1(inner + wallet_nonce.to_bytes(4, "big")).hexdigest()


@dataclass(frozen=True)
class NodeCertificate:
    """A node's identity certificate, signed by the authority.

    Attributes:
        node_id: The node's ID, e.g. ``"agent/17"`` or ``"validator/0"``.
        role: One of :data:`ROLES`.
        entity: The real-world entity behind the node (the sybil quota's key).
        public_key: The node's Ed25519 public key (64 hex).
        wallet: Seed 000 wallet address (:func:`wallet_address`).
        wallet_random: The wallet's 32-bit random number.
        wallet_nonce: The wallet's 32-bit nonce.
        issued_ms: Simulated issue time.
        signature: The authority's signature of :meth:`canonical` (128 hex).
    """

    node_id: str
    role: str
    entity: str
    public_key: str
    wallet: str
    wallet_random: int
    wallet_nonce: int
    issued_ms: int
    signature: str

    def __post_init__(self) -> None:
        require_str("node_id", self.node_id)
        require_str("entity", self.entity)
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got {self.role!r})")
        require_hex("public_key", self.public_key, PUBLIC_KEY_HEX_CHARS)
        require_int("wallet_random", self.wallet_random)
        require_int("wallet_nonce", self.wallet_nonce)
        require_int("issued_ms", self.issued_ms)

    def body(self) -> dict[str, Any]:
        """The signed fields."""
        return {name: getattr(self, name) for name in CERTIFICATE_FIELDS}

    def canonical(self) -> bytes:
        """Canonical bytes of :meth:`body` (what the authority signs)."""
        return canonical_bytes_unchecked(self.body())

    @property
    def certificate_hash(self) -> str:
        """SHA-256 hex of the body and signature (the registry's Merkle leaf)."""
        return hashlib.sha256(self.canonical() + self.signature.encode()).hexdigest()

    def verify(self, ca_public_key: str) -> bool:
        """Whether the authority signed this certificate and the wallet matches."""
        try:
            wallet = wallet_address(self.node_id, self.wallet_random, self.wallet_nonce)
        except ValueError:
            return False
        return wallet == self.wallet and verify_signature_hex(
            ca_public_key, self.signature, self.canonical()
        )

    def to_row(self, ca_public_key: str) -> dict[str, Any]:
        """One row of ``identities.parquet``."""
        return {**self.body(), "signature": self.signature, "ca_public_key": ca_public_key}


def certificate_leaf(body: dict[str, Any], signature_hex: str) -> bytes:
    """The registry's Merkle leaf of a certificate: SHA-256 of its body and signature."""
    return hashlib.sha256(canonical_bytes_unchecked(body) + signature_hex.encode()).digest()


class CertificateColumns(Sequence[NodeCertificate]):
    """The certificates an authority issued, in issue order, stored by column.

    Per certificate it keeps the node ID (a ``str``), a role code (1 byte), the
    entity only when it differs from the node ID, a reference to the public-key
    string the caller already holds, the two 32-bit wallet draws and the issue time
    (8 bytes each in ``array`` columns) and the raw 64-byte signature (one
    ``bytearray``); the wallet address is recomputed from its draws on demand.
    Indexing rebuilds the :class:`NodeCertificate`. :meth:`snapshot` gives a view of
    the first ``len(self)`` certificates that later appends do not change (what a
    :class:`chain.authority.Registry` holds).

    Attributes:
        index_by_key: Public key -> issue index (shared with snapshots, which ignore
            indices beyond their length).
    """

    def __init__(self) -> None:
        self._node_ids: list[str] = []
        self._roles = bytearray()
        self._entities: list[str | None] = []
        self._public_keys: list[str] = []
        self._wallet_draws = array("Q")
        self._issued_ms = array("q")
        self._signatures = bytearray()
        self.index_by_key: dict[str, int] = {}
        self._limit: int | None = None

    def append(self, cert: NodeCertificate) -> None:
        """Store ``cert`` (issued by the authority: its signature is 128 lowercase hex).

        Raises:
            ValueError: On a snapshot, or for a signature that is not 64 bytes of hex.
        """
        if self._limit is not None:
            raise ValueError("certificates: a snapshot is read-only")
        signature = bytes.fromhex(cert.signature)
        if len(signature) != 64 or signature.hex() != cert.signature:
            raise ValueError(f"signature of {cert.node_id!r} must be 128 lowercase hex chars")
        self.index_by_key[cert.public_key] = len(self._node_ids)
        self._node_ids.append(cert.node_id)
        self._roles.append(ROLES.index(cert.role))
        self._entities.append(None if cert.entity == cert.node_id else cert.entity)
        self._public_keys.append(cert.public_key)
        self._wallet_draws.append(cert.wallet_random << 32 | cert.wallet_nonce)
        self._issued_ms.append(cert.issued_ms)
        self._signatures += signature

    def snapshot(self) -> CertificateColumns:
        """A read-only view of the certificates issued so far (columns shared)."""
        view = CertificateColumns.__new__(CertificateColumns)
        view.__dict__.update(self.__dict__)
        view._limit = len(self)
        return view

    def index_of(self, public_key: str) -> int | None:
        """Issue index of ``public_key``'s certificate within this view, or None."""
        index = self.index_by_key.get(public_key)
        return None if index is None or index >= len(self) else index

    def public_key(self, index: int) -> str:
        """Public key of certificate ``index``."""
        return self._public_keys[index]

    def role(self, index: int) -> str:
        """Role of certificate ``index``."""
        return ROLES[self._roles[index]]

    def wallet(self, index: int) -> str:
        """Wallet address of certificate ``index``."""
        draw = self._wallet_draws[index]
        return wallet_address(self._node_ids[index], draw >> 32, draw & 0xFFFFFFFF)

    def _body(self, index: int) -> tuple[dict[str, Any], str]:
        node_id, draw = self._node_ids[index], self._wallet_draws[index]
        entity = self._entities[index]
        random, nonce = draw >> 32, draw & 0xFFFFFFFF
        body = {
            "node_id": node_id,
            "role": ROLES[self._roles[index]],
            "entity": node_id if entity is None else entity,
            "public_key": self._public_keys[index],
            "wallet": wallet_address(node_id, random, nonce),
            "wallet_random": random,
            "wallet_nonce": nonce,
            "issued_ms": self._issued_ms[index],
        }
        return body, self._signatures[64 * index : 64 * index + 64].hex()

    def leaf(self, index: int) -> bytes:
        """Merkle leaf of certificate ``index`` (same as ``certificate_hash``, raw)."""
        return certificate_leaf(*self._body(index))

    def __len__(self) -> int:
        return len(self._node_ids) if self._limit is None else self._limit

    @overload
    def __getitem__(self, index: int) -> NodeCertificate: ...

    @overload
    def __getitem__(self, index: slice) -> list[NodeCertificate]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("certificate index out of range")
        body, signature = self._body(index)
        return NodeCertificate(**body, signature=signature)

    def __iter__(self) -> Iterator[NodeCertificate]:
        return (self[i] for i in range(len(self)))
