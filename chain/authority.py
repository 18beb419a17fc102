"""Certificate authority and identity registry (seed 001 §4.2.3; wallets: seed 000 §3.2).

Seed 001 has every node register with a certifying authority that issues its key
pair and a token of identity (its Fig. 4.2). Here the authority is an Ed25519
identity that signs one :class:`NodeCertificate` per node, binding the node's ID
and role to its public key and to a seed 000 wallet address. The certificates
form a :class:`Registry`; a chain whose genesis names the authority's key and the
registry's root (``params["ca_public_key"]``, ``params["registry_root"]``)
accepts transactions only from registered senders
(:class:`chain.errors.UnregisteredSender`), and the export carries the registry
in ``identities.parquet`` (``docs/ledger-format.md``).

Sybil resistance: each certificate names the real-world *entity* (a meter, a
company) behind the node, and the authority issues at most
``max_identities_per_entity`` certificates per entity; further requests are
refused (:class:`RegistrationRefused`) and counted.

Wallet address (seed 000 §3.2, Algorithm 2; the formula is an image in the paper,
rebuilt from its text): ``h = SHA-256(ID || rn)`` with a 32-bit random number
``rn``, then the address is the 160-bit ``SHA-1(h || nonce)`` with a 32-bit nonce,
written ``"W" + 40 hex``. It is a label (shown in the export and the agents'
output); coins are still held by the public key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from typing import Any

from chain.encoding import canonical_bytes_unchecked, require_hex
from chain.keys import PUBLIC_KEY_HEX_CHARS, Identity
from chain.merkle import merkle_root_of_digests
from chain.node_certificate import (
    CERTIFICATE_FIELDS,
    ROLES,
    CertificateColumns,
    NodeCertificate,
    wallet_address,
)

__all__ = [
    "CERTIFICATE_FIELDS",
    "ROLES",
    "CertificateAuthority",
    "NodeCertificate",
    "RegistrationRefused",
    "Registry",
    "registry_for_run",
    "wallet_address",
]


class RegistrationRefused(Exception):
    """The authority refused a registration (quota reached, duplicate ID or key).

    Attributes:
        reason: ``quota``, ``duplicate_id``, ``duplicate_key`` or ``bad_role``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Registry:
    """The certificates an authority issued, indexed by public key.

    Args:
        ca_public_key: The authority's public key.
        certificates: Certificates in issue order: any iterable of
            :class:`NodeCertificate`, or the authority's :class:`CertificateColumns`
            (then the registry keeps a snapshot of the columns, not one object per
            certificate).
        check: Verify every certificate's signature (the issuing authority
            itself may skip it).

    Raises:
        ValueError: If a certificate does not verify or a key or ID repeats.
    """

    def __init__(
        self,
        ca_public_key: str,
        certificates: Iterable[NodeCertificate] | CertificateColumns,
        *,
        check: bool = True,
    ) -> None:
        require_hex("ca_public_key", ca_public_key, PUBLIC_KEY_HEX_CHARS)
        self.ca_public_key = ca_public_key
        self._by_id: dict[str, NodeCertificate] | None = None
        if isinstance(certificates, CertificateColumns):
            # The authority refused duplicate keys and IDs when it issued them.
            columns = certificates.snapshot()
            if check:
                for cert in columns:
                    if not cert.verify(ca_public_key):
                        raise ValueError(f"certificate of {cert.node_id!r} does not verify")
            self.certificates: Sequence[NodeCertificate] = columns
            self._index_of = columns.index_of
            self._key_index: Mapping[str, int] = columns.index_by_key
            leaves = [columns.leaf(i) for i in range(len(columns))]
        else:
            certs = tuple(certificates)
            index: dict[str, int] = {}
            ids: set[str] = set()
            for i, cert in enumerate(certs):
                if check and not cert.verify(ca_public_key):
                    raise ValueError(f"certificate of {cert.node_id!r} does not verify")
                if cert.public_key in index or cert.node_id in ids:
                    raise ValueError(f"certificate of {cert.node_id!r} repeats a key or an ID")
                index[cert.public_key] = i
                ids.add(cert.node_id)
            self.certificates = certs
            self._index_of = index.get
            self._key_index = index
            leaves = [bytes.fromhex(cert.certificate_hash) for cert in certs]
        self.root = merkle_root_of_digests(leaves)

    @property
    def by_key(self) -> Mapping[str, NodeCertificate]:
        """Public key -> certificate (a view; certificates are rebuilt on lookup)."""
        return _ByKey(self)

    @property
    def by_id(self) -> dict[str, NodeCertificate]:
        """Node ID -> certificate (built on first use)."""
        if self._by_id is None:
            self._by_id = {cert.node_id: cert for cert in self.certificates}
        return self._by_id

    @property
    def keys(self) -> Set[str]:
        """The registered public keys (a set view)."""
        return _Keys(self)

    def certificate_of(self, public_key: str) -> NodeCertificate | None:
        """The certificate of ``public_key``, or None."""
        index = self._index_of(public_key)
        return None if index is None else self.certificates[index]

    def __len__(self) -> int:
        return len(self.certificates)

    def __contains__(self, public_key: object) -> bool:
        return isinstance(public_key, str) and self._index_of(public_key) is not None

    def unregistered(self, public_keys: Iterable[str]) -> set[str]:
        """The keys among ``public_keys`` that hold no certificate of this registry.

        One C-level set difference against the key index when the index holds exactly
        this registry's keys (the authority issued none since the snapshot); otherwise
        one :meth:`__contains__` per distinct key. Non-string keys count as unregistered.
        """
        keys = set(public_keys)
        if len(self._key_index) == len(self.certificates):
            return keys.difference(self._key_index)
        return {key for key in keys if key not in self}

    def role_of(self, public_key: str) -> str | None:
        """The role of a registered key, or None."""
        index = self._index_of(public_key)
        if index is None:
            return None
        certs = self.certificates
        return certs.role(index) if isinstance(certs, CertificateColumns) else certs[index].role

    def wallet_of(self, public_key: str) -> str:
        """The wallet label of a registered key ("" if unregistered)."""
        index = self._index_of(public_key)
        if index is None:
            return ""
        certs = self.certificates
        return certs.wallet(index) if isinstance(certs, CertificateColumns) else certs[index].wallet

    def genesis_params(self) -> dict[str, str]:
        """The params that bind a genesis to this registry."""
        return {"ca_public_key": self.ca_public_key, "registry_root": self.root}

    def matches(self, params: Mapping[str, Any]) -> bool:
        """Whether genesis ``params`` name this registry."""
        return (
            params.get("ca_public_key") == self.ca_public_key
            and params.get("registry_root") == self.root
        )

    def to_rows(self) -> list[dict[str, Any]]:
        """Rows of ``identities.parquet`` in issue order."""
        return [cert.to_row(self.ca_public_key) for cert in self.certificates]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Registry:
        """Rebuild from ``identities.parquet`` rows (one authority).

        Raises:
            ValueError: If rows name several authorities or do not verify.
        """
        rows = list(rows)
        authorities = {row["ca_public_key"] for row in rows}
        if len(authorities) != 1:
            raise ValueError(f"identities must come from one authority (got {len(authorities)})")
        ints = ("wallet_random", "wallet_nonce", "issued_ms")
        certs = [
            NodeCertificate(
                **{
                    name: int(row[name]) if name in ints else row[name]
                    for name in CERTIFICATE_FIELDS
                },
                signature=row["signature"],
            )
            for row in rows
        ]
        return cls(authorities.pop(), certs)


