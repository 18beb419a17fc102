"""Tamper fuzzing at scale: thousands of random edits of exported ledgers, each classified
as meaning-changing or harmless; the verifier must catch every meaning-changing one and
accept every harmless one.

The edits are made in memory on the rows of the three tables and the genesis document,
and checked with :func:`chain.verify.verify_rows`, the same checks ``gridledger-verify``
runs on the files (``test_tamper.py`` covers the round trip through Parquet).

An edit *changes meaning* if the export no longer says the same thing: the genesis
objects differ as JSON values (key order inside an object is not meaning), the block or
transaction rows of a chain differ in order, content or type of a value (``5``, ``5.0`` and
``True`` are different values; so is a non-canonical spelling of the same hex or JSON),
or the multiset of certificate votes of a block differs (vote rows carry no order).
Rows of different chains may interleave (``docs/ledger-format.md``), so moving a row
past another chain's rows keeps the meaning.
"""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from functools import lru_cache

import pytest

from chain import Pbft, ProofOfWork, verify_consensus
from chain import verify as verify_module
from chain.export import (
    CERTIFICATES_SCHEMA,
    _block_columns,
    _certificate_columns,
    _transaction_columns,
)
from chain.verify import verify_rows
from tests.chain.builders import new_chain, pay, two_chain_run, users

HEX = "0123456789abcdef"


@dataclass
class Export:
    """An export in memory: the genesis document and the rows of the three tables."""

    doc: dict
    blocks: list[dict]
    txs: list[dict]
    certs: list[dict]
    summary: dict

    def copy(self) -> Export:
        return Export(
            copy.deepcopy(self.doc),
            [dict(r) for r in self.blocks],
            [dict(r) for r in self.txs],
            [dict(r) for r in self.certs],
            copy.deepcopy(self.summary),
        )

    def verify(self, max_problems: int = 20):
        return verify_rows(self.doc, self.blocks, self.txs, self.certs, max_problems, self.summary)


def _rows(columns: dict[str, list]) -> list[dict]:
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]


def export_of(chains) -> Export:
    doc = {
        "format": "gridledger-ledger/1",
        "chains": {c.chain_id: json.loads(json.dumps(c.genesis.to_dict())) for c in chains},
    }
    certs = _rows(_certificate_columns(chains))
    assert not certs or set(certs[0]) == set(CERTIFICATES_SCHEMA.names)
    summary = {"ledger_head": {c.chain_id: c.head_hash for c in chains}}
    blocks, txs = _rows(_block_columns(chains)), _rows(_transaction_columns(chains))
    return Export(doc, blocks, txs, certs, summary)


