"""Independent checks of a multi-chain export: manifest, cross-shard atomicity, checkpoints.

See ``docs/ledger-format.md`` sections 13-15.

Part of :mod:`chain.verify`; like it, this module uses no other gridledger code
(only :mod:`chain.verify_base`), so a third party can re-implement it from the
format document. It runs after every chain has been verified on its own, on the
same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chain.verify_base import Problems, is_hex, is_uint, parse_json, read_rows

LAYOUT_FORMAT = "gridledger-layout/1"
LAYOUT_FILE = "layout.json"
CROSS_FILE = "cross_shard.parquet"
CROSS_COLUMNS = (
    "trade_id", "mode", "source_chain", "target_chain", "payer", "payee", "amount",
    "lock_tx", "credit_tx", "refund_tx", "status", "submitted_ms", "decided_ms",
)  # fmt: skip
ROLES = {
    "single": {"main"},
    "sharded": {"shard"},
    "two_layer": {"alliance", "beacon"},
    "dual": {"letb", "retb"},
}
CHECKPOINT_FIELDS = ("chain_id", "height", "block_hash", "prev_hash", "merkle_root", "timestamp_ms")


def verify_layout(
    directory: Path,
    manifest: Any,
    genesis_ids: list[str],
    blocks_by_chain: dict[Any, list[dict]],
    txs_by_chain: dict[Any, list[dict]],
    problems: Problems,
) -> dict[str, Any]:
    """Check a layout manifest against the verified chains; return a short report."""
    if not isinstance(manifest, dict) or manifest.get("format") != LAYOUT_FORMAT:
        problems.add(f"{LAYOUT_FILE}: format is not {LAYOUT_FORMAT!r}")
        return {}
    layout = manifest.get("layout")
    if layout not in ROLES:
        problems.add(f"{LAYOUT_FILE}: unknown layout {layout!r}")
        return {}
    entries = manifest.get("chains")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.add(f"{LAYOUT_FILE}: chains is not a list of objects")
        return {}
    roles = {e.get("chain_id"): e.get("role") for e in entries}
    if len(roles) != len(entries) or set(roles) != set(genesis_ids):
        problems.add(
            f"{LAYOUT_FILE}: chains {sorted(map(str, roles))} are not the exported chains "
            f"{sorted(genesis_ids)}"
        )
    for chain_id, role in roles.items():
        if role not in ROLES[layout]:
            problems.add(f"{LAYOUT_FILE}: chain {chain_id!r} has role {role!r} in a {layout} run")
    report: dict[str, Any] = {"layout": layout, "chains": len(entries)}
    if layout == "dual" and sorted(map(str, roles.values())) != ["letb", "retb"]:
        problems.add(f"{LAYOUT_FILE}: a dual run has exactly one letb and one retb chain")
    if layout in ("sharded", "two_layer"):
        shards = {e.get("chain_id"): e for e in entries if e.get("role") in ("shard", "alliance")}
        report.update(_verify_cross(directory, shards, txs_by_chain, problems))
    if layout == "two_layer":
        beacon = manifest.get("beacon")
        if roles.get(beacon) != "beacon":
            problems.add(f"{LAYOUT_FILE}: beacon {beacon!r} is not a chain with role beacon")
        else:
            alliances = [cid for cid, role in roles.items() if role == "alliance"]
            report["checkpoints"] = _verify_checkpoints(
                beacon, alliances, blocks_by_chain, txs_by_chain, problems
            )
    return report


def _verify_cross(
    directory: Path,
    shards: dict[Any, dict],
    txs_by_chain: dict[Any, list[dict]],
    problems: Problems,
) -> dict[str, Any]:
    """Every cross-area payment is in both shards (lock + credit) or in neither."""
    escrow = {}
    for chain_id, entry in shards.items():
        if not is_hex(entry.get("escrow"), 64):
            problems.add(f"{LAYOUT_FILE}: shard {chain_id!r} has no 64-hex escrow key")
        escrow[chain_id] = entry.get("escrow")
    path = directory / CROSS_FILE
    if not path.is_file():
        problems.add(f"{CROSS_FILE}: missing (required by a sharded or two_layer run)")
        return {}
    rows = read_rows(path, CROSS_COLUMNS, problems)
    if rows is None:
        return {}
    index = {
        chain_id: {tx["tx_hash"]: tx for tx in txs_by_chain.get(chain_id, [])}
        for chain_id in shards
    }
    claimed: dict[tuple[Any, Any], int] = {}
    counts = {"committed": 0, "aborted": 0}
    for position, row in enumerate(rows):
        where = f"{CROSS_FILE} row {position} (trade {row['trade_id']})"
        source, target = row["source_chain"], row["target_chain"]
        if source not in shards or target not in shards or source == target:
            problems.add(f"{where}: source/target are not two different shards")
            continue
        status = row["status"]
        if status not in counts:
            problems.add(f"{where}: status {status!r} is not committed or aborted")
            continue
        counts[status] += 1
        legs = {
            "lock": (source, row["lock_tx"], row["payer"], escrow[source], None),
            "credit": (target, row["credit_tx"], escrow[target], row["payee"], "cross_credit"),
            "refund": (source, row["refund_tx"], escrow[source], row["payer"], "cross_refund"),
        }
        wanted = {
            "committed": ("lock", "credit"),
            "aborted": ("lock", "refund"),
        }[status]
        for leg, (chain_id, tx_hash, sender, receiver, kind) in legs.items():
            tx = index[chain_id].get(tx_hash) if tx_hash else None
            if leg not in wanted:
                if tx is not None or tx_hash:
                    problems.add(f"{where}: {status} payment has a {leg} leg")
                continue
            if tx is None:
                problems.add(f"{where}: {status} payment's {leg} leg is not in {chain_id!r}")
                continue
            claimed[(chain_id, tx_hash)] = claimed.get((chain_id, tx_hash), 0) + 1
            if (tx["sender"], tx["receiver"], tx["amount"]) != (sender, receiver, row["amount"]):
                problems.add(f"{where}: {leg} leg does not move {row['amount']} to the right party")
            if kind is not None:
                payload = parse_json(tx["payload"])
                if (
                    tx["kind"] != kind
                    or not isinstance(payload, dict)
                    or payload.get("lock_tx") != row["lock_tx"]
                ):
                    problems.add(f"{where}: {leg} leg does not name the lock {row['lock_tx']!r}")
        if not is_uint(row["amount"]):
            problems.add(f"{where}: amount is not an int >= 0")
    for chain_id in shards:
        key = escrow[chain_id]
        for tx in txs_by_chain.get(chain_id, []):
            moves_escrow = key in (tx["sender"], tx["receiver"])
            if moves_escrow and claimed.get((chain_id, tx["tx_hash"]), 0) != 1:
                problems.add(
                    f"chain {chain_id!r} tx {tx['tx_hash']!r}: escrow transfer is not exactly one "
                    f"leg of one cross-area payment"
                )
    return {f"cross_{status}": count for status, count in counts.items()}


def _verify_checkpoints(
    beacon: Any,
    alliances: list[Any],
    blocks_by_chain: dict[Any, list[dict]],
    txs_by_chain: dict[Any, list[dict]],
    problems: Problems,
) -> int:
    """Each alliance block has exactly one matching checkpoint on the beacon, by its proposer."""
    beacon_time = {row["height"]: row["timestamp_ms"] for row in blocks_by_chain.get(beacon, [])}
    found: dict[tuple[Any, Any], dict] = {}
    for tx in txs_by_chain.get(beacon, []):
        where = f"chain {beacon!r} block {tx['block_height']} tx {tx['index']}"
        payload = parse_json(tx["payload"])
        if tx["kind"] != "checkpoint" or not isinstance(payload, dict):
            problems.add(f"{where}: the beacon holds only checkpoint transactions")
            continue
        key = (payload.get("chain_id"), payload.get("height"))
        if key in found:
            problems.add(f"{where}: second checkpoint of {key}")
        found[key] = {**payload, "_tx": tx}
    for chain_id in alliances:
        for row in blocks_by_chain.get(chain_id, []):
            where = f"chain {chain_id!r} block {row['height']}"
            checkpoint = found.pop((chain_id, row["height"]), None)
            if checkpoint is None:
                problems.add(f"{where}: no checkpoint on the beacon chain")
                continue
            if any(checkpoint.get(name) != row[name] for name in CHECKPOINT_FIELDS):
                problems.add(f"{where}: beacon checkpoint does not match the block header")
            tx = checkpoint["_tx"]
            if tx["sender"] != row["proposer"]:
                problems.add(f"{where}: checkpoint is not signed by the block's proposer")
            sealed = beacon_time.get(tx["block_height"])
            if is_uint(sealed) and is_uint(row["timestamp_ms"]) and sealed < row["timestamp_ms"]:
                problems.add(f"{where}: checkpointed in a beacon block older than the block")
    for chain_id, height in found:
        problems.add(f"chain {beacon!r}: checkpoint of {chain_id!r} height {height!r} has no block")
    return sum(len(blocks_by_chain.get(cid, [])) for cid in alliances)
