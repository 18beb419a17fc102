"""A single trusted operator: the centralised baseline every paper compares against.

The operator (``validators[0]``) batches pending transactions into a block
every ``block_period_s`` and signs it. There is no consensus: no messages, no
votes, and a block commits at its slot time. The chain stays verifiable (hash
links, signatures, balances), but its integrity rests on one key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain.consensus.base import Host, SlotConsensus


@dataclass(frozen=True)
class Central(SlotConsensus):
    """Trusted-third-party configuration.

    Attributes:
        n_validators: Must be 1: the operator.
    """

    n_validators: int = 1

    name: ClassVar[str] = "central"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_validators != 1:
            raise ValueError(
                f"n_validators must be 1 for central, the one trusted operator "
                f"(got {self.n_validators})"
            )

    def engine(self, host: Host) -> CentralEngine:
        """The running operator for one chain."""
        return CentralEngine(self, host)


class CentralEngine:
    """Seals every due slot with the operator's key."""

    def __init__(self, config: Central, host: Host) -> None:
        """Start before slot 1."""
        self.config, self.host = config, host
        self.next_slot = 1

    def run_until(self, time_ms: int) -> None:
        """Seal every due slot up to ``time_ms``."""
        config, host = self.config, self.host
        last_slot = config.last_slot_at_or_before(time_ms)
        while (slot := config.next_slot(host, self.next_slot)) is not None and slot <= last_slot:
            slot_ms = config.slot_time_ms(slot)
            stxs = host.mempool.take(config.max_block_tx, slot_ms - 1)
            host.commit(host.build_block(0, slot_ms, stxs), float(slot_ms), None)
            self.next_slot = slot + 1
        self.next_slot = max(self.next_slot, last_slot + 1)

    def metrics(self) -> dict[str, float | int]:
        """No protocol counters: the operator needs no messages."""
        return {}