def paid_chain(consensus, chain_id: str, until_ms: int):
    chain = new_chain(consensus, chain_id=chain_id, n_users=4)
    people = users(4)
    nonces = [0] * 4
    for k in range(10):
        sender = k % 4
        chain.submit(
            [pay(people[sender], people[(k * 3 + 1) % 4], 1000 * (k + 1), nonces[sender],
                 timestamp_ms=400 * k, chain_id=chain_id,
                 payload={"trade_id": k, "energy_wh": 100 + k, "step": k // 4})]
        )  # fmt: skip
        nonces[sender] += 1
    chain.advance_to(until_ms)
    assert not len(chain.mempool)
    return chain


@pytest.fixture(scope="module")
def exports() -> dict[str, Export]:
    built = {
        "poa-two-chains": export_of(two_chain_run()),
        "pbft": export_of([paid_chain(Pbft(n_validators=4, block_period_s=1.0), "grid-p", 8000)]),
        "pow": export_of(
            [
                paid_chain(
                    ProofOfWork(n_validators=3, difficulty_bits=4, simulated_difficulty_bits=14),
                    "grid-w",
                    120_000,
                )
            ]
        ),
    }
    for name, export in built.items():
        report = export.verify()
        assert report.ok, (name, report.problems)
    assert built["pbft"].certs and built["pow"].certs
    return built


@pytest.fixture(autouse=True)
def cached_signatures(monkeypatch):
    """Ed25519 verification is a pure function: cache it so thousands of runs stay fast."""
    cached = lru_cache(maxsize=None)(verify_module.signature_ok)
    monkeypatch.setattr(verify_module, "signature_ok", cached)
    monkeypatch.setattr(verify_consensus, "signature_ok", cached)


# ---------------------------------------------------------------- meaning
def _typed(value):
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _typed(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(_typed(v) for v in value))
    return (type(value).__name__, value)


def _per_chain(rows: list[dict]) -> tuple:
    """Rows grouped by chain, in file order within each chain (chains may interleave)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(_typed(row.get("chain_id")), []).append(_typed(row))
    return tuple(sorted(((key, tuple(group)) for key, group in groups.items()), key=repr))


def meaning(export: Export) -> tuple:
    """What an export says; equal meanings are the same ledger."""
    return (
        _typed(export.doc),
        _typed(export.summary),
        _per_chain(export.blocks),
        _per_chain(export.txs),
        tuple(sorted((_typed(r) for r in export.certs), key=repr)),
    )


# ---------------------------------------------------------------- mutations
def new_value(column: str, value, rng: random.Random, export: Export):
    """Another value for ``column`` (sometimes the same one, sometimes another type)."""
    roll = rng.random()
    if roll < 0.06:
        return value  # a no-op edit: harmless
    if roll < 0.14:
        return rng.choice([None, 1.5, True, "0", -1, 2**70, [], {}])
    if not isinstance(value, (bool, int, str)):  # already edited to another type
        return rng.choice([0, "", "ab"])
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([value + rng.choice([-2, -1, 1, 2, 1000]), 0, float(value), str(value)])
    if isinstance(value, str) and value and all(c in HEX for c in value):
        choice = rng.random()
        if choice < 0.6:
            i = rng.randrange(len(value))
            return value[:i] + rng.choice([c for c in HEX if c != value[i]]) + value[i + 1 :]
        if choice < 0.7 and any(c in "abcdef" for c in value):
            return value.upper()
        if choice < 0.85:
            return value[:-1]
        return value + rng.choice(HEX)
    if column == "payload":
        try:
            payload = json.loads(value)
        except ValueError:
            return value + "}"
        if not isinstance(payload, dict):
            return "{}"
        choice = rng.random()
        if choice < 0.25:
            return json.dumps(payload)  # same content, not canonical
        if choice < 0.5:
            payload["extra"] = 1
        elif choice < 0.75 and payload:
            key = rng.choice(sorted(payload))
            payload[key] = 1.5 if rng.random() < 0.5 else [payload[key]]
        else:
            payload.pop(rng.choice(sorted(payload)), None) if payload else None
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if column == "chain_id":
        others = sorted(set(export.doc["chains"]) - {value}) + ["grid-x", ""]
        return rng.choice(others)
    if column == "phase":
        return rng.choice(["commit", "agree", "prepare", "Commit"])
    return rng.choice([value + "x", "", value.upper() if value != value.upper() else value + "é"])


def mutate_table(rows: list[dict], rng: random.Random, export: Export) -> str:
    kind = rng.choice(["field", "field", "field", "swap", "move", "drop", "dup"])
    if not rows:
        return "nothing (empty table)"
    i = rng.randrange(len(rows))
    if kind == "field":
        column = rng.choice(sorted(rows[i]))
        rows[i][column] = new_value(column, rows[i][column], rng, export)
        return f"row {i} {column} -> {rows[i][column]!r:.40}"
    if kind == "swap" and len(rows) > 1:
        j = rng.choice([k for k in range(len(rows)) if k != i])
        rows[i], rows[j] = rows[j], rows[i]
        return f"swap rows {i} and {j}"
    if kind == "move" and len(rows) > 1:
        row = rows.pop(i)
        at = rng.randrange(len(rows) + 1)
        rows.insert(at, row)
        return f"move row {i} to {at}"
    if kind == "drop":
        rows.pop(i)
        return f"drop row {i}"
    at = rng.randrange(len(rows) + 1)
    rows.insert(at, dict(rows[i]))
    return f"duplicate row {i} at {at}"


def mutate_genesis(export: Export, rng: random.Random) -> str:
    chain_id = rng.choice(sorted(export.doc["chains"]))
    genesis = export.doc["chains"][chain_id]
    kind = rng.choice(["balance", "add", "remove", "reorder", "validators", "params", "field"])
    balances = genesis["balances"]
    if kind == "balance":
        account = rng.choice(sorted(balances))
        balances[account] = new_value("balance", balances[account], rng, export)
        return f"genesis {chain_id} balance -> {balances[account]!r}"
    if kind == "add":
        balances["".join(rng.choice(HEX) for _ in range(64))] = rng.choice([0, 1, 10**6])
        return f"genesis {chain_id} new account"
    if kind == "remove":
        balances.pop(rng.choice(sorted(balances)))
        return f"genesis {chain_id} account removed"
    if kind == "reorder":
        items = list(balances.items())
        rng.shuffle(items)
        genesis["balances"] = dict(items)
        return f"genesis {chain_id} balances reordered"
    if kind == "validators":
        validators = genesis["validators"]
        choice = rng.random()
        if choice < 0.4 and len(validators) > 1:
            i, j = rng.sample(range(len(validators)), 2)
            validators[i], validators[j] = validators[j], validators[i]
        elif choice < 0.7:
            validators.pop(rng.randrange(len(validators)))
        else:
            i = rng.randrange(len(validators))
            validators[i] = new_value("validator", validators[i], rng, export)
        return f"genesis {chain_id} validators edited"
    if kind == "params":
        params = genesis["params"]
        key = rng.choice([*sorted(params), "extra"])
        params[key] = new_value(key, params.get(key, 0), rng, export)
        return f"genesis {chain_id} params[{key}] -> {params[key]!r}"
    field = rng.choice(["chain_id", "consensus"])
    genesis[field] = new_value(field, genesis[field], rng, export)
    return f"genesis {chain_id} {field} -> {genesis[field]!r}"


def mutate(export: Export, rng: random.Random) -> str:
    """One to three random edits; a description of them."""
    edits = []
    for _ in range(rng.choice([1, 1, 1, 1, 2, 3])):
        target = rng.choices(
            ["txs", "blocks", "certs", "genesis", "summary"], weights=[8, 6, 4, 4, 1]
        )[0]
        if target == "genesis":
            edits.append(mutate_genesis(export, rng))
        elif target == "summary":
            heads = export.summary["ledger_head"]
            chain_id = rng.choice(sorted(heads))
            heads[chain_id] = new_value("ledger_head", heads[chain_id], rng, export)
            edits.append(f"summary ledger_head of {chain_id} -> {heads[chain_id]!r:.20}")
        else:
            edits.append(f"{target}: {mutate_table(getattr(export, target), rng, export)}")
    return "; ".join(edits)


# ---------------------------------------------------------------- the campaign
def campaign(exports: dict[str, Export], n: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"tried": 0, "meaning_changing": 0, "caught": 0, "harmless": 0}
    names = sorted(exports)
    for k in range(n):
        original = exports[names[k % len(names)]]
        tampered = original.copy()
        description = mutate(tampered, rng)
        counts["tried"] += 1
        report = tampered.verify(3)
        if meaning(tampered) == meaning(original):
            counts["harmless"] += 1
            assert report.ok, f"false alarm on a harmless edit ({description}): {report.problems}"
            continue
        counts["meaning_changing"] += 1
        assert not report.ok, f"missed: {names[k % len(names)]}: {description}"
        counts["caught"] += 1
    print(
        f"\ntamper fuzzing (seed {seed}): {counts['tried']} mutations tried, "
        f"{counts['meaning_changing']} meaning-changing, {counts['caught']} caught, "
        f"{counts['harmless']} harmless"
    )
    return counts


def test_fuzzing_catches_every_meaning_changing_edit(exports):
    counts = campaign(exports, 2400, seed=1)
    assert counts["caught"] == counts["meaning_changing"] > 2000
    assert counts["harmless"] > 50  # the classifier is exercised both ways


@pytest.mark.slow
def test_fuzzing_at_scale(exports):
    counts = campaign(exports, 30_000, seed=2)
    assert counts["caught"] == counts["meaning_changing"] > 25_000