class CertificateAuthority:
    """Issues node certificates with a per-entity quota (sybil resistance).

    Args:
        identity: The authority's key pair.
        max_identities_per_entity: Certificates per real-world entity, >= 1.
        randomness_seed: Bytes from which the wallets' random numbers and nonces
            are drawn (deterministically, so a run is reproducible).

    Attributes:
        refused: Refused registrations per reason.
    """

    def __init__(
        self, identity: Identity, max_identities_per_entity: int = 1, randomness_seed: bytes = b""
    ) -> None:
        if (
            isinstance(max_identities_per_entity, bool)
            or not isinstance(max_identities_per_entity, int)
            or max_identities_per_entity < 1
        ):
            raise ValueError(
                f"max_identities_per_entity must be an int >= 1 (got {max_identities_per_entity!r})"
            )
        self.identity = identity
        self.max_identities_per_entity = max_identities_per_entity
        self._seed = bytes(randomness_seed)
        self._issued = CertificateColumns()
        # Certificates per entity: a node that is its own entity (the default) counts
        # through ``_ids`` (minus ``_ids_of_others``), so a million self-entities need
        # no counter each; explicit other entities are counted in ``_per_entity``.
        self._per_entity: dict[str, int] = {}
        self._ids: set[str] = set()
        self._ids_of_others: set[str] = set()
        self.refused: dict[str, int] = {}

    @property
    def public_key(self) -> str:
        """The authority's public key."""
        return self.identity.public_hex

    def _refuse(self, reason: str, message: str) -> RegistrationRefused:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        return RegistrationRefused(reason, message)

    def register(
        self, node_id: str, role: str, public_key: str, *, entity: str | None = None,
        issued_ms: int = 0,
    ) -> NodeCertificate:  # fmt: skip
        """Issue a certificate binding ``node_id`` to ``public_key``.

        Args:
            node_id: The node's ID (unique).
            role: One of :data:`ROLES`.
            public_key: The node's public key (unique).
            entity: The real-world entity (default: the node ID itself).
            issued_ms: Simulated issue time.

        Raises:
            RegistrationRefused: Quota reached, ID or key already registered, or
                an unknown role (each counted in :attr:`refused`).
        """
        entity = node_id if entity is None else entity
        if role not in ROLES:
            raise self._refuse("bad_role", f"role must be one of {', '.join(ROLES)} (got {role!r})")
        if node_id in self._ids:
            raise self._refuse("duplicate_id", f"node ID {node_id!r} is already registered")
        if public_key in self._issued.index_by_key:
            raise self._refuse("duplicate_key", f"key {public_key[:12]}… is already registered")
        if self._entity_count(entity) >= self.max_identities_per_entity:
            raise self._refuse(
                "quota",
                f"entity {entity!r} already holds {self.max_identities_per_entity} identities",
            )
        draw = hashlib.sha256(self._seed + b"|wallet|" + node_id.encode("utf-8")).digest()
        wallet_random = int.from_bytes(draw[:4], "big")
        wallet_nonce = int.from_bytes(draw[4:8], "big")
        fields = {
            "node_id": node_id,
            "role": role,
            "entity": entity,
            "public_key": public_key,
            "wallet": wallet_address(node_id, wallet_random, wallet_nonce),
            "wallet_random": wallet_random,
            "wallet_nonce": wallet_nonce,
            "issued_ms": issued_ms,
        }
        signature = self.identity.sign(canonical_bytes_unchecked(fields)).hex()
        cert = NodeCertificate(**fields, signature=signature)
        self._issued.append(cert)
        if entity != node_id:
            self._per_entity[entity] = self._per_entity.get(entity, 0) + 1
            self._ids_of_others.add(node_id)
        self._ids.add(node_id)
        return cert

    def _entity_count(self, entity: str) -> int:
        """Certificates issued so far to ``entity``."""
        own = entity in self._ids and entity not in self._ids_of_others
        return self._per_entity.get(entity, 0) + own

    def registry(self) -> Registry:
        """The certificates issued so far."""
        return Registry(self.public_key, self._issued, check=False)


