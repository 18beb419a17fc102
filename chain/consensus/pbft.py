"""Practical Byzantine Fault Tolerance (Castro and Liskov, OSDI 1999) as a chain plug-in.

``n`` replicas (the validators) tolerate ``f = floor((n - 1) / 3)`` Byzantine
ones. One block is one PBFT sequence number: the primary of the current view
(``validators[view % n]``) proposes it at a slot, the replicas run
pre-prepare / prepare / commit (:mod:`chain.consensus.bft_round`), and the block
commits with a certificate of ``q = 2f + 1`` signed COMMIT votes. When the view
timer expires (silent or equivocating primary), replicas change view and the
next primary re-proposes a block they were prepared on, if any; the timer
doubles for every view change in a row that commits nothing, as in the paper.
Heights are decided one after the other (no pipelining).

With more than ``f`` silent replicas no quorum forms and no block commits
(liveness lost, safety kept). With more than ``f`` equivocating replicas PBFT
promises nothing; if honest replicas commit different blocks the engine counts
a safety violation and halts (this simulator keeps one ledger, not a fork).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from chain.block import Block
from chain.certificate import make_certificate
from chain.consensus.base import Host, SlotConsensus, as_behaviours, check_period_s
from chain.consensus.bft_round import (
    FAULTY_BEHAVIOURS,
    HONEST,
    INF,
    SILENT,
    ViewOutcome,
    ViewSetup,
    simulate_view,
    simulate_view_change,
)
from chain.consensus_rules import fault_tolerance, quorum


@dataclass(frozen=True)
class Pbft(SlotConsensus):
    """PBFT configuration.

    Attributes:
        view_timeout_s: Base view-change timer in seconds (our default 1 s,
            well above a round's few hundred ms on the default network; the
            paper leaves it to the implementation). It doubles for every
            consecutive view change that does not commit the block.
        faulty_replicas: ``{validator index: "silent" | "equivocate"}``.
    """

    view_timeout_s: float = 1.0
    faulty_replicas: Any = ()

    name: ClassVar[str] = "pbft"
    #: Committee primaries rotate with the height (hybrid) or stay until a view change.
    rotate_primary: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_period_s("view_timeout_s", self.view_timeout_s)
        faulty = as_behaviours(
            "faulty_replicas", self.faulty_replicas, self.n_validators, FAULTY_BEHAVIOURS
        )
        object.__setattr__(self, "faulty_replicas", faulty)

    @property
    def view_timeout_ms(self) -> int:
        """The base view timer in milliseconds."""
        return round(self.view_timeout_s * 1000)

    def params(self) -> dict[str, int | str]:
        """Genesis parameters: the slot parameters and the view timer."""
        return {**super().params(), "view_timeout_ms": self.view_timeout_ms}

    def behaviour_of(self, validator: int) -> str:
        """``honest``, ``silent`` or ``equivocate``."""
        return dict(self.faulty_replicas).get(validator, HONEST)

    def engine(self, host: Host) -> BftEngine:
        """The running protocol for one chain."""
        return BftEngine(self, host)


class BftEngine:
    """Runs heights one after the other through views and view changes."""

    def __init__(self, config: Pbft, host: Host) -> None:
        """Start in view 0 before slot 1."""
        self.config, self.host = config, host
        self.view = 0
        self.next_slot = 1
        self.busy_until_ms = 0.0
        # The view in progress: its start, or a pending view change at its time.
        self.view_start_ms: float | None = None
        self.view_change_at_ms: float | None = None
        self.failures = 0
        # The block the next view re-proposes (chosen by a view change), the digest each
        # honest validator is prepared on at this height, and the blocks behind them.
        self.carried: Block | None = None
        self.prepared: dict[int, str] = {}
        self.proposed: dict[str, Block] = {}
        self.halted = False
        self.view_changes = 0
        self.safety_violations = 0
        self.views_started = 0

    def committee(self, height: int) -> list[int]:
        """Validator indices that run the protocol for ``height`` (PBFT: all of them)."""
        return list(range(self.config.n_validators))

    # ------------------------------------------------------------------ schedule
    def run_until(self, time_ms: int) -> None:
        """Decide every block whose view starts by ``time_ms``."""
        config, host = self.config, self.host
        while not self.halted:
            if self.view_change_at_ms is not None:
                if self.view_change_at_ms > time_ms:
                    break
                self._change_view(self.view_change_at_ms)
                continue
            if self.view_start_ms is None:
                earliest = max(self.next_slot, config.first_slot_at_or_after(self.busy_until_ms))
                slot = config.next_slot(host, earliest)
                if slot is None or config.slot_time_ms(slot) > time_ms:
                    break
                self.view_start_ms = float(config.slot_time_ms(slot))
                self.next_slot = slot + 1
            if self.view_start_ms > time_ms:
                break
            self._run_view(self.view_start_ms)
        self.next_slot = max(self.next_slot, config.last_slot_at_or_before(time_ms) + 1)

    def _setup(self, height: int, start_ms: float, deadline_ms: float) -> ViewSetup:
        config, host = self.config, self.host
        members = self.committee(height)
        m = len(members)
        shift = (height - 1) if config.rotate_primary else 0
        return ViewSetup(
            chain_id=host.chain_id,
            height=height,
            view=self.view,
            members=members,
            behaviour=[config.behaviour_of(v) for v in members],
            primary=(self.view + shift) % m,
            start_ms=start_ms,
            deadline_ms=deadline_ms,
            proposals={},
            sent=[None] * m,
            quorum=quorum(m),
            f=fault_tolerance(m),
        )

    # ------------------------------------------------------------------ one view
    def _run_view(self, start_ms: float) -> None:
        config, host = self.config, self.host
        height = host.ledger.height + 1
        # PBFT doubles the timer for every view change in a row that executes nothing.
        timeout = config.view_timeout_ms * 2**self.failures
        setup = self._setup(height, start_ms, start_ms + timeout)
        self.views_started += 1
        stxs = self._propose(setup)
        outcome: ViewOutcome = simulate_view(
            setup, host.links, list(host.validators), host.recorder
        )
        if outcome.safety_violation:
            self.safety_violations += 1
            self.halted = True
            host.mempool.restore(stxs)
            return
        if outcome.decided is not None:
            block = setup.proposals[outcome.decided]
            certificate = make_certificate(
                host.chain_id, height, block.block_hash, "commit", self.view,
                outcome.certificate, host.validator_index,
            )  # fmt: skip
            self._announce(setup, block, outcome.decide_ms)
            host.commit(block, outcome.decide_ms, certificate)
            self.busy_until_ms = outcome.decide_ms
            self.view_start_ms = None
            self.failures = 0
            self.carried = None
            self.prepared = {}
            self.proposed = {}
            if outcome.equivocation_ms < INF:
                # The block stands, but a provably faulty primary is replaced.
                self.view_change_at_ms = max(outcome.decide_ms, outcome.equivocation_ms)
            return
        # No decision before the timers expired: give the transactions back and
        # change view, remembering what honest replicas were prepared on (PBFT keeps
        # prepared certificates until the sequence number commits).
        host.mempool.restore(stxs)
        self.proposed.update(setup.proposals)
        for position, digest in outcome.prepared.items():
            self.prepared[setup.members[position]] = digest
        self.view_start_ms = None
        self.view_change_at_ms = min(setup.deadline_ms, outcome.equivocation_ms)

    def _propose(self, setup: ViewSetup) -> list:
        """The primary's proposal(s); returns the transactions taken from the mempool."""
        config, host = self.config, self.host
        behaviour = setup.behaviour[setup.primary]
        if behaviour == SILENT:
            return []
        proposer = setup.members[setup.primary]
        if self.carried is not None:
            stxs = host.mempool.take(self.carried.n_tx, math.inf)  # type: ignore[arg-type]
            if [s.tx_hash for s in stxs] != [s.tx_hash for s in self.carried.transactions]:
                raise AssertionError("carried block's transactions left the mempool front")
            blocks = [self.carried]
        else:
            stamp = math.ceil(setup.start_ms)
            stxs = host.mempool.take(config.max_block_tx, stamp - 1)
            blocks = [host.build_block(proposer, stamp, stxs)]
        if behaviour != HONEST:
            # Equivocation: the same transactions under a different header.
            base = blocks[0]
            blocks.append(host.build_block(proposer, base.header.timestamp_ms + 1, stxs))
        for block in blocks:
            setup.proposals[block.block_hash] = block
        backups = [k for k in range(len(setup.members)) if k != setup.primary]
        setup.sent[setup.primary] = blocks[0].block_hash
        for rank, k in enumerate(backups):
            setup.sent[k] = blocks[rank % len(blocks)].block_hash
        return stxs

    def _announce(self, setup: ViewSetup, block: Block, decide_ms: float) -> None:
        """Validators outside the committee receive the committed block (hybrid)."""
        outsiders = self.config.n_validators - len(setup.members)
        self.host.recorder.message("block", outsiders, block.size_bytes)

    def _change_view(self, failed_at_ms: float) -> None:
        host = self.host
        self.view += 1
        self.view_changes += 1
        self.failures += 1
        height = host.ledger.height + 1
        setup = self._setup(height, failed_at_ms, INF)
        prepared = {
            position: self.prepared[v]
            for position, v in enumerate(setup.members)
            if v in self.prepared
        }
        start, carried_digest = simulate_view_change(
            setup, failed_at_ms, prepared, host.links,
            list(host.validators), host.recorder,
        )  # fmt: skip
        self.carried = None if carried_digest is None else self.proposed[carried_digest]
        if start == INF:
            # Nobody started the view: timers double and the next view change follows.
            self.view_change_at_ms = failed_at_ms + self.config.view_timeout_ms * 2**self.failures
            return
        self.view_change_at_ms = None
        self.busy_until_ms = max(self.busy_until_ms, start)
        oldest = host.mempool.peek()
        due = oldest is not None and oldest.tx.timestamp_ms < math.ceil(start)
        if self.carried is not None or due or self.config.seal_empty_blocks:
            # NEW-VIEW carries the pre-prepare of the pending block.
            self.view_start_ms = start

    def metrics(self) -> dict[str, float | int]:
        """View changes, views, safety violations and liveness.

        ``liveness_lost`` is 1 when fewer than ``q`` committee members are not
        silent, so no view can ever gather a quorum; ``halted`` after a safety
        violation.
        """
        config = self.config
        members = self.committee(self.host.ledger.height + 1)
        live = sum(config.behaviour_of(v) != SILENT for v in members)
        return {
            "view": self.view,
            "views_started": self.views_started,
            "view_changes": self.view_changes,
            "safety_violations": self.safety_violations,
            "halted": int(self.halted),
            "liveness_lost": int(live < quorum(len(members))),
            "committee_size": len(members),
            "fault_tolerance_f": fault_tolerance(len(members)),
            "quorum": quorum(len(members)),
        }
