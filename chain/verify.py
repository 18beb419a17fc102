"""Independent verifier for exported ledgers (format ``gridledger-ledger/1``).

This is a second implementation of the ledger rules, deliberately written
without any other gridledger module (only its own helpers
:mod:`chain.verify_base` and :mod:`chain.verify_consensus`): it works on the
raw rows with ``hashlib``, ``json``, ``cryptography`` and ``pyarrow`` only, so
it cross-checks the simulator and serves as the reference for third parties
re-verifying a run (see ``docs/ledger-format.md``).

It reports problems instead of raising, continuing after each one with the
values the file claims, so one tampered field yields a short, precise list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chain.verify_base import (
    Problems,
    canonical_or_none,
    digest_hex,
    has_float,
    is_hex,
    is_name,
    is_uint,
    leading_zero_bits,
    merkle_root,
    parse_json,
    read_rows,
    sha256_hex,
    signature_ok,
    split_by_chain,
)
from chain.verify_consensus import (
    CERT_COLUMNS,
    ConsensusRules,
    check_consensus,
    group_certificates,
    rules_from_genesis,
)
from chain.verify_layout import LAYOUT_FILE, verify_layout
from chain.verify_miner_set import miner_sets_of_block
from chain.verify_netting import check_net_settlement
from chain.verify_protocols import check_protocols

LEDGER_FORMAT = "gridledger-ledger/1"
REQUIRED_FILES = ("genesis.json", "blocks.parquet", "transactions.parquet")
HEADER_FIELDS = (
    "chain_id", "height", "prev_hash", "merkle_root", "timestamp_ms",
    "proposer", "consensus", "nonce", "difficulty_bits",
)  # fmt: skip
BLOCK_COLUMNS = (*HEADER_FIELDS, "block_hash", "proposer_signature", "n_tx")
TX_FIELDS = (
    "chain_id", "sender", "receiver", "amount", "nonce", "kind", "payload", "timestamp_ms",
)  # fmt: skip
TX_COLUMNS = (*TX_FIELDS, "tx_hash", "signature", "block_height", "index")
CERTIFICATES_FILE = "certificates.parquet"


class NotARunDirectory(Exception):
    """The path is not a directory holding a ``gridledger-ledger/1`` export."""


@dataclass
class VerificationReport:
    """Outcome of :func:`verify_run`.

    Attributes:
        ok: True if no problem was found.
        problems: The first problems (at most ``max_problems``), each naming
            the chain, the block height or transaction, and the rule.
        chains: Per chain id: ``blocks``, ``transactions``, ``head_hash``,
            ``genesis_hash``, ``total_supply``, ``consensus``,
            ``block_hash_function`` and counters such as ``certificates``,
            ``in_turn_blocks`` and ``out_of_turn_blocks``.
        n_problems: Total number of problems found (may exceed ``len(problems)``).
        layout: For a run with ``layout.json``: the layout name and its checks'
            counts (cross-area payments by status, checkpoints); empty otherwise.
        settlement: For a run with net settlement: ``windows`` and
            ``net_transactions`` checked against ``trades.parquet``; empty otherwise.
    """

    ok: bool
    problems: list[str]
    chains: dict[str, dict[str, Any]]
    n_problems: int = 0
    layout: dict[str, Any] = field(default_factory=dict)
    settlement: dict[str, Any] = field(default_factory=dict)


def _load_genesis_doc(directory: Path) -> dict[str, Any]:
    try:
        doc = json.loads((directory / "genesis.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotARunDirectory(
            f"{directory / 'genesis.json'} is not readable JSON ({err})"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != LEDGER_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise NotARunDirectory(
            f"{directory / 'genesis.json'} has format {found!r}, expected {LEDGER_FORMAT!r}"
        )
    return doc


def verify_run(run_dir: str | os.PathLike[str], max_problems: int = 20) -> VerificationReport:
    """Re-verify every chain of an exported run from its files alone.

    Args:
        run_dir: Directory with ``genesis.json``, ``blocks.parquet`` and
            ``transactions.parquet`` (and optionally ``summary.json``).
        max_problems: How many problem messages to keep.

    Returns:
        The verification report.

    Raises:
        NotARunDirectory: If the directory or a required file is missing, or
            ``genesis.json`` is not a ``gridledger-ledger/1`` document.
    """
    directory = Path(run_dir)
    if not directory.is_dir():
        raise NotARunDirectory(f"{directory} is not a directory")
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise NotARunDirectory(f"{directory} has no {', '.join(missing)}")
    doc = _load_genesis_doc(directory)
    problems = Problems(max_problems)
    block_rows = read_rows(directory / "blocks.parquet", BLOCK_COLUMNS, problems)
    tx_rows = read_rows(directory / "transactions.parquet", TX_COLUMNS, problems)
    cert_rows: list[dict] | None = []
    if (directory / CERTIFICATES_FILE).is_file():
        cert_rows = read_rows(directory / CERTIFICATES_FILE, CERT_COLUMNS, problems)
    chains: dict[str, dict[str, Any]] = {}
    layout: dict[str, Any] = {}
    settlement: dict[str, Any] = {}
    if block_rows is not None and tx_rows is not None and cert_rows is not None:
        chains = _verify_rows(doc, block_rows, tx_rows, cert_rows, problems)
        genesis_by_chain = doc.get("chains") if isinstance(doc, dict) else None
        if isinstance(genesis_by_chain, dict):
            check_protocols(directory, genesis_by_chain, block_rows, tx_rows, chains, problems)
        _check_summary(directory, chains, problems)
        settlement = check_net_settlement(directory, tx_rows, problems)
        if (directory / LAYOUT_FILE).is_file():
            layout = verify_layout(
                directory,
                _load_manifest(directory, problems),
                list(genesis_by_chain) if isinstance(genesis_by_chain, dict) else [],
                split_by_chain(block_rows),
                split_by_chain(tx_rows),
                problems,
            )
    return VerificationReport(
        ok=problems.count == 0,
        problems=problems.items,
        chains=chains,
        n_problems=problems.count,
        layout=layout,
        settlement=settlement,
    )


def _load_manifest(directory: Path, problems: Problems) -> Any:
    try:
        return json.loads((directory / LAYOUT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.add(f"{LAYOUT_FILE}: not readable JSON ({err})")
        return None


def verify_rows(
    genesis_doc: Any,
    block_rows: list[dict],
    tx_rows: list[dict],
    cert_rows: list[dict],
    max_problems: int = 20,
    summary: Any = None,
) -> VerificationReport:
    """Verify an export already in memory: the same checks as :func:`verify_run`.

    Args:
        genesis_doc: The parsed ``genesis.json`` (its ``chains`` object is used).
        block_rows: Rows of ``blocks.parquet`` as dicts of its columns, in file order.
        tx_rows: Rows of ``transactions.parquet``, likewise.
        cert_rows: Rows of ``certificates.parquet``, likewise (empty if none).
        max_problems: How many problem messages to keep.
        summary: The parsed ``summary.json``, if any: its ``ledger_head`` must name
            each chain's last block (the only check that notices trailing blocks cut
            off, since a shorter chain is itself a valid chain).
    """
    problems = Problems(max_problems)
    chains = _verify_rows(genesis_doc, block_rows, tx_rows, cert_rows, problems)
    if summary is not None:
        _check_heads(summary, chains, problems)
    return VerificationReport(
        ok=problems.count == 0, problems=problems.items, chains=chains, n_problems=problems.count
    )


def _verify_rows(
    doc: Any,
    block_rows: list[dict],
    tx_rows: list[dict],
    cert_rows: list[dict],
    problems: Problems,
) -> dict[str, dict[str, Any]]:
    genesis_by_chain = doc.get("chains") if isinstance(doc, dict) else None
    if not isinstance(genesis_by_chain, dict):
        problems.add("genesis.json: 'chains' is not an object")
        genesis_by_chain = {}
    chains: dict[str, dict[str, Any]] = {}
    block_rows = _scalar_rows("block", block_rows, problems)
    tx_rows = _scalar_rows("transaction", tx_rows, problems)
    cert_rows = _scalar_rows("certificate", cert_rows, problems)
    certificates = group_certificates(cert_rows, problems)
    for kind, rows in (
        ("block", block_rows),
        ("transaction", tx_rows),
        ("certificate", cert_rows),
    ):
        for position, row in enumerate(rows):
            if row["chain_id"] not in genesis_by_chain:
                problems.add(f"{kind} row {position}: chain_id {row['chain_id']!r} has no genesis")
    blocks_by_chain = split_by_chain(block_rows)
    txs_by_chain = split_by_chain(tx_rows)
    for chain_id, genesis in genesis_by_chain.items():
        chains[chain_id] = _verify_chain(
            chain_id,
            genesis,
            blocks_by_chain.get(chain_id, []),
            txs_by_chain.get(chain_id, []),
            certificates,
            problems,
        )
    for chain_id, height in sorted(certificates, key=str):
        problems.add(f"certificates: rows for chain {chain_id!r} height {height!r} name no block")
    return chains


def _scalar_rows(kind: str, rows: list[dict], problems: Problems) -> list[dict]:
    """Rows whose every value is a scalar.

    A list or map (a file written with another schema) is reported and replaced by its
    text, so the checks can go on with the values the file claims.
    """
    out = []
    for position, row in enumerate(rows):
        bad = [name for name, value in row.items() if isinstance(value, (list, dict))]
        if bad:
            problems.add(f"{kind} row {position}: {', '.join(bad)} must be scalar values")
            row = {name: repr(v) if name in bad else v for name, v in row.items()}
        out.append(row)
    return out


def _check_genesis(
    chain_id: str, genesis: Any, problems: Problems
) -> tuple[str, dict, ConsensusRules]:
    """Validate a genesis object; return (hash, balances, consensus rules)."""
    where = f"chain {chain_id!r} genesis"
    if not isinstance(genesis, dict):
        problems.add(f"{where}: not an object")
        return "", {}, ConsensusRules("", [], {})
    for name in ("chain_id", "consensus", "balances", "validators", "params"):
        if name not in genesis:
            problems.add(f"{where}: missing field {name!r}")
    if genesis.get("chain_id") != chain_id:
        problems.add(f"{where}: chain_id is {genesis.get('chain_id')!r}")
    consensus = genesis.get("consensus")
    if not is_name(consensus):
        problems.add(f"{where}: consensus is not a non-empty string")
        consensus = ""
    balances = genesis.get("balances")
    if not isinstance(balances, dict):
        balances = {}
    for account, amount in balances.items():
        if not is_hex(account, 64) or not is_uint(amount):
            problems.add(f"{where}: balance {account!r}: {amount!r} is not key -> int >= 0")
    validators = genesis.get("validators")
    if (
        not isinstance(validators, list)
        or not all(is_hex(v, 64) for v in validators)
        or len(set(validators)) != len(validators)
    ):
        problems.add(f"{where}: validators is not a list of distinct 64-hex public keys")
        validators = []
    params = genesis.get("params")
    if not isinstance(params, dict) or not all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
        for v in params.values()
    ):
        problems.add(f"{where}: params must map to integers or strings")
    rules = rules_from_genesis(where, consensus, validators, params, problems)
    canonical = None if has_float(genesis) else canonical_or_none(genesis)
    if canonical is None:
        problems.add(f"{where}: not canonically encodable (floats are not allowed)")
        return "", {}, rules
    clean = {a: v for a, v in balances.items() if is_uint(v)}
    return sha256_hex(canonical), clean, rules


def _group_transactions(
    chain_id: str, tx_rows: list[dict], problems: Problems
) -> dict[int, list[dict]]:
    """Group rows by block height, requiring file order (height, index) with no repeats."""
    by_height: dict[int, list[dict]] = {}
    previous: tuple[int, int] | None = None
    for row in tx_rows:
        height, index = row["block_height"], row["index"]
        if not (is_uint(height) and is_uint(index)):
            problems.add(f"chain {chain_id!r} tx {row['tx_hash']!r}: bad block_height/index")
            continue
        if previous is not None and (height, index) <= previous:
            problems.add(
                f"chain {chain_id!r} tx at height {height} index {index}: rows must be sorted "
                f"by (block_height, index) without repeats; follows {previous}"
            )
        previous = (height, index)
        by_height.setdefault(height, []).append(row)
    return by_height


def _verify_chain(
    chain_id: str,
    genesis: Any,
    block_rows: list[dict],
    tx_rows: list[dict],
    certificates: dict[tuple[Any, Any], list[dict]],
    problems: Problems,
) -> dict[str, Any]:
    genesis_hash, genesis_balances, rules = _check_genesis(chain_id, genesis, problems)
    balances = dict(genesis_balances)
    nonces: dict[str, int] = {}
    txs_by_height = _group_transactions(chain_id, tx_rows, problems)
    prev_hash, prev_timestamp, expected_height = genesis_hash, 0, 1
    for row in block_rows:
        height = row["height"]
        where = f"chain {chain_id!r} block {height}"
        if height != expected_height:
            problems.add(f"{where}: height is not consecutive (expected {expected_height})")
        expected_height = height + 1 if is_uint(height) else expected_height + 1
        txs = txs_by_height.pop(height, []) if is_uint(height) else []
        _check_block(row, where, prev_hash, prev_timestamp, rules, problems)
        check_consensus(
            rules, row, where, prev_timestamp, txs, certificates.pop((chain_id, height), None),
            problems,
        )  # fmt: skip
        if row["n_tx"] != len(txs):
            problems.add(f"{where}: n_tx is {row['n_tx']!r} but {len(txs)} transactions listed")
        if [tx["index"] for tx in txs] != list(range(len(txs))):
            problems.add(f"{where}: transaction indices are not 0..{len(txs) - 1}")
        if merkle_root([tx["tx_hash"] for tx in txs]) != row["merkle_root"]:
            problems.add(f"{where}: merkle_root does not match the listed tx hashes")
        for tx in txs:
            _apply_transaction(tx, chain_id, balances, nonces, problems)
        # Proof of work: a miner_set record replaces the miners from the next block on.
        for miners in miner_sets_of_block(txs, rules.consensus, rules.params, where, problems):
            rules.validators = miners
            rules.count("miner_set_changes")
        prev_hash, prev_timestamp = row["block_hash"], row["timestamp_ms"]
    for height in txs_by_height:
        problems.add(f"chain {chain_id!r}: transactions reference missing block {height}")
    supply, genesis_supply = sum(balances.values()), sum(genesis_balances.values())
    if supply != genesis_supply:
        problems.add(
            f"chain {chain_id!r}: total supply {supply} != genesis supply {genesis_supply}"
        )
    return {
        "blocks": len(block_rows),
        "transactions": len(tx_rows),
        "head_hash": prev_hash,
        "genesis_hash": genesis_hash,
        "total_supply": supply,
        "consensus": rules.consensus,
        "block_hash_function": rules.hash_function,
        **rules.counts,
    }


def _check_block(
    row: dict,
    where: str,
    prev_hash: str,
    prev_timestamp: Any,
    rules: ConsensusRules,
    problems: Problems,
) -> None:
    header = {name: row[name] for name in HEADER_FIELDS}
    for name in ("height", "timestamp_ms", "nonce", "difficulty_bits", "n_tx"):
        if not is_uint(row[name]):
            problems.add(f"{where}: {name} {row[name]!r} is not an int >= 0")
    if row["prev_hash"] != prev_hash:
        problems.add(f"{where}: prev_hash does not link to the previous block/genesis")
    if row["consensus"] != rules.consensus:
        problems.add(
            f"{where}: consensus {row['consensus']!r} differs from genesis {rules.consensus!r}"
        )
    if (
        is_uint(row["timestamp_ms"])
        and is_uint(prev_timestamp)
        and row["timestamp_ms"] < prev_timestamp
    ):
        problems.add(f"{where}: timestamp_ms {row['timestamp_ms']} < parent's {prev_timestamp}")
    canonical = canonical_or_none(header)
    if canonical is None:
        problems.add(f"{where}: header is not canonically encodable")
        return
    block_hash = digest_hex(rules.hash_function, canonical)
    if row["block_hash"] != block_hash:
        problems.add(f"{where}: block_hash does not match the header (computed {block_hash})")
    bits = row["difficulty_bits"]
    if is_uint(bits) and leading_zero_bits(block_hash) < bits:
        problems.add(f"{where}: block hash has fewer than difficulty_bits={bits} leading zero bits")
    if not signature_ok(row["proposer"], row["proposer_signature"], canonical):
        problems.add(f"{where}: proposer_signature does not verify")


def _apply_transaction(
    row: dict,
    chain_id: str,
    balances: dict[str, int],
    nonces: dict[str, int],
    problems: Problems,
) -> None:
    where = f"chain {chain_id!r} block {row['block_height']} tx {row['index']}"
    sender, receiver, amount, nonce = row["sender"], row["receiver"], row["amount"], row["nonce"]
    fields_ok = True
    if not (is_hex(sender, 64) and is_hex(receiver, 64)):
        problems.add(f"{where}: sender/receiver are not 64-hex public keys")
        fields_ok = False
    for name in ("amount", "nonce", "timestamp_ms"):
        if not is_uint(row[name]):
            problems.add(f"{where}: {name} {row[name]!r} is not an int >= 0")
            fields_ok = False
    if not is_name(row["kind"]):
        problems.add(f"{where}: kind is not a non-empty string")
    payload_text = row["payload"]
    payload = parse_json(payload_text)
    if not isinstance(payload, dict) or canonical_or_none(payload) != payload_text.encode():
        problems.add(f"{where}: payload is not a canonical JSON object without floats")
    body = {name: row[name] for name in TX_FIELDS}
    body["payload"] = payload
    canonical = canonical_or_none(body)
    if canonical is None or sha256_hex(canonical) != row["tx_hash"]:
        problems.add(f"{where}: tx_hash does not match the transaction fields")
    if canonical is None or not signature_ok(sender, row["signature"], canonical):
        problems.add(f"{where}: signature does not verify for the sender")
    if not fields_ok:
        return
    expected = nonces.get(sender, 0)
    if nonce != expected:
        problems.add(f"{where}: nonce {nonce} for sender {sender[:12]}… expected {expected}")
    nonces[sender] = nonce + 1
    if amount > balances.get(sender, 0):
        problems.add(
            f"{where}: overdraft: amount {amount} > balance {balances.get(sender, 0)} of sender"
        )
        return
    balances[sender] = balances.get(sender, 0) - amount
    balances[receiver] = balances.get(receiver, 0) + amount


def _check_summary(directory: Path, chains: Mapping[str, dict], problems: Problems) -> None:
    path = directory / "summary.json"
    if not path.is_file():
        return
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.add(f"summary.json: not readable JSON ({err})")
        return
    _check_heads(summary, chains, problems)


def _check_heads(summary: Any, chains: Mapping[str, dict], problems: Problems) -> None:
    if not isinstance(summary, dict) or "ledger_head" not in summary:
        return
    heads = summary["ledger_head"]
    if not isinstance(heads, dict):
        problems.add("summary.json: ledger_head is not an object")
        return
    for chain_id, info in chains.items():
        if chain_id not in heads:
            problems.add(f"summary.json: ledger_head has no entry for chain {chain_id!r}")
        elif heads[chain_id] != info["head_hash"]:
            problems.add(
                f"summary.json: ledger_head of chain {chain_id!r} is {heads[chain_id]!r}, "
                f"the ledger's head is {info['head_hash']!r}"
            )
    for chain_id in heads:
        if chain_id not in chains:
            problems.add(f"summary.json: ledger_head names unknown chain {chain_id!r}")