def registry_for_run(
    run_seed: int,
    nodes: Iterable[tuple[str, str, str]],
    *,
    max_identities_per_entity: int = 1,
) -> tuple[CertificateAuthority, Registry]:
    """Register a run's nodes with an authority derived from the run seed.

    Args:
        run_seed: The run seed (the authority's key is ``Identity.derive(seed, "authority/ca")``).
        nodes: ``(node_id, role, public_key)`` per node; each is its own entity.
        max_identities_per_entity: The authority's quota.

    Returns:
        The authority (for later registration attempts) and its registry.
    """
    identity = Identity.derive(run_seed, "authority/ca")
    ca = CertificateAuthority(identity, max_identities_per_entity, identity.public_bytes)
    for node_id, role, public_key in nodes:
        ca.register(node_id, role, public_key)
    return ca, ca.registry()


class _ByKey(Mapping[str, NodeCertificate]):
    """Public key -> certificate view of a :class:`Registry`."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def __getitem__(self, public_key: str) -> NodeCertificate:
        cert = self._registry.certificate_of(public_key)
        if cert is None:
            raise KeyError(public_key)
        return cert

    def __contains__(self, public_key: object) -> bool:
        return public_key in self._registry

    def __iter__(self) -> Iterator[str]:
        return (cert.public_key for cert in self._registry.certificates)

    def __len__(self) -> int:
        return len(self._registry)


class _Keys(Set[str]):
    """The registered public keys of a :class:`Registry` as a set view."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def __contains__(self, public_key: object) -> bool:
        return public_key in self._registry

    def unregistered(self, public_keys: Iterable[str]) -> set[str]:
        """The keys among ``public_keys`` not in this set (:meth:`Registry.unregistered`)."""
        return self._registry.unregistered(public_keys)

    def __iter__(self) -> Iterator[str]:
        return iter(_ByKey(self._registry))

    def __len__(self) -> int:
        return len(self._registry)
