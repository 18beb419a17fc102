"""Proof of Authority as in Clique (EIP-225), the sealing of seed 001 ch. 4.

Validators ("sealers") take turns by height: the *in-turn* sealer of height
``h`` is ``validators[(h - 1) % n]``. Slots are integer multiples of the block
period; a transaction stamped ``s`` can enter the block of slot time ``T`` only
if ``s < T``. Clique's two further rules are kept:

* **Out-of-turn sealing.** When the in-turn sealer is silent, every other
  eligible sealer waits a random *wiggle* in ``[0, (floor(n/2) + 1) x 500 ms)``
  (go-ethereum's window; EIP-225 suggests ``n x 500 ms``) and the first to
  finish seals. Clique marks in-turn blocks with difficulty 2 and out-of-turn
  ones with 1; here ``difficulty_bits`` stays 0 and in-turn-ness is derived
  from the height and proposer (``docs/ledger-format.md``).
* **Recent signers.** A sealer may seal at most one block in any
  ``floor(n/2) + 1`` consecutive blocks, so fewer than ``floor(n/2) + 1``
  live sealers cannot extend the chain: it stalls, as Clique does.

The header timestamp is the slot time; the wiggle and the block's propagation
to every live validator delay only its commit time.

Two optional timing rules (off by default; ``experiments/repro/poa_sealers.py``
turns them on to study throughput against the number of sealers, seed 001
Figs 4.7-4.8): with ``serial_uplink`` a sealer sends its block to the other
sealers one copy after another over its uplink instead of in parallel; with
``import_us_per_tx > 0`` a sealer seals only on a parent it has received and
imported, the import costing that many microseconds per transaction of the
block and of the pending pool (go-ethereum re-validates its pool on every new
head), so a slot whose sealer is not ready is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from chain.consensus.base import Host, SlotConsensus, as_index_set, check_int, deterministic_uniform


@dataclass(frozen=True)
class ProofOfAuthority(SlotConsensus):
    """PoA consensus configuration (defaults: seed 001 §4.5, 2 s blocks).

    Attributes:
        silent_validators: Indices of sealers that never seal (offline or
            censoring); exercises out-of-turn sealing.
        wiggle_ms: Clique's wiggle unit in ms (500 in go-ethereum).
        serial_uplink: Blocks leave the sealer's uplink one copy at a time.
        import_us_per_tx: Import cost per block and pool transaction, in
            microseconds; > 0 makes the next sealer wait for its parent.
    """

    silent_validators: Any = ()
    wiggle_ms: int = 500
    serial_uplink: bool = False
    import_us_per_tx: int = 0

    name: ClassVar[str] = "poa"

    def __post_init__(self) -> None:
        super().__post_init__()
        silent = as_index_set("silent_validators", self.silent_validators, self.n_validators)
        object.__setattr__(self, "silent_validators", silent)
        check_int("wiggle_ms", self.wiggle_ms, 0)
        if not isinstance(self.serial_uplink, bool):
            raise ValueError(f"serial_uplink must be a bool (got {self.serial_uplink!r})")
        check_int("import_us_per_tx", self.import_us_per_tx, 0)

    def proposer_index(self, height: int) -> int:
        """Index into the validator list of the in-turn sealer of ``height``."""
        if height < 1:
            raise ValueError(f"height must be >= 1 (got {height})")
        return (height - 1) % self.n_validators

    @property
    def wiggle_window_ms(self) -> int:
        """Upper bound of an out-of-turn sealer's random delay."""
        return (self.n_validators // 2 + 1) * self.wiggle_ms

    def engine(self, host: Host) -> PoAEngine:
        """The running protocol for one chain."""
        return PoAEngine(self, host)


class PoAEngine:
    """Clique sealing over a chain's slots."""

    def __init__(self, config: ProofOfAuthority, host: Host) -> None:
        """Start before slot 1."""
        self.config, self.host = config, host
        self.next_slot = 1
        self.in_turn_blocks = 0
        self.out_of_turn_blocks = 0
        self.stalled_at_ms: int | None = None
        self.parent_ready_ms = 0.0
        self.skipped_slots = 0

    def run_until(self, time_ms: int) -> None:
        """Seal every due slot up to ``time_ms`` (skipping idle ones unless configured)."""
        config = self.config
        last_slot = config.last_slot_at_or_before(time_ms)
        while self.stalled_at_ms is None:
            slot = config.next_slot(self.host, self.next_slot)
            if slot is not None and config.import_us_per_tx:
                ready = config.first_slot_at_or_after(self.parent_ready_ms)
                if ready > slot:
                    # The sealer has not imported the parent yet: the slot passes unsealed.
                    if ready > last_slot:
                        break
                    self.skipped_slots += ready - slot
                    slot = ready
            if slot is None or slot > last_slot:
                break
            self._seal(slot)
            self.next_slot = slot + 1
        self.next_slot = max(self.next_slot, last_slot + 1)

    def _sealer(self, height: int) -> tuple[int, float] | None:
        """Who seals ``height`` and after which wiggle delay; None if nobody may."""
        config, host = self.config, self.host
        n = config.n_validators
        recent_keys = {b.header.proposer for b in host.ledger.blocks[-(n // 2) :]} if n // 2 else ()
        recent = {host.validator_index[key] for key in recent_keys}
        eligible = [i for i in range(n) if i not in config.silent_validators and i not in recent]
        if not eligible:
            return None
        in_turn = config.proposer_index(height)
        if in_turn in eligible:
            return in_turn, 0.0
        window = config.wiggle_window_ms
        delays = {
            i: deterministic_uniform(host.seed, "poa-wiggle", height, i) * window for i in eligible
        }
        sealer = min(eligible, key=lambda i: (delays[i], i))
        return sealer, delays[sealer]

    def _seal(self, slot: int) -> None:
        config, host = self.config, self.host
        height = host.ledger.height + 1
        choice = self._sealer(height)
        slot_ms = config.slot_time_ms(slot)
        if choice is None:
            # Sealers only become eligible again through new blocks: Clique stalls.
            self.stalled_at_ms = slot_ms
            return
        sealer, wiggle_ms = choice
        stxs = host.mempool.take(config.max_block_tx, slot_ms - 1)
        block = host.build_block(sealer, slot_ms, stxs)
        n = config.n_validators
        arrivals = host.links.arrivals(sealer, slot_ms + wiggle_ms, block.size_bytes)
        if config.serial_uplink:
            # The k-th copy waits for the k - 1 before it on the sealer's uplink.
            per_copy = block.size_bytes * host.links.ms_per_byte
            others = [i for i in range(n) if i != sealer]
            for rank, i in enumerate(others):
                arrivals[i] += rank * per_copy
        live = [i for i in range(n) if i not in config.silent_validators]
        host.recorder.message("block", n - 1, block.size_bytes)
        host.recorder.signatures_verified += len(live) - 1
        host.commit(block, float(arrivals[live].max()), None)
        if config.import_us_per_tx:
            work = block.n_tx + len(host.mempool)
            self.parent_ready_ms = (
                float(arrivals[live].max()) + work * config.import_us_per_tx / 1e3
            )
        if sealer == config.proposer_index(height):
            self.in_turn_blocks += 1
        else:
            self.out_of_turn_blocks += 1

    def metrics(self) -> dict[str, float | int]:
        """In-turn / out-of-turn block counts and whether the chain stalled."""
        metrics = {
            "in_turn_blocks": self.in_turn_blocks,
            "out_of_turn_blocks": self.out_of_turn_blocks,
            "stalled": int(self.stalled_at_ms is not None),
        }
        if self.config.import_us_per_tx:
            metrics["skipped_slots"] = self.skipped_slots
        return metrics
