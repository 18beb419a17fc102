"""A simulated chain: mempool, ledger, a consensus engine and the network between validators.

One :class:`Chain` stands for the whole validator set: honest validators run the
same deterministic checks, so a single shared :class:`Ledger` is their common
state and ``Ledger.apply_block`` is their validation of each block. Who proposes
which block, when, and which messages that costs is the consensus engine's
business (``chain/consensus/``); the chain gives it the validators' identities,
the simulated :class:`~chain.network.Links` between them and a
:class:`~chain.metrics.ChainRecorder`, and commits the blocks it agrees on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chain.block import Block, BlockHeader, seal_block
from chain.certificate import Certificate
from chain.errors import (
    FutureNonce,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    Overdraft,
    StaleNonce,
    UnregisteredSender,
)
from chain.genesis import Genesis
from chain.keys import Identity
from chain.ledger import Ledger
from chain.mempool import Mempool
from chain.merkle import merkle_root
from chain.metrics import ChainRecorder
from chain.network import Links
from chain.transaction import SignedTransaction

_TX_ERROR_TYPES = (
    InvalidTransaction, InvalidSignature, StaleNonce, FutureNonce, Overdraft, UnregisteredSender,
)  # fmt: skip


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def make_genesis(
    chain_id: str,
    consensus: Any,
    balances: Mapping[str, int],
    validators: Sequence[Identity],
    extra_params: Mapping[str, int | str] | None = None,
) -> Genesis:
    """Build the genesis matching a consensus configuration.

    Args:
        chain_id: Chain identifier.
        consensus: Consensus configuration; its ``name`` and ``params()`` are recorded.
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
        consensus: A consensus configuration from :mod:`chain.consensus`
            (``ProofOfAuthority``, ``ProofOfWork``, ``Pbft``, ``Hybrid``,
            ``Central``).
        validators: Validator identities, in the order of ``genesis.validators``.
        registry: The certificate registry (:mod:`chain.authority`) when the
            genesis names an authority; None for an open chain.

    Raises:
        ValueError: If the genesis, consensus and validators disagree.
    """

    def __init__(
        self,
        genesis: Genesis,
        consensus: Any,
        validators: Sequence[Identity],
        registry: Any = None,
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
        self.validator_index = {key: i for i, key in enumerate(keys)}
        self._ledger = Ledger(genesis, registry)
        self._mempool = Mempool(self._ledger)
        self.seed = bytes.fromhex(genesis.hash)
        self.links: Links = consensus.network.links(len(validators), self.seed)
        self.recorder = ChainRecorder(getattr(consensus, "confirmations", 1))
        self._now_ms = 0
        self._rejected: dict[str, int] = {}
        self._committed: list[Block] = []
        self._keyring: dict[str, Identity] = {v.public_hex: v for v in validators}
        self._engine = consensus.engine(self)

    def enroll(self, identities: Iterable[Identity]) -> None:
        """Hold the keys of validators a recorded set change may bring in.

        A proof-of-work chain changes its miners when a ``miner_set`` record is
        committed (:mod:`chain.miner_set`); the chain simulates every miner, so it
        needs their identities to seal and vote.
        """
        for identity in identities:
            self._keyring[identity.public_hex] = identity

    def _follow_validator_set(self) -> None:
        """Switch to the validator set in force at the next height, if it changed."""
        keys = self._ledger.validators_at(self._ledger.height + 1)
        if keys == tuple(identity.public_hex for identity in self._validators):
            return
        missing = [key for key in keys if key not in self._keyring]
        if missing:
            raise ValueError(f"no identity enrolled for validator {missing[0][:12]}…")
        self._validators = tuple(self._keyring[key] for key in keys)
        self.validator_index = {key: i for i, key in enumerate(keys)}
        # New nodes, new links: drawn from the genesis hash and the first height.
        epoch = (self._ledger.height + 1).to_bytes(8, "big")
        self.links = self._consensus.network.links(
            len(keys), hashlib.sha256(self.seed + epoch).digest()
        )
        on_change = getattr(self._engine, "validators_changed", None)
        if on_change is not None:
            on_change()

    @property
    def chain_id(self) -> str:
        """The chain identifier."""
        return self._genesis.chain_id

    @property
    def genesis(self) -> Genesis:
        """The chain's genesis."""
        return self._genesis

    @property
    def consensus(self) -> Any:
        """The consensus configuration."""
        return self._consensus

    @property
    def engine(self) -> Any:
        """The running consensus engine (protocol state and counters)."""
        return self._engine

    @property
    def validators(self) -> tuple[Identity, ...]:
        """Validator identities in proposer order (genesis order until a miner-set change)."""
        return self._validators

    @property
    def registry(self) -> Any:
        """The certificate registry, or None for an open chain."""
        return self._ledger.registry

    @property
    def ledger(self) -> Ledger:
        """The committed state."""
        return self._ledger

    @property
    def mempool(self) -> Mempool:
        """Admitted, not yet committed transactions."""
        return self._mempool

    @property
    def blocks(self) -> Sequence[Block]:
        """Committed blocks (the ledger's :class:`chain.block_store.BlockStore`; do not mutate)."""
        return self._ledger.blocks

    @property
    def certificates(self) -> Sequence[Certificate]:
        """Certificates of the committed blocks that carry one, in height order.

        The ledger's store (streamed from its spill file once spilling; do not mutate).
        """
        return self._ledger.certificates.records

    @property
    def head_hash(self) -> str:
        """Hash of the last block, or the genesis hash."""
        return self._ledger.head_hash

    @property
    def now_ms(self) -> int:
        """The chain's simulated clock."""
        return self._now_ms

    def submit(
        self, stxs: Iterable[SignedTransaction], *, verified: bool = False
    ) -> list[tuple[SignedTransaction, LedgerError]]:
        """Offer transactions to the mempool.

        Args:
            stxs: The transactions, in order.
            verified: Every signature in ``stxs`` was already verified by a party
                this process trusts (the model's honest settlement path: each area
                verifies the payments it signs). Admission then skips only the
                Ed25519 check; chain id, hash, registration, nonce and funds are
                still checked, and block validation is unchanged. Transactions from
                anyone else (attacks, replays) must use the default ``False``.

        Returns:
            The rejected transactions with the error that rejected each, in
            submission order (also counted in :meth:`metrics`).
        """
        rejected = self._mempool.add_many(stxs, verified=verified)
        for _, err in rejected:
            name = type(err).__name__
            self._rejected[name] = self._rejected.get(name, 0) + 1
        self.recorder.mempool_sample(len(self._mempool))
        return rejected

    def advance_to(self, time_ms: int) -> list[Block]:
        """Advance the clock to ``time_ms``, committing every block agreed by then.

        Proposal times follow the consensus (slots of ``block_period_s`` for the
        slot-based protocols, mining races for proof of work); a block proposed
        at or before ``time_ms`` is returned even if its messages reach the last
        validator slightly later (its commit time is in the metrics).

        Returns:
            The blocks committed, in order.

        Raises:
            TypeError: If ``time_ms`` is not an int.
            ValueError: If ``time_ms`` is before the current clock.
        """
        if isinstance(time_ms, bool) or not isinstance(time_ms, int):
            raise TypeError(f"time_ms must be an int (got {type(time_ms).__name__})")
        if time_ms < self._now_ms:
            raise ValueError(f"time_ms {time_ms} is before the chain clock {self._now_ms}")
        self._committed = []
        self._engine.run_until(time_ms)
        self._now_ms = time_ms
        self.recorder.mempool_sample(len(self._mempool))
        committed, self._committed = self._committed, []
        return committed

    # ------------------------------------------------------------------ engine API
    def draft_header(
        self,
        proposer: int,
        timestamp_ms: int,
        transactions: Sequence[SignedTransaction],
        *,
        nonce: int = 0,
        difficulty_bits: int = 0,
    ) -> BlockHeader:
        """The unsigned header of a block of ``validators[proposer]`` on the current head."""
        return BlockHeader(
            chain_id=self.chain_id,
            height=self._ledger.height + 1,
            prev_hash=self._ledger.head_hash,
            merkle_root=merkle_root([stx.tx_hash for stx in transactions]),
            timestamp_ms=int(timestamp_ms),
            proposer=self._validators[proposer].public_hex,
            consensus=self._consensus.name,
            nonce=nonce,
            difficulty_bits=difficulty_bits,
            hash_function=self._ledger.hash_function,
        )

    def build_block(
        self,
        proposer: int,
        timestamp_ms: int,
        transactions: Sequence[SignedTransaction],
        *,
        nonce: int = 0,
        difficulty_bits: int = 0,
    ) -> Block:
        """Build and sign a block of ``validators[proposer]`` on the current head."""
        header = self.draft_header(
            proposer, timestamp_ms, transactions, nonce=nonce, difficulty_bits=difficulty_bits
        )
        self.recorder.signatures_signed += 1
        return seal_block(header, self._validators[proposer], transactions)

    def commit(self, block: Block, commit_ms: float, certificate: Certificate | None) -> None:
        """Validate and append ``block`` (agreed at simulated ``commit_ms``).

        Raises:
            LedgerError: If the block is invalid; its transactions go back to the
                front of the mempool (an honest engine never gets here).
        """
        try:
            self._ledger.apply_block(block, certificate=certificate)
        except LedgerError:
            self._mempool.restore(block.transactions)
            raise
        self.recorder.block(
            [stx.tx.timestamp_ms for stx in block.transactions],
            block.size_bytes,
            commit_ms,
            certificate.size_bytes if certificate is not None else 0,
        )
        self._committed.append(block)
        self._follow_validator_set()

    def metrics(self) -> dict[str, float | int]:
        """Performance and health counters over the simulated run so far.

        Keys (all numbers): ``blocks``, ``committed_tx`` (in blocks),
        ``confirmed_tx`` / ``unconfirmed_tx`` (final or not after
        ``confirmations`` blocks; only proof of work needs more than 1),
        ``rejected_tx`` and ``rejected_tx_<error>`` per error type,
        ``mempool_size`` (now), ``mempool_max`` and ``mempool_mean`` (samples
        after each submit and advance), ``throughput_tx_per_s`` (committed tx
        per simulated second since genesis), ``commit_latency_mean_ms`` /
        ``_p95_ms`` (tx timestamp to the block's commit, network and consensus
        delays included), ``confirmation_latency_mean_ms`` / ``_p95_ms`` (to
        finality), ``mean_block_tx``, ``std_block_tx``, ``mean_block_bytes``,
        ``std_block_bytes`` (``Block.size_bytes``), ``consensus_messages`` and
        ``consensus_bytes`` with ``messages_<kind>`` / ``bytes_<kind>`` per
        message kind, ``signatures_signed`` / ``signatures_verified``
        (consensus signatures), ``storage_bytes_per_validator`` (a full node
        keeps every block and certificate), ``storage_bytes_all_validators``,
        ``sim_time_ms``, and the engine's own counters (see ``docs/consensus.md``).
        """
        metrics = self.recorder.summary(self._now_ms, len(self._validators))
        rejected: dict[str, float | int] = {
            f"rejected_tx_{_snake(cls.__name__)}": 0 for cls in _TX_ERROR_TYPES
        }
        for name, count in self._rejected.items():
            rejected[f"rejected_tx_{_snake(name)}"] = count
        metrics.update(
            {
                "rejected_tx": sum(self._rejected.values()),
                **rejected,
                "mempool_size": len(self._mempool),
            }
        )
        metrics.update(self._engine.metrics())
        return metrics
