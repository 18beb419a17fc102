"""Authenticated ledger queries (seed 002 §4.4): users see their own records, a regulator traces.

A :class:`SignedQuery` is signed by the requester; :class:`LedgerQuery` checks the
signature, the requester's certificate (``chain.authority``) and a per-requester
query nonce (so a captured query cannot be replayed), then answers:

* ``own``: the transactions the requester sent or received, on every chain; asking
  for a transaction hash of someone else's raises :class:`AccessDenied`.
* ``trace``: only for the ``regulator`` role: every record of a transaction hash or
  of an account, across every chain (area) of the run.

Python API::

    service = LedgerQuery.from_run("outputs/...")
    query = sign_query(identity, "own", target="", nonce=0)
    records = service.answer(query)

Command line (identities are derived from the run seed and a label)::

    python -m chain.query RUN_DIR --seed 42 --label agent/5
    python -m chain.query RUN_DIR --seed 42 --label regulator/0 --trace TX_HASH_OR_KEY
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chain.authority import Registry
from chain.encoding import canonical_bytes_unchecked
from chain.export import read_identities, read_ledger
from chain.keys import Identity, verify_signature_hex

QUERY_KINDS = ("own", "trace")


class QueryRejected(Exception):
    """A query failed authentication (signature, certificate or nonce)."""


class AccessDenied(QueryRejected):
    """The requester may not read what it asked for."""


@dataclass(frozen=True)
class SignedQuery:
    """A query and its requester's signature.

    Attributes:
        requester: Public key of the requester.
        kind: ``own`` or ``trace``.
        target: A transaction hash or account key ("" for all own records).
        nonce: The requester's query counter (each nonce is accepted once).
        signature: The requester's signature of :meth:`canonical`.
    """

    requester: str
    kind: str
    target: str
    nonce: int
    signature: str

    def canonical(self) -> bytes:
        """The signed bytes."""
        return canonical_bytes_unchecked(
            {"query": self.kind, "requester": self.requester, "target": self.target,
             "nonce": self.nonce}
        )  # fmt: skip


def sign_query(identity: Identity, kind: str, target: str = "", nonce: int = 0) -> SignedQuery:
    """Build and sign a query."""
    unsigned = SignedQuery(identity.public_hex, kind, target, nonce, "")
    return SignedQuery(
        identity.public_hex, kind, target, nonce, identity.sign(unsigned.canonical()).hex()
    )


class LedgerQuery:
    """Answers authenticated queries over the committed transactions of one or more chains.

    Args:
        records: Transaction rows (dicts with at least ``chain_id``, ``sender``,
            ``receiver``, ``tx_hash``) of every chain.
        registry: The run's certificate registry.
    """

    def __init__(self, records: Sequence[Mapping[str, Any]], registry: Registry) -> None:
        self.records = [dict(r) for r in records]
        self.registry = registry
        self._next_nonce: dict[str, int] = {}

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike[str]) -> LedgerQuery:
        """Load the transactions and the registry of an exported run."""
        _, _, transactions = read_ledger(run_dir)
        identities = read_identities(run_dir)
        if not len(identities):
            raise QueryRejected(f"{run_dir} has no identities.parquet: no authority to check")
        columns = list(identities.columns)
        rows = [dict(zip(columns, v, strict=True)) for v in identities.itertuples(index=False)]
        registry = Registry.from_rows(rows)
        tx_columns = list(transactions.columns)
        records = [
            dict(zip(tx_columns, v, strict=True)) for v in transactions.itertuples(index=False)
        ]
        return cls(records, registry)

    def _authenticate(self, query: SignedQuery) -> str:
        if query.kind not in QUERY_KINDS:
            raise QueryRejected(
                f"kind must be one of {', '.join(QUERY_KINDS)} (got {query.kind!r})"
            )
        role = self.registry.role_of(query.requester)
        if role is None:
            raise QueryRejected(f"requester {query.requester[:12]}… holds no certificate")
        if not verify_signature_hex(query.requester, query.signature, query.canonical()):
            raise QueryRejected("query signature does not verify for the requester")
        expected = self._next_nonce.get(query.requester, 0)
        if query.nonce != expected:
            raise QueryRejected(f"query nonce {query.nonce} is not the expected {expected}")
        return role

    def answer(self, query: SignedQuery) -> list[dict[str, Any]]:
        """The records the requester may read for this query.

        Raises:
            QueryRejected: Bad signature, unregistered requester, reused nonce.
            AccessDenied: A user asks for another party's transaction or a trace.
        """
        role = self._authenticate(query)
        me, target = query.requester, query.target
        if query.kind == "trace":
            if role != "regulator":
                raise AccessDenied(f"only a regulator may trace (requester role {role!r})")
            found = [
                r for r in self.records
                if not target or target in (r["tx_hash"], r["sender"], r["receiver"])
            ]  # fmt: skip
        else:
            if target and target != me and not self._is_party(me, target):
                raise AccessDenied("the requester is not a party to the requested record")
            found = [
                r for r in self.records
                if me in (r["sender"], r["receiver"]) and (not target or target in
                                                           (r["tx_hash"], me))
            ]  # fmt: skip
        self._next_nonce[me] = query.nonce + 1
        return found

    def _is_party(self, me: str, tx_hash: str) -> bool:
        return any(
            r["tx_hash"] == tx_hash and me in (r["sender"], r["receiver"]) for r in self.records
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chain.query RUN_DIR --seed S --label L [--trace TARGET | --tx HASH]``."""
    parser = argparse.ArgumentParser(prog="python -m chain.query", description=__doc__)
    parser.add_argument("run_dir")
    parser.add_argument("--seed", type=int, required=True, help="the run seed")
    parser.add_argument("--label", required=True, help="e.g. agent/5 or regulator/0")
    parser.add_argument("--trace", default=None, help="regulator: tx hash or account to trace")
    parser.add_argument("--tx", default="", help="user: one of its own transaction hashes")
    args = parser.parse_args(argv)
    identity = Identity.derive(args.seed, args.label)
    service = LedgerQuery.from_run(args.run_dir)
    if args.trace is not None:
        query = sign_query(identity, "trace", args.trace)
    else:
        query = sign_query(identity, "own", args.tx)
    try:
        records = service.answer(query)
    except QueryRejected as err:
        print(f"query refused: {err}", file=sys.stderr)
        return 2
    for record in records:
        print(json.dumps({k: record[k] for k in ("chain_id", "tx_hash", "sender", "receiver",
                                                 "amount", "kind", "block_height")},
                         default=int))  # fmt: skip
    print(f"{len(records)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
