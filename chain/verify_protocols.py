"""Verifier checks of identities (``identities.parquet``) and DR messages (``dr_messages.parquet``).

Part of the independent verifier (:mod:`chain.verify`); like it, it uses no other
gridledger code than :mod:`chain.verify_base`. A genesis whose params name a
certificate authority (``ca_public_key``, ``registry_root``) requires the export's
certificates of that authority to verify, to hash to ``registry_root`` and to cover
every validator, block proposer and transaction sender. A genesis with
``dr_kinds`` requires one demand-response message (seed 001 Eqs 4.21-4.25) per
transaction of those kinds, all four signatures valid, the token fresh, used once
and matching the ledger (``docs/ledger-format.md``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from chain.verify_base import (
    Problems,
    canonical_or_none,
    is_hex,
    merkle_root,
    read_rows,
    sha256_hex,
    signature_ok,
)
from chain.verify_miner_set import all_miners

IDENTITIES_FILE = "identities.parquet"
DR_MESSAGES_FILE = "dr_messages.parquet"
CERT_FIELDS = (
    "node_id", "role", "entity", "public_key", "wallet", "wallet_random", "wallet_nonce",
    "issued_ms",
)  # fmt: skip
IDENTITY_COLUMNS = (*CERT_FIELDS, "signature", "ca_public_key")
TOKEN_FIELDS = (
    "chain_id", "ev", "sp", "payment", "amount", "credit", "verified", "pre_record",
    "timestamp_ms",
)  # fmt: skip
DR_COLUMNS = (
    *TOKEN_FIELDS, "ev_id", "wallet", "token_id", "request_signature", "token_signature",
    "dr_signature", "broadcast_signature",
)  # fmt: skip
NO_RECORD = "0" * 64


def _wallet(node_id: str, wallet_random: Any, wallet_nonce: Any) -> str | None:
    if not all(isinstance(v, int) and 0 <= v < 2**32 for v in (wallet_random, wallet_nonce)):
        return None
    inner = hashlib.sha256(node_id.encode("utf-8") + wallet_random.to_bytes(4, "big")).digest()
    return "W" + hashlib.sha1(inner + wallet_nonce.to_bytes(4, "big")).hexdigest()


def _registries(directory: Path, problems: Problems) -> dict[str, dict[str, Any]]:
    """Per authority key: ``root`` and ``by_key`` (public key -> row) of verified certificates."""
    path = directory / IDENTITIES_FILE
    if not path.is_file():
        return {}
    rows = read_rows(path, IDENTITY_COLUMNS, problems) or []
    registries: dict[str, dict[str, Any]] = {}
    for position, row in enumerate(rows):
        ca = row["ca_public_key"]
        registry = registries.setdefault(ca, {"leaves": [], "by_key": {}, "ids": set()})
        body = {name: row[name] for name in CERT_FIELDS}
        canonical = canonical_or_none(body)
        where = f"identities row {position} ({row['node_id']!r})"
        if canonical is None or not signature_ok(ca, row["signature"], canonical):
            problems.add(f"{where}: certificate signature does not verify for its authority")
            canonical = canonical or b""
        if not isinstance(row["node_id"], str) or row["wallet"] != _wallet(
            row["node_id"], row["wallet_random"], row["wallet_nonce"]
        ):
            problems.add(f"{where}: wallet is not the hash of its ID, random number and nonce")
        if row["public_key"] in registry["by_key"] or row["node_id"] in registry["ids"]:
            problems.add(f"{where}: key or node ID registered twice")
        registry["by_key"][row["public_key"]] = row
        registry["ids"].add(row["node_id"])
        leaf = hashlib.sha256(canonical + str(row["signature"]).encode()).hexdigest()
        registry["leaves"].append(leaf)
    for registry in registries.values():
        registry["root"] = merkle_root(registry["leaves"])
    return registries


def check_protocols(
    directory: Path,
    genesis_by_chain: dict[str, Any],
    block_rows: list[dict],
    tx_rows: list[dict],
    chains: dict[str, dict[str, Any]],
    problems: Problems,
) -> None:
    """Check identities and DR messages of every chain; add counters to ``chains``."""
    registries = _registries(directory, problems)
    dr_rows: list[dict] = []
    if (directory / DR_MESSAGES_FILE).is_file():
        dr_rows = read_rows(directory / DR_MESSAGES_FILE, DR_COLUMNS, problems) or []
    dr_by_chain: dict[Any, list[dict]] = {}
    for row in dr_rows:
        dr_by_chain.setdefault(row["chain_id"], []).append(row)
    for chain_id, genesis in genesis_by_chain.items():
        params = genesis.get("params") if isinstance(genesis, dict) else None
        if not isinstance(params, dict):
            continue
        txs = [row for row in tx_rows if row["chain_id"] == chain_id]
        blocks = [row for row in block_rows if row["chain_id"] == chain_id]
        registry = None
        if "registry_root" in params or "ca_public_key" in params:
            registry = _check_registry(chain_id, genesis, params, registries, blocks, txs, problems)
            if chain_id in chains and registry is not None:
                chains[chain_id]["registered_identities"] = len(registry["by_key"])
        messages = dr_by_chain.pop(chain_id, [])
        if "dr_kinds" in params:
            _check_dr(chain_id, params, registry, blocks, txs, messages, problems)
            if chain_id in chains:
                chains[chain_id]["dr_messages"] = len(messages)
        elif messages:
            problems.add(f"chain {chain_id!r}: DR messages but its genesis names no dr_kinds")
    for chain_id in dr_by_chain:
        problems.add(f"dr_messages: rows for unknown chain {chain_id!r}")


def _check_registry(
    chain_id: str,
    genesis: dict,
    params: dict,
    registries: dict[str, dict[str, Any]],
    blocks: list[dict],
    txs: list[dict],
    problems: Problems,
) -> dict[str, Any] | None:
    where = f"chain {chain_id!r}"
    registry = registries.get(params.get("ca_public_key"))
    if registry is None:
        problems.add(f"{where}: genesis names an authority but identities.parquet has none")
        return None
    if registry["root"] != params.get("registry_root"):
        problems.add(f"{where}: registry_root does not match the authority's certificates")
    by_key = registry["by_key"]
    for validator in genesis.get("validators") or []:
        if validator not in by_key:
            problems.add(f"{where} genesis: validator {str(validator)[:12]}… is not registered")
    for miner in sorted(all_miners(txs)):
        if miner not in by_key:
            problems.add(f"{where}: miner {str(miner)[:12]}… of a miner_set is not registered")
    for row in blocks:
        if row["proposer"] not in by_key:
            problems.add(f"{where} block {row['height']}: proposer is not registered")
    for row in txs:
        if row["sender"] not in by_key:
            problems.add(
                f"{where} block {row['block_height']} tx {row['index']}: sender "
                f"{str(row['sender'])[:12]}… is not registered"
            )
    return registry


def _token_bytes(kind: str, body: dict[str, Any]) -> bytes | None:
    return canonical_or_none({"dr": kind, **body})


def _check_dr(
    chain_id: str,
    params: dict,
    registry: dict[str, Any] | None,
    blocks: list[dict],
    txs: list[dict],
    messages: list[dict],
    problems: Problems,
) -> None:
    kinds = set(str(params.get("dr_kinds", "")).split(","))
    ttl = params.get("dr_token_ttl_ms")
    if not isinstance(ttl, int) or ttl <= 0:
        problems.add(f"chain {chain_id!r} genesis: dr_token_ttl_ms must be an int > 0")
        ttl = 0
    block_time = {row["height"]: row["timestamp_ms"] for row in blocks}
    by_hash = {row["tx_hash"]: row for row in txs}
    by_nonce = {(row["sender"], row["nonce"]): row["tx_hash"] for row in txs}
    covered: set[str] = set()
    tokens: set[str] = set()
    by_key = registry["by_key"] if registry is not None else {}
    for position, row in enumerate(messages):
        where = f"chain {chain_id!r} DR message {position}"
        token = {name: row[name] for name in TOKEN_FIELDS}
        token_canonical = _token_bytes("token", token)
        if token_canonical is None or sha256_hex(token_canonical) != row["token_id"]:
            problems.add(f"{where}: token_id is not the token's hash")
            continue
        if row["token_id"] in tokens:
            problems.add(f"{where}: token used twice (replay)")
        tokens.add(row["token_id"])
        cert = by_key.get(row["ev"])
        if registry is not None and (cert is None or row["sp"] not in by_key):
            problems.add(f"{where}: EV or SP is not registered")
        elif cert is not None and (cert["node_id"], cert["wallet"]) != (
            row["ev_id"],
            row["wallet"],
        ):
            problems.add(f"{where}: ev_id/wallet differ from the EV's certificate")
        request = {
            "ev_id": row["ev_id"], "wallet": row["wallet"], "credit": row["credit"],
            "sp": row["sp"], "payment": row["payment"],
        }  # fmt: skip
        dr = {"token": token_canonical.decode(), "sign": row["token_signature"]}
        dr_canonical = _token_bytes("message", dr) or b""
        broadcast = {"dr": dr_canonical.decode(), "sign_dr": row["dr_signature"]}
        for signer, column, data in (
            (row["ev"], "request_signature", _token_bytes("request", request)),
            (row["sp"], "token_signature", token_canonical),
            (row["ev"], "dr_signature", dr_canonical),
            (row["sp"], "broadcast_signature", _token_bytes("broadcast", broadcast)),
        ):
            if data is None or not signature_ok(signer, row[column], data):
                problems.add(f"{where}: {column} does not verify")
        tx = by_hash.get(row["payment"])
        if tx is None:
            problems.add(f"{where}: names a payment that is not in the ledger")
            continue
        if row["payment"] in covered:
            problems.add(f"{where}: second DR message for one payment")
        covered.add(row["payment"])
        if (tx["sender"], tx["receiver"], tx["amount"]) != (
            row["ev"],
            row["sp"],
            row["amount"],
        ) or tx["kind"] not in kinds:
            problems.add(f"{where}: token parties/amount/kind differ from the payment")
        nonce = tx["nonce"]
        previous = by_nonce.get((tx["sender"], nonce - 1)) if isinstance(nonce, int) else None
        expected = NO_RECORD if nonce == 0 else previous
        if row["pre_record"] != expected or not is_hex(row["pre_record"], 64):
            problems.add(f"{where}: pre_record is not the hash of the EV's previous transaction")
        credit = row["credit"]
        if row["verified"] != 1 or not isinstance(credit, int) or credit < tx["amount"]:
            problems.add(f"{where}: token not verified or credit below the payment")
        issued, stamped = row["timestamp_ms"], tx["timestamp_ms"]
        sealed = block_time.get(tx["block_height"])
        if not (
            isinstance(issued, int)
            and stamped <= issued <= stamped + ttl
            and (sealed is None or issued <= sealed)
        ):
            problems.add(f"{where}: token timestamp is stale or after the payment's block")
    for row in txs:
        if row["kind"] in kinds and row["tx_hash"] not in covered:
            problems.add(
                f"chain {chain_id!r} block {row['block_height']} tx {row['index']}: "
                f"{row['kind']} without a DR message"
            )
