"""The ledger panel's data: latest blocks, latest trades, and verifying the chain so far.

Verification goes the way a third party would: the chain is exported in the
``gridledger-ledger/1`` format (:func:`chain.export.write_ledger`) into a temporary
directory and re-checked from the files alone by :func:`chain.verify.verify_run`; the
verifier's head hash is then compared with the live chain's.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.settlement import TRADE_KINDS
from chain.dr_protocol import write_dr_messages
from chain.export import write_ledger
from chain.verify import NotARunDirectory, verify_run

KIND_PREFIX = {0: "grid", 1: "H", 2: "EV", 3: "G"}


@dataclass(frozen=True)
class BlockRow:
    """One line of the latest-blocks table."""

    height: int
    time_s: float
    proposer: str
    n_tx: int
    block_hash: str


@dataclass(frozen=True)
class TradeRow:
    """One line of the latest-trades table (amounts in coins, energy in kWh)."""

    kind: str
    buyer: str
    seller: str
    energy_kwh: float
    price_coins_per_kwh: float
    amount_coins: float
    tx_hash: str


@dataclass(frozen=True)
class LedgerSnapshot:
    """A chain frozen at one height, for export while the model keeps stepping."""

    chain_id: str
    genesis: object
    blocks: tuple
    head_hash: str
    registry: object = None


@dataclass(frozen=True)
class VerifyOutcome:
    """Result of re-verifying the exported chain so far.

    Attributes:
        ok: No problem found and the verifier's head equals the live head.
        height: Height verified.
        transactions: Transactions re-verified.
        head_hash: Head hash the verifier computed.
        problems: Problems found (at most 20), one line each.
        seconds: Wall time of export plus verification.
    """

    ok: bool
    height: int
    transactions: int
    head_hash: str
    problems: tuple[str, ...]
    seconds: float


def chains_of(sim) -> list:
    """The model's chains (one today; layouts with several expose ``chains``)."""
    chains = getattr(sim, "chains", None)
    return list(chains) if chains else [sim.chain]


def agent_label(sim, agent: int) -> str:
    """Short name of a wallet holder: ``grid``, ``H0-12``, ``EV1-3``, ``G0-0`` (area-row)."""
    agent = int(agent)
    if agent == 0:
        return "grid"
    kind = int(sim.agent_kind[agent])
    area = int(sim.agent_area[agent])
    row = agent - int(sim.area_offsets[area])
    counts = (
        (sim.agent_kind[sim.agent_area == area] == 1).sum(),
        (sim.agent_kind[sim.agent_area == area] == 2).sum(),
    )
    if kind == 2:
        row -= int(counts[0])
    elif kind == 3:
        row -= int(counts[0] + counts[1])
    return f"{KIND_PREFIX.get(kind, '?')}{area}-{row}"


def latest_blocks(sim, limit: int = 8) -> list[BlockRow]:
    """The newest ``limit`` blocks of every chain, newest first."""
    names = {m.identity.public_hex: f"V{m.index}" for m in sim.miners}
    rows = []
    for chain in chains_of(sim):
        for block in chain.blocks[-limit:]:
            header = block.header
            proposer = names.get(header.proposer, "")
            rows.append(
                BlockRow(
                    height=block.height,
                    time_s=header.timestamp_ms / 1000,
                    proposer=f"{proposer} {header.proposer[:8]}".strip(),
                    n_tx=block.n_tx,
                    block_hash=block.block_hash,
                )
            )
    rows.sort(key=lambda row: (row.time_s, row.height), reverse=True)
    return rows[:limit]


def latest_trades(sim, limit: int = 10) -> tuple[list[TradeRow], dict[str, int]]:
    """The last step's trades (peer-to-peer first, then largest first) and counts per kind."""
    log = sim.trade_log.last  # kept in memory when the log is spilled to disk
    if log is None:
        return [], {}
    kinds = np.asarray(log["kind"])
    counts = {name: int((kinds == code).sum()) for code, name in enumerate(TRADE_KINDS)}
    order = np.lexsort((-np.asarray(log["quantity_wh"]), kinds))[:limit]
    rows = [
        TradeRow(
            kind=TRADE_KINDS[int(kinds[i])],
            buyer=agent_label(sim, log["buyer"][i]),
            seller=agent_label(sim, log["seller"][i]),
            energy_kwh=float(log["quantity_wh"][i]) / 1000,
            price_coins_per_kwh=float(log["price"][i]),
            amount_coins=float(log["amount_micro"][i]) / 1_000_000,
            tx_hash=str(log["tx_hash"][i]),
        )
        for i in order
    ]
    return rows, counts


def snapshot(chains: Sequence) -> list[LedgerSnapshot]:
    """Freeze ``chains`` (call while holding the model's lock)."""
    return [
        LedgerSnapshot(
            chain_id=chain.chain_id,
            genesis=chain.genesis,
            blocks=tuple(chain.blocks),
            head_hash=chain.head_hash,
            registry=getattr(chain, "registry", None),
        )
        for chain in chains
    ]


def verify_snapshot(
    snapshots: Sequence[LedgerSnapshot], dr_messages: Sequence | None = None
) -> VerifyOutcome:
    """Export ``snapshots`` (and DR messages) to a temporary run directory and re-verify it."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gridledger-viz-") as run_dir:
        write_ledger(run_dir, snapshots)
        if dr_messages is not None:
            write_dr_messages(run_dir, dr_messages)
        try:
            report = verify_run(run_dir)
        except NotARunDirectory as error:
            return VerifyOutcome(False, 0, 0, "", (str(error),), time.perf_counter() - started)
    problems = list(report.problems)
    for snap in snapshots:
        verified = report.chains.get(snap.chain_id, {})
        if verified.get("head_hash") != snap.head_hash:
            problems.append(
                f"chain {snap.chain_id}: verifier head {verified.get('head_hash')!r} is not the "
                f"live head {snap.head_hash!r}"
            )
    return VerifyOutcome(
        ok=report.ok and not problems,
        height=max((len(s.blocks) for s in snapshots), default=0),
        transactions=sum(int(info.get("transactions", 0)) for info in report.chains.values()),
        head_hash=next(iter(report.chains.values()), {}).get("head_hash", "") or "",
        problems=tuple(problems),
        seconds=time.perf_counter() - started,
    )


def verify_model(model) -> VerifyOutcome:
    """Verify the chain(s) of ``model`` (a VizModel) as they stand now."""
    with model.lock:
        frozen = snapshot(chains_of(model.sim))
        dr = getattr(getattr(model.sim, "security", None), "dr", None)
        blocks = [block for snap in frozen for block in snap.blocks]
        messages = dr.committed_messages(blocks) if dr is not None else None
    return verify_snapshot(frozen, messages)
