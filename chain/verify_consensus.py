"""Consensus rules of the independent verifier (``docs/ledger-format.md`` section 8).

Part of :mod:`chain.verify`: a second implementation, from the format spec, of
what :mod:`chain.consensus_rules` enforces in the simulator: proposers, the
Clique timing and recent-signer rules, proof-of-work difficulty, and the
certificates of PBFT, hybrid and proof-of-work blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chain.verify_base import (
    BLOCK_HASH_HEX_CHARS,
    Problems,
    canonical_or_none,
    is_hex,
    is_uint,
    signature_ok,
)

CONSENSUS_NAMES = ("poa", "pow", "pbft", "hybrid", "central")
CERTIFICATE_PHASE = {"pow": "agree", "pbft": "commit", "hybrid": "commit"}
CERT_COLUMNS = ("chain_id", "height", "block_hash", "phase", "view", "signer", "signature")


def quorum(n: int) -> int:
    """``ceil((n + f + 1) / 2)`` with ``f = floor((n - 1) / 3)``: ``2f + 1`` when ``n = 3f + 1``."""
    f = max(n - 1, 0) // 3
    return (n + f) // 2 + 1


@dataclass
class ConsensusRules:
    """A chain's consensus rules, read from its genesis, and what the walk has seen.

    Attributes:
        consensus: Protocol name.
        validators: Genesis validators in order.
        params: Genesis params.
        hash_function: Block hash function (``sha256`` unless declared).
        proposers: Proposer of each block checked so far.
        counts: Informative counters (in-turn / out-of-turn PoA blocks, certificates).
    """

    consensus: str
    validators: list[str]
    params: dict[str, Any]
    hash_function: str = "sha256"
    proposers: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> None:
        """Increase an informative counter."""
        self.counts[key] = self.counts.get(key, 0) + 1


def _int_param(params: dict, name: str, where: str, problems: Problems) -> int:
    value = params.get(name)
    if not is_uint(value):
        problems.add(f"{where}: params.{name} must be an int >= 0 (got {value!r})")
        return 0
    return value  # type: ignore[return-value]


def rules_from_genesis(
    where: str, consensus: str, validators: list[str], params: Any, problems: Problems
) -> ConsensusRules:
    """Read the consensus rules of a genesis, reporting missing or bad parameters."""
    params = params if isinstance(params, dict) else {}
    rules = ConsensusRules(consensus, list(validators), params)
    if consensus not in CONSENSUS_NAMES:
        problems.add(f"{where}: unknown consensus {consensus!r} (known: {CONSENSUS_NAMES})")
    hash_function = params.get("block_hash_function", "sha256")
    if not isinstance(hash_function, str) or hash_function not in BLOCK_HASH_HEX_CHARS:
        problems.add(f"{where}: block_hash_function {hash_function!r} is not sha256 or sha1")
        hash_function = "sha256"
    rules.hash_function = hash_function
    if consensus == "poa":
        _int_param(params, "block_period_ms", where, problems)
    elif consensus == "pow":
        _int_param(params, "difficulty_bits", where, problems)
    elif consensus == "hybrid":
        _int_param(params, "n_areas", where, problems)
        if _areas(params, len(rules.validators)) is None:
            problems.add(
                f"{where}: params.validator_areas must list one area id per validator "
                f"(comma separated, -1 for none)"
            )
    if consensus in ("poa", "pow", "pbft", "hybrid", "central") and not rules.validators:
        problems.add(f"{where}: {consensus} needs at least one validator")
    return rules


def _areas(params: dict, n: int) -> list[int] | None:
    text = params.get("validator_areas")
    if not isinstance(text, str):
        return None
    try:
        areas = [int(part) for part in text.split(",")] if text else []
    except ValueError:
        return None
    return areas if len(areas) == n and all(a >= -1 for a in areas) else None


def check_consensus(
    rules: ConsensusRules,
    row: dict,
    where: str,
    parent_timestamp: Any,
    txs: list[dict],
    cert_rows: list[dict] | None,
    problems: Problems,
) -> None:
    """Check one block row against its chain's consensus rules (rules 5, 8, 15-19)."""
    consensus, validators, params = rules.consensus, rules.validators, rules.params
    proposer = row["proposer"]
    if proposer not in validators:
        problems.add(f"{where}: proposer {proposer!r} is not a validator")
    stamp = row["timestamp_ms"]
    if is_uint(stamp) and any(
        is_uint(t["timestamp_ms"]) and t["timestamp_ms"] > stamp for t in txs
    ):
        problems.add(f"{where}: a transaction is stamped after the block's timestamp_ms")
    bits = row["difficulty_bits"]
    required = params.get("difficulty_bits", 0) if consensus == "pow" else 0
    if bits != required:
        problems.add(f"{where}: difficulty_bits {bits!r} must be {required!r} for {consensus}")
    if consensus == "poa":
        _check_clique(rules, row, where, parent_timestamp, problems)
    elif consensus == "central" and validators and proposer != validators[0]:
        problems.add(f"{where}: proposer is not the central operator validators[0]")
    elif consensus == "hybrid":
        areas = _areas(params, len(validators)) or []
        index = validators.index(proposer) if proposer in validators else -1
        if index < 0 or index >= len(areas) or areas[index] < 0:
            problems.add(f"{where}: proposer is in no station area, so not a bookkeeper")
    rules.proposers.append(proposer)
    phase = CERTIFICATE_PHASE.get(consensus)
    if phase is not None:
        _check_certificate(rules, row, where, phase, cert_rows or [], problems)
    elif cert_rows:
        problems.add(f"{where}: {consensus} blocks carry no certificate, but rows name this block")


