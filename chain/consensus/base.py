"""What every consensus plug-in shares: config checks, the slot clock and the engine API.

A consensus *configuration* (a frozen dataclass built from ``conf/chain/<name>.yaml``)
names the protocol and its parameters and builds an *engine* for one chain with
:meth:`SlotConsensus.engine`. The engine decides who proposes which block and when,
simulates the protocol's messages over the chain's :class:`~chain.network.Links`,
and hands each agreed block to its host (:class:`chain.node.Chain`) with the
simulated time at which it committed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from chain.network import NetworkModel

if TYPE_CHECKING:
    from chain.block import Block, BlockHeader
    from chain.certificate import Certificate
    from chain.keys import Identity
    from chain.ledger import Ledger
    from chain.mempool import Mempool
    from chain.metrics import ChainRecorder
    from chain.network import Links
    from chain.transaction import SignedTransaction


def check_int(name: str, value: object, minimum: int) -> int:
    """Require an int (not bool) ``>= minimum``; raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} (got {value!r})")
    return value


def check_number(name: str, value: object, minimum: float, *, strict: bool = False) -> float:
    """Require a finite int/float ``>= minimum`` (``>`` when ``strict``)."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not ok:
        raise ValueError(
            f"{name} must be a number {'>' if strict else '>='} {minimum} (got {value!r})"
        )
    return float(value)  # type: ignore[arg-type]


def check_period_s(name: str, value: object) -> int:
    """Check a period in seconds that is a whole number of ms; return it in ms."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be > 0 (got {value!r})")
    period_ms = value * 1000
    if abs(period_ms - round(period_ms)) > 1e-6 or round(period_ms) < 1:
        raise ValueError(f"{name} must be a whole number of milliseconds >= 0.001 (got {value!r})")
    return round(period_ms)


def as_network(value: object) -> NetworkModel:
    """Accept a :class:`NetworkModel` or a mapping of its fields (as Hydra may pass)."""
    if isinstance(value, NetworkModel):
        return value
    if isinstance(value, Mapping):
        fields = {str(k): v for k, v in value.items() if str(k) != "_target_"}
        try:
            return NetworkModel(**fields)
        except TypeError as err:
            raise ValueError(f"network has an unknown field ({err})") from None
    raise ValueError(f"network must be a NetworkModel or a mapping (got {type(value).__name__})")


def as_index_set(name: str, value: object, n: int) -> tuple[int, ...]:
    """Validator indices from a list (sorted, distinct, each in ``[0, n)``)."""
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a list of validator indices (got {value!r})")
    indices = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < n:
            raise ValueError(f"{name} must hold validator indices in [0, {n}) (got {item!r})")
        indices.append(int(item))
    if len(set(indices)) != len(indices):
        raise ValueError(f"{name} must not repeat an index (got {list(value)})")
    return tuple(sorted(indices))


