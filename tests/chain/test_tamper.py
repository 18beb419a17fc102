"""Property tests: tampering is always detected, and the verifier agrees with the ledger."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import (
    Block,
    BlockHeader,
    Genesis,
    LedgerError,
    Transaction,
    verify_run,
    write_ledger,
)
from chain.merkle import merkle_root
from chain.replay import replay_run
from chain.transaction import sign_transaction
from tests.chain.builders import COIN, two_chain_run, users, validators
from tests.chain.ledger_files import LedgerFiles, copy_run

HEX = "0123456789abcdef"
HEX_COLUMNS = {"sender", "receiver", "tx_hash", "signature", "prev_hash", "merkle_root",
               "proposer", "block_hash", "proposer_signature"}  # fmt: skip
INT_COLUMNS = {"amount", "nonce", "timestamp_ms", "block_height", "index", "height",
               "difficulty_bits", "n_tx"}  # fmt: skip
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chains = two_chain_run()
    run_dir = tmp_path_factory.mktemp("run")
    write_ledger(run_dir, chains)
    heads = {chain.chain_id: chain.head_hash for chain in chains}
    (run_dir / "summary.json").write_text(json.dumps({"ledger_head": heads}))
    assert verify_run(run_dir).ok
    return run_dir


def changed_value(column: str, value: Any, data: st.DataObject) -> Any:
    """A different value of the same column type."""
    if column == "chain_id":
        return data.draw(st.sampled_from(sorted({"grid-a", "grid-b", "grid-x"} - {value})))
    if column in INT_COLUMNS:
        return value + data.draw(st.integers(-3, 3).filter(bool))
    if column in HEX_COLUMNS:
        position = data.draw(st.integers(0, len(value) - 1))
        digit = data.draw(st.sampled_from([c for c in HEX if c != value[position]]))
        return value[:position] + digit + value[position + 1 :]
    if column == "payload":
        payload = json.loads(value)
        if data.draw(st.booleans()):
            return json.dumps(payload)  # same content, not canonical (spaces)
        key = data.draw(st.sampled_from(sorted(payload)))
        payload[key] = [payload[key], 1]
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return value + data.draw(st.sampled_from(["x", "-", "é"]))  # kind, consensus


def tamper(files: LedgerFiles, data: st.DataObject) -> str:
    """Apply one random edit; return a description for failure messages."""
    kind = data.draw(
        st.sampled_from(
            [
                "tx_field",
                "block_field",
                "swap_tx",
                "drop_tx",
                "drop_block",
                "dup_tx",
                "dup_block",
                "genesis_balance",
            ]
        )  # fmt: skip
    )
    rows = files.txs if kind.endswith("tx") or kind == "tx_field" else files.blocks
    if kind in ("tx_field", "block_field"):
        i = data.draw(st.integers(0, len(rows) - 1))
        column = data.draw(st.sampled_from(sorted(rows[i])))
        rows[i][column] = changed_value(column, rows[i][column], data)
        return f"{kind} row {i} column {column} -> {rows[i][column]!r}"
    if kind == "swap_tx":
        i, j = data.draw(
            st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True)
        )
        for column in rows[i]:
            if column not in ("block_height", "index"):
                rows[i][column], rows[j][column] = rows[j][column], rows[i][column]
        return f"swap tx rows {i} and {j}"
    i = data.draw(st.integers(0, len(rows) - 1))
    if kind.startswith("drop"):
        rows.pop(i)
        return f"{kind} row {i}"
    if kind.startswith("dup"):
        at = data.draw(st.integers(0, len(rows)))
        rows.insert(at, dict(rows[i]))
        return f"{kind} row {i} inserted at {at}"
    chain_id = data.draw(st.sampled_from(sorted(files.genesis["chains"])))
    balances = files.genesis["chains"][chain_id]["balances"]
    account = data.draw(st.sampled_from(sorted(balances)))
    balances[account] += data.draw(st.integers(-COIN, COIN).filter(bool))
    return f"genesis balance of {account[:8]} on {chain_id}"


@SETTINGS
@given(data=st.data())
def test_random_tampering_is_always_detected(run_dir: Path, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = copy_run(run_dir, Path(tmp))
        files = LedgerFiles(copy)
        description = tamper(files, data)
        files.save()
        report = verify_run(copy)
        assert not report.ok, f"undetected: {description}"
        assert report.problems and all(
            "chain" in p or ".json" in p or ".parquet" in p for p in report.problems
        )


# --- Differential test: verifier vs. ledger on adversarially built chains --------------------

PEOPLE = users(3)
VALIDATORS = validators(2)
OUTSIDER = users(4)[3]
GENESIS = Genesis(
    "grid-d",
    "poa",
    {PEOPLE[0].public_hex: 8, PEOPLE[1].public_hex: 4},
    tuple(v.public_hex for v in VALIDATORS),
    {"block_period_ms": 1000},
)


@dataclass
class ForgedChain:
    """Duck-typed ``LedgerSource``: blocks built without any validation."""

    genesis: Genesis
    blocks: list[Block] = field(default_factory=list)

    @property
    def chain_id(self) -> str:
        """The genesis chain id."""
        return self.genesis.chain_id


tx_specs = st.tuples(
    st.integers(0, 2),  # sender
    st.integers(0, 2),  # receiver
    st.integers(0, 4),  # amount (balances are 8, 4 and 0: overdrafts happen)
    st.sampled_from([0] * 10 + [-1, 1]),  # nonce offset from the naive counter
    st.sampled_from(["ok"] * 16 + ["wrong_chain", "wrong_signer"]),
)
block_specs = st.tuples(
    st.lists(tx_specs, max_size=4),
    st.sampled_from([0] * 4 + [1] * 4 + [2]),  # proposer: validators 0/1 or an outsider
    st.sampled_from([1000] * 6 + [0, -1]),  # timestamp step
    st.sampled_from([0] * 12 + [1, -1]),  # height offset
)


def forge(specs: list) -> ForgedChain:
    chain = ForgedChain(GENESIS)
    nonces = [0, 0, 0]
    prev_hash, height, timestamp = GENESIS.hash, 0, 0
    for tx_list, proposer_i, step, height_offset in specs:
        stxs = []
        for sender, receiver, amount, offset, flavor in tx_list:
            tx = Transaction(
                "grid-x" if flavor == "wrong_chain" else GENESIS.chain_id,
                PEOPLE[sender].public_hex, PEOPLE[receiver].public_hex, amount,
                max(nonces[sender] + offset, 0), "transfer", {"n": len(stxs)}, timestamp,
            )  # fmt: skip
            nonces[sender] += 1
            stx = sign_transaction(PEOPLE[sender], tx)
            if flavor == "wrong_signer":
                stx = type(stx)(
                    tx, stx.tx_hash, PEOPLE[(sender + 1) % 3].sign(tx.canonical()).hex()
                )
            stxs.append(stx)
        proposer = [*VALIDATORS, OUTSIDER][proposer_i]
        height, timestamp = height + 1 + height_offset, max(timestamp + step, 0)
        header = BlockHeader(
            GENESIS.chain_id, max(height, 1), prev_hash, merkle_root([s.tx_hash for s in stxs]),
            timestamp, proposer.public_hex, "poa", 0, 0,
        )  # fmt: skip
        block = Block(
            header, header.block_hash, proposer.sign(header.canonical()).hex(), tuple(stxs)
        )
        chain.blocks.append(block)
        prev_hash = block.block_hash
    return chain


@settings(max_examples=120, deadline=None)
@given(st.lists(block_specs, min_size=1, max_size=4))
def test_verifier_agrees_with_ledger_replay(specs: list) -> None:
    chain = forge(specs)
    with tempfile.TemporaryDirectory() as tmp:
        write_ledger(tmp, [chain])
        report = verify_run(tmp)
        try:
            replay_run(tmp)
        except LedgerError as err:
            assert not report.ok, f"ledger rejects ({err}) but the verifier accepts"
        else:
            assert report.ok, f"ledger accepts but the verifier reports {report.problems}"