def _check_clique(
    rules: ConsensusRules, row: dict, where: str, parent_timestamp: Any, problems: Problems
) -> None:
    validators = rules.validators
    period = rules.params.get("block_period_ms")
    stamp = row["timestamp_ms"]
    if is_uint(period) and is_uint(stamp) and is_uint(parent_timestamp):
        if stamp < parent_timestamp + period:
            problems.add(
                f"{where}: timestamp_ms {stamp} is less than block_period_ms after the parent's "
                f"{parent_timestamp}"
            )
    recent = len(validators) // 2
    if recent and row["proposer"] in rules.proposers[-recent:]:
        problems.add(
            f"{where}: sealer also sealed one of the previous {recent} blocks (Clique allows one "
            f"block in {recent + 1})"
        )
    height = row["height"]
    if validators and is_uint(height) and height >= 1:
        in_turn = row["proposer"] == validators[(height - 1) % len(validators)]
        rules.count("in_turn_blocks" if in_turn else "out_of_turn_blocks")


def _check_certificate(
    rules: ConsensusRules,
    row: dict,
    where: str,
    phase: str,
    cert_rows: list[dict],
    problems: Problems,
) -> None:
    if not cert_rows:
        problems.add(f"{where}: no {phase} certificate")
        return
    rules.count("certificates")
    validators = rules.validators
    views = {c["view"] for c in cert_rows}
    if len(views) != 1 or not all(is_uint(v) for v in views):
        problems.add(
            f"{where}: certificate votes must share one view >= 0 (got {sorted(map(str, views))})"
        )
    signers: list[str] = []
    for vote in cert_rows:
        if vote["block_hash"] != row["block_hash"] or vote["phase"] != phase:
            problems.add(f"{where}: a certificate vote is not a {phase!r} vote for this block")
            continue
        body = {
            "block_hash": vote["block_hash"],
            "chain_id": vote["chain_id"],
            "height": vote["height"],
            "phase": vote["phase"],
            "view": vote["view"],
        }
        message = canonical_or_none(body)
        signer = vote["signer"]
        if signer not in validators:
            problems.add(f"{where}: certificate signer {signer!r} is not a validator")
        elif message is None or not signature_ok(signer, vote["signature"], message):
            problems.add(f"{where}: certificate vote of {signer[:12]}… does not verify")
        else:
            signers.append(signer)
    if len(set(signers)) != len(signers):
        problems.add(f"{where}: a validator signed the certificate twice")
    distinct = set(signers)
    if rules.consensus == "pow":
        if distinct != set(validators) or views != {0}:
            problems.add(
                f"{where}: proof of work needs the agreement of all {len(validators)} miners in "
                f"view 0 (has {len(distinct)})"
            )
        return
    if rules.consensus == "pbft":
        needed = quorum(len(validators))
    else:
        areas = _areas(rules.params, len(validators)) or [-1] * len(validators)
        signer_areas = [areas[validators.index(s)] for s in distinct]
        if any(a < 0 for a in signer_areas) or len(set(signer_areas)) != len(signer_areas):
            problems.add(f"{where}: certificate signers must be bookkeepers of distinct areas")
        n_areas = rules.params.get("n_areas")
        needed = quorum(n_areas) if is_uint(n_areas) else len(validators) + 1
    if len(distinct) < needed:
        problems.add(f"{where}: certificate has {len(distinct)} valid votes, quorum is {needed}")


def group_certificates(rows: list[dict], problems: Problems) -> dict[tuple[Any, Any], list[dict]]:
    """Certificate rows by ``(chain_id, height)``, checking their field types."""
    grouped: dict[tuple[Any, Any], list[dict]] = {}
    for position, row in enumerate(rows):
        if not (is_uint(row["height"]) and is_hex(row["signer"], 64)):
            problems.add(f"certificates row {position}: bad height or signer")
            continue
        grouped.setdefault((row["chain_id"], row["height"]), []).append(row)
    return grouped