def as_behaviours(
    name: str, value: object, n: int, allowed: tuple[str, ...]
) -> tuple[tuple[int, str], ...]:
    """A ``{index: behaviour}`` mapping as sorted ``(index, behaviour)`` pairs."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items = [tuple(pair) for pair in value]  # type: ignore[arg-type]
    else:
        raise ValueError(
            f"{name} must map validator indices to {'|'.join(allowed)} (got {value!r})"
        )
    pairs = []
    for key, behaviour in items:
        index = int(key) if isinstance(key, str) and key.lstrip("-").isdigit() else key
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise ValueError(f"{name} keys must be validator indices in [0, {n}) (got {key!r})")
        if behaviour not in allowed:
            raise ValueError(
                f"{name}[{index}] must be one of {', '.join(allowed)} (got {behaviour!r})"
            )
        pairs.append((index, str(behaviour)))
    if len({index for index, _ in pairs}) != len(pairs):
        raise ValueError(f"{name} names a validator twice")
    return tuple(sorted(pairs))


def deterministic_uniform(seed: bytes, *labels: int | str) -> float:
    """A uniform number in ``[0, 1)`` that depends only on ``seed`` and ``labels``."""
    material = seed + b"|" + "|".join(str(label) for label in labels).encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") / 2.0**64


class Host(Protocol):
    """What an engine may use of its chain (implemented by :class:`chain.node.Chain`)."""

    chain_id: str
    ledger: Ledger
    mempool: Mempool
    validators: tuple[Identity, ...]
    validator_index: dict[str, int]
    links: Links
    recorder: ChainRecorder
    seed: bytes

    def draft_header(
        self,
        proposer: int,
        timestamp_ms: int,
        transactions: Sequence[SignedTransaction],
        *,
        nonce: int = 0,
        difficulty_bits: int = 0,
    ) -> BlockHeader:
        """The unsigned header of a block on the current head."""
        ...

    def build_block(
        self,
        proposer: int,
        timestamp_ms: int,
        transactions: Sequence[SignedTransaction],
        *,
        nonce: int = 0,
        difficulty_bits: int = 0,
    ) -> Block:
        """Header, Merkle root and proposer signature for a block on the current head."""
        ...

    def commit(self, block: Block, commit_ms: float, certificate: Certificate | None) -> None:
        """Validate and append ``block``; record its commit time."""
        ...


class Engine(Protocol):
    """One chain's running consensus."""

    def run_until(self, time_ms: int) -> None:
        """Commit every block the protocol agrees on up to simulated ``time_ms``."""
        ...

    def metrics(self) -> dict[str, float | int]:
        """Protocol-specific counters (merged into ``Chain.metrics()``)."""
        ...


@dataclass(frozen=True)
class SlotConsensus:
    """Fields and slot arithmetic of protocols that propose on a fixed block period.

    Attributes:
        block_period_s: Time between slots in seconds; > 0 and a whole number
            of milliseconds.
        max_block_tx: Maximum transactions per block, >= 1; the rest waits.
        n_validators: Size of the validator set, >= 1.
        seal_empty_blocks: Propose at every slot even without transactions,
            instead of skipping idle slots (keeps day-long runs small).
        network: Links between validators (latency, bandwidth).
    """

    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False
    network: Any = field(default_factory=NetworkModel)

    name: ClassVar[str] = "slot"

    def __post_init__(self) -> None:
        check_period_s("block_period_s", self.block_period_s)
        check_int("max_block_tx", self.max_block_tx, 1)
        check_int("n_validators", self.n_validators, 1)
        if not isinstance(self.seal_empty_blocks, bool):
            raise ValueError(f"seal_empty_blocks must be a bool (got {self.seal_empty_blocks!r})")
        object.__setattr__(self, "network", as_network(self.network))

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

    def slot_time_ms(self, slot: int) -> int:
        """Time of slot ``slot`` (slot 1 is one period after genesis)."""
        return slot * self.block_period_ms

    def first_slot_after(self, timestamp_ms: int) -> int:
        """The first slot whose block may include a tx stamped ``timestamp_ms``."""
        return timestamp_ms // self.block_period_ms + 1

    def first_slot_at_or_after(self, time_ms: float) -> int:
        """The first slot whose time is ``>= time_ms``."""
        return max(math.ceil(time_ms / self.block_period_ms), 1)

    def last_slot_at_or_before(self, time_ms: int) -> int:
        """The latest slot whose time is ``<= time_ms`` (0 if none)."""
        return max(time_ms, 0) // self.block_period_ms

    def next_slot(self, host: Host, earliest_slot: int) -> int | None:
        """The next slot to propose at, not before ``earliest_slot``; None when idle.

        With ``seal_empty_blocks`` that is ``earliest_slot``. Otherwise it is the
        first slot that can include the oldest pending transaction (a tx stamped
        ``s`` enters a block of slot time ``T`` only if ``s < T``).
        """
        if self.seal_empty_blocks:
            return earliest_slot
        oldest = host.mempool.peek()
        if oldest is None:
            return None
        return max(earliest_slot, self.first_slot_after(oldest.tx.timestamp_ms))
