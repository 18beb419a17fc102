"""Account ledger: validated, atomic application of blocks to balances and nonces."""

from __future__ import annotations

import os
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from chain.block import Block, leading_zero_bits
from chain.block_store import MIN_KEEP, BlockStore, CertificateStore
from chain.certificate import Certificate
from chain.consensus_rules import CONSENSUS_NAMES, block_hash_function, check_block_rules
from chain.errors import (
    BadBlockHash,
    BadHeight,
    BadMerkleRoot,
    BadPrevHash,
    BadProposerSignature,
    InsufficientWork,
    InvalidBlock,
    LedgerError,
    TimestampRegression,
    short_hex,
)
from chain.genesis import Genesis
from chain.keys import verify_signature_hex
from chain.merkle import merkle_root
from chain.miner_set import MINER_SET_KIND, MinerSchedule, parse_miner_set
from chain.rules import (
    check_funds,
    check_integrity,
    check_nonce,
    check_registered,
    passes_every_rule,
    unregistered_among,
)
from chain.transaction import SignedTransaction

__all__ = ["Genesis", "Ledger"]


class Ledger:
    """State of one chain: balances, nonces and the committed blocks.

    Attributes:
        genesis: The chain's genesis.
        balances: Public key hex -> micro-coins.
        nonces: Sender -> next expected nonce (absent means 0).
        blocks: Committed blocks, ``blocks[i].height == i + 1``: a
            :class:`chain.block_store.BlockStore` (a list until :meth:`spill_to`,
            then the newest blocks in memory and the older ones in a file).
        certificates: ``height -> certificate`` of the committed blocks that
            carry one (PBFT, hybrid, proof of work), a
            :class:`chain.block_store.CertificateStore` spilled alongside.
        verified_signatures: ``tx_hash -> signature`` of transactions whose
            signatures were already verified in this process (by mempool
            admission). ``apply_block`` skips re-verifying them: honest
            validators run the same deterministic check on the same bytes, so
            one check stands for all of them, and the exported ledger is
            re-verified independently by :func:`chain.verify.verify_run`.
            Entries are dropped once their transaction is committed.
    """

    def __init__(self, genesis: Genesis, registry: Any = None) -> None:
        """Start from the genesis balances with no blocks.

        Args:
            genesis: The chain's genesis.
            registry: The :class:`chain.authority.Registry` a genesis naming a
                certificate authority (``params["registry_root"]``) requires;
                then only registered keys may send and every validator must be
                registered. None for an open chain.

        Raises:
            ValueError: If the registry is missing, does not match the genesis,
                or lacks a validator.
        """
        if not isinstance(genesis, Genesis):
            raise TypeError(f"genesis must be a Genesis (got {type(genesis).__name__})")
        self.registry = registry
        self.registered: AbstractSet[str] | None = None
        if "registry_root" in genesis.params or registry is not None:
            if registry is None or not registry.matches(genesis.params):
                raise ValueError(
                    "registry must be the certificate registry named by the genesis params "
                    "ca_public_key and registry_root"
                )
            unregistered = [v for v in genesis.validators if v not in registry]
            if unregistered:
                raise ValueError(f"validator {unregistered[0][:12]}… holds no certificate")
            self.registered = registry.keys
        self.genesis = genesis
        self.balances: dict[str, int] = dict(genesis.balances)
        self.nonces: dict[str, int] = {}
        # Once spilling, keep what the consensus rules read in memory: Clique's
        # recent-signer rule looks back floor(n/2) blocks, the others at the head only.
        keep = max(MIN_KEEP, len(genesis.validators) // 2 + 1)
        self.blocks = BlockStore(keep)
        self.certificates = CertificateStore(keep)
        self.verified_signatures: dict[str, str] = {}
        self.hash_function = block_hash_function(genesis)
        if genesis.consensus not in CONSENSUS_NAMES:
            raise ValueError(
                f"consensus must be one of {', '.join(CONSENSUS_NAMES)} (got {genesis.consensus!r})"
            )
        self._head_hash = genesis.hash
        self.miner_schedule = MinerSchedule(genesis)

    def validators_at(self, height: int) -> tuple[str, ...]:
        """Validators that seal block ``height``.

        The genesis set, or for proof of work the miner set in force at that height
        (:mod:`chain.miner_set`).
        """
        if self.genesis.consensus != "pow":
            return tuple(self.genesis.validators)
        return self.miner_schedule.at(height).miners

    def spill_to(self, directory: str | os.PathLike[str]) -> None:
        """Keep only recent blocks and certificates in memory, older ones in ``directory``.

        Files ``blocks.bin`` and ``certificates.bin`` (see :mod:`chain.block_store`).
        """
        directory = Path(directory)
        self.blocks.spill_to(directory / "blocks.bin")
        self.certificates.spill_to(directory / "certificates.bin")

    @property
    def committed_tx(self) -> int:
        """Transactions in all committed blocks (a counter, no block is read)."""
        return self.blocks.n_tx

    @property
    def chain_id(self) -> str:
        """The chain identifier."""
        return self.genesis.chain_id

    @property
    def height(self) -> int:
        """Height of the head block, 0 before the first block."""
        return len(self.blocks)

    @property
    def head_hash(self) -> str:
        """Hash of the head block, or the genesis hash when there is none."""
        return self._head_hash

    @property
    def head_timestamp_ms(self) -> int:
        """Timestamp of the head block, 0 before the first block."""
        return self.blocks[-1].header.timestamp_ms if self.blocks else 0

    def balance_of(self, account: str) -> int:
        """Micro-coins held by ``account`` (0 if unknown)."""
        return self.balances.get(account, 0)

    def next_nonce(self, sender: str) -> int:
        """Nonce the next transaction of ``sender`` must carry."""
        return self.nonces.get(sender, 0)

    def total_supply(self) -> int:
        """Sum of all balances; equals ``genesis.total_supply`` at all times."""
        return sum(self.balances.values())

    def check_transaction(self, stx: SignedTransaction) -> None:
        """Check a transaction against the committed state (not pending ones).

        Raises:
            InvalidTransaction, InvalidSignature, StaleNonce, FutureNonce,
            Overdraft, UnregisteredSender: The first rule the transaction breaks.
        """
        check_integrity(stx, self.chain_id, self.verified_signatures)
        check_registered(stx, self.registered)
        check_nonce(stx, self.next_nonce(stx.tx.sender))
        check_funds(stx, self.balance_of(stx.tx.sender))
        if stx.tx.kind == MINER_SET_KIND:
            parse_miner_set(stx, self.genesis, self.registry, self.height + 2)

    def apply_block(
        self, block: Block, *, consensus: Any = None, certificate: Certificate | None = None
    ) -> None:
        """Validate a block completely and apply it, or change nothing.

        Args:
            block: The block to append.
            consensus: Optional consensus name or object with a ``name``; it
                must be the genesis consensus, whose rules apply
                (:func:`chain.consensus_rules.check_block_rules`).
            certificate: The block's certificate (required for PBFT, hybrid and
                proof of work; none for the others).

        Raises:
            InvalidBlock: Or one of its subclasses, for header rule violations.
            LedgerError: The typed transaction error of the first invalid
                transaction, its message prefixed with the block height and
                transaction index.
        """
        if not isinstance(block, Block):
            raise InvalidBlock(f"expected a Block, got {type(block).__name__}")
        if consensus is not None:
            consensus_name = consensus if isinstance(consensus, str) else consensus.name
            if consensus_name != self.genesis.consensus:
                raise InvalidBlock(
                    f"block {block.height}: consensus {consensus_name!r} is not the genesis "
                    f"consensus {self.genesis.consensus!r}"
                )
        self._check_header(block)
        check_block_rules(
            self.genesis, self.blocks, block, certificate, self.validators_at(block.height)
        )
        new_balances, new_nonces, miner_sets = self._simulate(block)
        # Commit: nothing above raised, so the block is valid as a whole.
        self.balances.update(new_balances)
        self.nonces.update(new_nonces)
        self.blocks.append(block)
        if certificate is not None:
            self.certificates[block.height] = certificate
        self._head_hash = block.block_hash
        for miner_set in miner_sets:
            self.miner_schedule.add(miner_set)
        for stx in block.transactions:
            self.verified_signatures.pop(stx.tx_hash, None)

    def _check_header(self, block: Block) -> None:
        header = block.header
        height = header.height
        if header.chain_id != self.chain_id:
            raise InvalidBlock(
                f"block {height} is for chain {header.chain_id!r}, not {self.chain_id!r}"
            )
        if header.consensus != self.genesis.consensus:
            raise InvalidBlock(
                f"block {height} declares consensus {header.consensus!r}, "
                f"genesis says {self.genesis.consensus!r}"
            )
        if height != self.height + 1:
            raise BadHeight(f"block height {height} does not follow head height {self.height}")
        if header.prev_hash != self._head_hash:
            raise BadPrevHash(
                f"block {height} prev_hash {short_hex(header.prev_hash)} is not the head hash "
                f"{short_hex(self._head_hash)}"
            )
        if header.timestamp_ms < self.head_timestamp_ms:
            raise TimestampRegression(
                f"block {height} timestamp {header.timestamp_ms} ms is before its parent's "
                f"{self.head_timestamp_ms} ms"
            )
        if header.hash_function != self.hash_function:
            raise BadBlockHash(
                f"block {height} is hashed with {header.hash_function}, genesis declares "
                f"{self.hash_function}"
            )
        if block.block_hash != header.block_hash:
            raise BadBlockHash(
                f"block {height} claims hash {short_hex(block.block_hash)} but its header hashes "
                f"to {short_hex(header.block_hash)}"
            )
        zero_bits = leading_zero_bits(header.block_hash)
        if zero_bits < header.difficulty_bits:
            raise InsufficientWork(
                f"block {height} hash has {zero_bits} leading zero bits, "
                f"difficulty_bits requires {header.difficulty_bits}"
            )
        if not verify_signature_hex(header.proposer, block.proposer_signature, header.canonical()):
            raise BadProposerSignature(
                f"block {height} proposer signature does not verify for "
                f"{short_hex(header.proposer)}"
            )
        root = merkle_root([stx.tx_hash for stx in block.transactions])
        if root != header.merkle_root:
            raise BadMerkleRoot(
                f"block {height} merkle_root {short_hex(header.merkle_root)} does not match its "
                f"{block.n_tx} transactions (root {short_hex(root)})"
            )

    def _simulate(self, block: Block) -> tuple[dict[str, int], dict[str, int], list]:
        """Run the block's transactions on overlays of the state.

        Returns:
            The balance and nonce overlays, and the miner sets the block records
            (in force from the next height).
        """
        balances = self.balances
        nonces = self.nonces
        new_balances: dict[str, int] = {}
        new_nonces: dict[str, int] = {}
        chain_id = self.chain_id
        verified = self.verified_signatures
        cached_signature = verified.get
        registered = self.registered
        transactions = block.transactions
        unregistered = unregistered_among(
            [stx.tx.sender for stx in transactions if isinstance(stx, SignedTransaction)],
            registered,
        )
        miner_sets = []
        for index, stx in enumerate(transactions):
            if not isinstance(stx, SignedTransaction):
                self._recheck(block, index, stx, registered, 0, 0, miner_sets)  # raises
            tx = stx.tx
            sender = tx.sender
            expected = new_nonces.get(sender)
            if expected is None:
                expected = nonces.get(sender, 0)
            available = new_balances.get(sender)
            if available is None:
                available = balances.get(sender, 0)
            # The rule functions run (to raise the typed error, verify an uncached
            # signature or parse a miner set) only when the plain comparisons fail.
            if not passes_every_rule(
                stx,
                chain_id,
                cached_signature(stx.tx_hash) == stx.signature,
                unregistered,
                expected,
                available,
            ):
                self._recheck(block, index, stx, registered, expected, available, miner_sets)
            new_nonces[sender] = tx.nonce + 1
            new_balances[sender] = available - tx.amount
            receiver_balance = new_balances.get(tx.receiver)
            if receiver_balance is None:
                receiver_balance = balances.get(tx.receiver, 0)
            new_balances[tx.receiver] = receiver_balance + tx.amount
        return new_balances, new_nonces, miner_sets

    def _recheck(
        self,
        block: Block,
        index: int,
        stx: SignedTransaction,
        registered: AbstractSet[str] | None,
        expected_nonce: int,
        available: int,
        miner_sets: list,
    ) -> None:
        """Run every rule on transaction ``index`` of ``block`` and raise the first broken one.

        Returns normally when the transaction is valid (an uncached signature that
        verifies; a miner-set record, appended to ``miner_sets``).
        """
        try:
            check_integrity(stx, self.chain_id, self.verified_signatures)
            check_registered(stx, registered)
            check_nonce(stx, expected_nonce)
            check_funds(stx, available)
            if stx.tx.kind == MINER_SET_KIND:
                miner_sets.append(
                    parse_miner_set(stx, self.genesis, self.registry, block.height + 1)
                )
        except LedgerError as err:
            raise type(err)(f"block {block.height} tx {index}: {err}") from None
