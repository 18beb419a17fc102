"""Rebuild record objects and ledgers from an exported run.

The inverse of :mod:`chain.export`: it turns rows back into
:class:`~chain.block.Block` objects and replays them through
:meth:`~chain.ledger.Ledger.apply_block`. Tools use it to recover final
state; tests use it to cross-check :func:`chain.verify.verify_run`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from chain.authority import Registry
from chain.block import HEADER_FIELDS, Block, BlockHeader
from chain.certificate import Certificate, Vote
from chain.consensus_rules import block_hash_function
from chain.export import LEDGER_FORMAT, read_certificates, read_identities, read_ledger
from chain.genesis import Genesis
from chain.ledger import Ledger
from chain.transaction import TX_FIELDS, SignedTransaction, Transaction


def _records(frame: Any) -> Iterator[dict[str, Any]]:
    columns = list(frame.columns)
    for values in zip(*(frame[name].tolist() for name in columns), strict=True):
        yield dict(zip(columns, values, strict=True))


def load_certificates(run_dir: str | os.PathLike[str]) -> dict[tuple[str, int], Certificate]:
    """Certificates of an exported run by ``(chain_id, height)`` (votes in file order)."""
    votes: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in _records(read_certificates(run_dir)):
        votes.setdefault((row["chain_id"], row["height"]), []).append(row)
    return {
        key: Certificate(
            rows[0]["chain_id"],
            rows[0]["height"],
            rows[0]["block_hash"],
            rows[0]["phase"],
            rows[0]["view"],
            tuple(Vote(r["signer"], r["signature"]) for r in rows),
        )  # fmt: skip
        for key, rows in votes.items()
    }


def load_chains(run_dir: str | os.PathLike[str]) -> dict[str, tuple[Genesis, list[Block]]]:
    """Rebuild each chain's genesis and blocks from an exported run.

    Transactions are attached to blocks by ``(chain_id, block_height)`` in
    file order; nothing is validated beyond record construction. Headers are
    hashed with the genesis's ``block_hash_function``.

    Returns:
        Chain id -> ``(genesis, blocks in file order)``.

    Raises:
        ValueError: If the export is not ``gridledger-ledger/1`` or a row
            cannot form a valid record (e.g. a float or malformed key).
        FileNotFoundError: If a file is missing.
    """
    genesis_doc, block_frame, tx_frame = read_ledger(run_dir)
    if genesis_doc.get("format") != LEDGER_FORMAT:
        raise ValueError(f"genesis.json format is {genesis_doc.get('format')!r}")
    txs: dict[tuple[str, int], list[SignedTransaction]] = {}
    for row in _records(tx_frame):
        fields = {name: row[name] for name in TX_FIELDS}
        fields["payload"] = json.loads(row["payload"])
        stx = SignedTransaction(Transaction(**fields), row["tx_hash"], row["signature"])
        txs.setdefault((row["chain_id"], row["block_height"]), []).append(stx)
    chains = {
        chain_id: (Genesis.from_dict(genesis), [])
        for chain_id, genesis in genesis_doc["chains"].items()
    }
    for row in _records(block_frame):
        if row["chain_id"] not in chains:
            raise ValueError(f"block row for chain {row['chain_id']!r} without genesis")
        hash_function = block_hash_function(chains[row["chain_id"]][0])
        header = BlockHeader(
            **{name: row[name] for name in HEADER_FIELDS}, hash_function=hash_function
        )
        block = Block(
            header,
            row["block_hash"],
            row["proposer_signature"],
            tuple(txs.get((row["chain_id"], row["height"]), ())),
        )
        chains[row["chain_id"]][1].append(block)
    return chains


def load_registries(run_dir: str | os.PathLike[str]) -> dict[str, Registry]:
    """The certificate registries of an export (``identities.parquet``) by registry root.

    Raises:
        ValueError: If a certificate does not verify.
    """
    frame = read_identities(run_dir)
    by_authority: dict[str, list[dict[str, Any]]] = {}
    for row in _records(frame):
        by_authority.setdefault(row["ca_public_key"], []).append(row)
    registries = (Registry.from_rows(rows) for rows in by_authority.values())
    return {registry.root: registry for registry in registries}


def replay_run(run_dir: str | os.PathLike[str]) -> dict[str, Ledger]:
    """Replay every chain of an exported run through fresh ledgers.

    Returns:
        Chain id -> ledger holding the final state.

    Raises:
        LedgerError: The typed error of the first invalid block or transaction.
        ValueError: As :func:`load_chains`.
    """
    ledgers = {}
    certificates = load_certificates(run_dir)
    registries = load_registries(run_dir)
    for chain_id, (genesis, blocks) in load_chains(run_dir).items():
        registry = registries.get(genesis.params.get("registry_root"))
        ledger = Ledger(genesis, registry)
        for block in blocks:
            ledger.apply_block(block, certificate=certificates.get((chain_id, block.height)))
        ledgers[chain_id] = ledger
    return ledgers
