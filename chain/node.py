"""A simulated PoA chain: mempool, slot clock, in-turn sealing and metrics.

One :class:`Chain` stands for the whole honest validator set: all validators
run the same deterministic checks, so a single shared :class:`Ledger` is their
common state and ``Ledger.apply_block`` is their validation of each block.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from chain.block import Block, BlockHeader, seal_block
from chain.consensus.poa import ProofOfAuthority
from chain.errors import (
    FutureNonce,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    Overdraft,
    StaleNonce,
)
from chain.genesis import Genesis
from chain.keys import Identity
from chain.ledger import Ledger
from chain.mempool import Mempool
from chain.merkle import merkle_root
from chain.transaction import SignedTransaction

_TX_ERROR_TYPES = (InvalidTransaction, InvalidSignature, StaleNonce, FutureNonce, Overdraft)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def make_genesis(
    chain_id: str,
    consensus: ProofOfAuthority,
    balances: Mapping[str, int],
    validators: Sequence[Identity],
    extra_params: Mapping[str, int | str] | None = None,
) -> Genesis:
    """Build the genesis matching a consensus configuration.

    Args:
        chain_id: Chain identifier.
        consensus: Consensus configuration; its ``params()`` are recorded.
        balances: Public key hex -> initial micro-coins.
        validators: Validator identities in proposer order.
        extra_params: Additional integer/string params to record (e.g. a seed).
    """
    params: dict[str, int | str] = dict(extra_params or {})
    params.update(consensus.params())
    return Genesis(
        chain_id=chain_id,
        consensus=consensus.name,
        balances=dict(balances),
        validators=tuple(identity.public_hex for identity in validators),
        params=params,
    )


class Chain:
    """One chain driven by a simulated clock.

    Args:
        genesis: The chain's genesis; its consensus and params must match
            ``consensus``.
        consensus: PoA configuration.
        validators: Validator identities, in the order of ``genesis.validators``.

    Raises:
        ValueError: If the genesis, consensus and validators disagree.
    """

    def __init__(
        self,
        genesis: Genesis,
        consensus: ProofOfAuthority,
        validators: Sequence[Identity],
    ) -> None:
        validators = tuple(validators)
        keys = tuple(identity.public_hex for identity in validators)
        if keys != genesis.validators:
            raise ValueError("validators must be the identities of genesis.validators, in order")
        if len(validators) != consensus.n_validators:
            raise ValueError(
                f"n_validators is {consensus.n_validators} but {len(validators)} validators given"
            )
        if genesis.consensus != consensus.name:
            raise ValueError(f"genesis consensus {genesis.consensus!r} is not {consensus.name!r}")
        for key, value in consensus.params().items():
            if genesis.params.get(key) != value:
                raise ValueError(
                    f"genesis params[{key!r}] is {genesis.params.get(key)!r}, "
                    f"consensus has {value!r}"
                )
        self._genesis = genesis
        self._consensus = consensus
        self._validators = validators
        self._ledger = Ledger(genesis)
        self._mempool = Mempool(self._ledger)
        self._now_ms = 0
        self._next_slot = 1
        self._rejected: dict[str, int] = {}
        self._latencies_ms = array("q")
        self._block_bytes = 0

    @property
    def chain_id(self) -> str:
        """The chain identifier."""
        return self._genesis.chain_id

    @property
    def genesis(self) -> Genesis:
        """The chain's genesis."""
        return self._genesis

    @property
    def consensus(self) -> ProofOfAuthority:
        """The consensus configuration."""
        return self._consensus

    @property
    def ledger(self) -> Ledger:
        """The committed state."""
        return self._ledger

    @property
    def mempool(self) -> Mempool:
        """Admitted, not yet committed transactions."""
        return self._mempool

    @property
    def blocks(self) -> list[Block]:
        """Committed blocks (the ledger's list; do not mutate)."""
        return self._ledger.blocks

    @property
    def head_hash(self) -> str:
        """Hash of the last block, or the genesis hash."""
        return self._ledger.head_hash

    @property
    def now_ms(self) -> int:
        """The chain's simulated clock."""
        return self._now_ms

    def submit(
        self, stxs: Iterable[SignedTransaction]
    ) -> list[tuple[SignedTransaction, LedgerError]]:
        """Offer transactions to the mempool.

        Returns:
            The rejected transactions with the error that rejected each, in
            submission order (also counted in :meth:`metrics`).
        """
        rejected = []
        add = self._mempool.add
        for stx in stxs:
            try:
                add(stx)
            except LedgerError as err:
                name = type(err).__name__
                self._rejected[name] = self._rejected.get(name, 0) + 1
                rejected.append((stx, err))
        return rejected

    def advance_to(self, time_ms: int) -> list[Block]:
        """Advance the clock to ``time_ms``, sealing every due block.

        With ``seal_empty_blocks`` every slot up to ``time_ms`` gets a block.
        Otherwise idle slots are skipped: the next block is sealed at the first
        slot that can include the oldest pending transaction, but never at or
        before a slot already passed.

        Returns:
            The blocks sealed, in order.

        Raises:
            TypeError: If ``time_ms`` is not an int.
            ValueError: If ``time_ms`` is before the current clock.
        """
        if isinstance(time_ms, bool) or not isinstance(time_ms, int):
            raise TypeError(f"time_ms must be an int (got {type(time_ms).__name__})")
        if time_ms < self._now_ms:
            raise ValueError(f"time_ms {time_ms} is before the chain clock {self._now_ms}")
        consensus = self._consensus
        last_slot = consensus.last_slot_at_or_before(time_ms)
        sealed: list[Block] = []
        if consensus.seal_empty_blocks:
            for slot in range(self._next_slot, last_slot + 1):
                sealed.append(self._seal_slot(slot))
                self._next_slot = slot + 1
        else:
            while (oldest := self._mempool.peek()) is not None:
                slot = max(self._next_slot, consensus.first_slot_after(oldest.tx.timestamp_ms))
                if slot > last_slot:
                    break
                sealed.append(self._seal_slot(slot))
                self._next_slot = slot + 1
        self._next_slot = max(self._next_slot, last_slot + 1)
        self._now_ms = time_ms
        return sealed

    def _seal_slot(self, slot: int) -> Block:
        consensus = self._consensus
        slot_ms = consensus.slot_time_ms(slot)
        stxs = self._mempool.take(consensus.max_block_tx, slot_ms - 1)
        height = self._ledger.height + 1
        proposer = self._validators[consensus.proposer_index(height)]
        header = BlockHeader(
            chain_id=self.chain_id,
            height=height,
            prev_hash=self._ledger.head_hash,
            merkle_root=merkle_root([stx.tx_hash for stx in stxs]),
            timestamp_ms=slot_ms,
            proposer=proposer.public_hex,
            consensus=consensus.name,
            nonce=0,
            difficulty_bits=0,
        )
        block = seal_block(header, proposer, stxs)
        try:
            self._ledger.apply_block(block, consensus=consensus)
        except LedgerError:
            # An honest block failing validation is a bug; keep the mempool whole.
            self._mempool.restore(stxs)
            raise
        self._latencies_ms.extend(slot_ms - stx.tx.timestamp_ms for stx in stxs)
        self._block_bytes += block.size_bytes
        return block

    def metrics(self) -> dict[str, float | int]:
        """Performance and health counters over the simulated run so far.

        Keys: ``blocks``, ``committed_tx``, ``rejected_tx`` and
        ``rejected_tx_<error>`` per error type (snake case), ``mempool_size``,
        ``confirmation_latency_mean_ms`` / ``_p95_ms`` (block timestamp minus
        tx timestamp), ``throughput_tx_per_s`` (committed tx per simulated
        second since genesis), ``mean_block_tx``, ``mean_block_bytes`` (see
        ``Block.size_bytes``), ``consensus_messages`` and ``consensus_bytes``
        (the proposer broadcasts each block to the n - 1 other validators),
        and ``sim_time_ms``.
        """
        n_blocks = self._ledger.height
        committed = len(self._latencies_ms)
        others = self._consensus.n_validators - 1
        rejected: dict[str, float | int] = {
            f"rejected_tx_{_snake(cls.__name__)}": 0 for cls in _TX_ERROR_TYPES
        }
        for name, count in self._rejected.items():
            rejected[f"rejected_tx_{_snake(name)}"] = count
        latencies = np.frombuffer(self._latencies_ms, dtype=np.int64) if committed else None
        elapsed_s = self._now_ms / 1000
        return {
            "blocks": n_blocks,
            "committed_tx": committed,
            "rejected_tx": sum(self._rejected.values()),
            **rejected,
            "mempool_size": len(self._mempool),
            "confirmation_latency_mean_ms": float(latencies.mean()) if committed else 0.0,
            "confirmation_latency_p95_ms": (
                float(np.percentile(latencies, 95)) if committed else 0.0
            ),
            "throughput_tx_per_s": committed / elapsed_s if elapsed_s > 0 else 0.0,
            "mean_block_tx": committed / n_blocks if n_blocks else 0.0,
            "mean_block_bytes": self._block_bytes / n_blocks if n_blocks else 0.0,
            "consensus_messages": n_blocks * others,
            "consensus_bytes": self._block_bytes * others,
            "sim_time_ms": self._now_ms,
        }
