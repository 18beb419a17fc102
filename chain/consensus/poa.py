"""Proof of Authority with in-turn round-robin sealing (Clique-like).

Validators take turns by block height: the proposer of height ``h`` is
``validators[(h - 1) % n]``. Blocks are sealed at slot times, integer
multiples of the block period; a transaction stamped ``s`` can enter the block
of slot time ``T`` only if ``s < T``.

Clique also lets an out-of-turn validator seal when the in-turn one is
silent. That is not modelled yet; :meth:`ProofOfAuthority.proposer_index` is
the single place that decides who seals, so a fault-aware selection can
replace it without touching the chain driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} (got {value!r})")


@dataclass(frozen=True)
class ProofOfAuthority:
    """PoA consensus configuration.

    Attributes:
        block_period_s: Time between slots in seconds; > 0 and a whole number
            of milliseconds.
        max_block_tx: Maximum transactions per block, >= 1.
        n_validators: Size of the validator set, >= 1.
        seal_empty_blocks: Seal a block at every slot even without
            transactions (Clique's behaviour) instead of skipping idle slots.
    """

    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False

    name: ClassVar[str] = "poa"

    def __post_init__(self) -> None:
        period = self.block_period_s
        if (
            isinstance(period, bool)
            or not isinstance(period, int | float)
            or not math.isfinite(period)
            or period <= 0
        ):
            raise ValueError(f"block_period_s must be > 0 (got {period!r})")
        period_ms = period * 1000
        if abs(period_ms - round(period_ms)) > 1e-6 or round(period_ms) < 1:
            raise ValueError(
                f"block_period_s must be a whole number of milliseconds >= 0.001 (got {period!r})"
            )
        _check_int("max_block_tx", self.max_block_tx, 1)
        _check_int("n_validators", self.n_validators, 1)
        if not isinstance(self.seal_empty_blocks, bool):
            raise ValueError(f"seal_empty_blocks must be a bool (got {self.seal_empty_blocks!r})")

    @property
    def block_period_ms(self) -> int:
        """The block period in integer milliseconds."""
        return round(self.block_period_s * 1000)

    def params(self) -> dict[str, int | str]:
        """Parameters recorded in the genesis (integers and strings only)."""
        return {
            "block_period_ms": self.block_period_ms,
            "max_block_tx": self.max_block_tx,
            "n_validators": self.n_validators,
            "seal_empty_blocks": int(self.seal_empty_blocks),
        }

    def proposer_index(self, height: int) -> int:
        """Index into the validator list of the in-turn proposer of ``height``."""
        if height < 1:
            raise ValueError(f"height must be >= 1 (got {height})")
        return (height - 1) % self.n_validators

    def slot_time_ms(self, slot: int) -> int:
        """Time of slot ``slot`` (slot 1 is one period after genesis)."""
        return slot * self.block_period_ms

    def first_slot_after(self, timestamp_ms: int) -> int:
        """The first slot whose block may include a tx stamped ``timestamp_ms``."""
        return timestamp_ms // self.block_period_ms + 1

    def last_slot_at_or_before(self, time_ms: int) -> int:
        """The latest slot whose time is ``<= time_ms`` (0 if none)."""
        return max(time_ms, 0) // self.block_period_ms
