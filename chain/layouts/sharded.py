"""``sharded``: one shard (chain, consensus instance, validators) per station area.

Seed 002 §4.3. Payments inside an area go to the area's shard. A payment
between areas is a *cross-area payment* (legs in :mod:`chain.layouts.cross_shard`):

* ``cross: full`` -- each shard keeps only its own ledger. The payer's lock
  commits by consensus in the payer's shard; then the two shards run a
  two-phase exchange over the network (prepare A->B, vote B->A, commit or abort
  A->B, each all-to-all between the shards' validators); on commit the payee's
  shard commits the credit by its own consensus, on abort the payer's shard
  commits a refund.
* ``cross: partial`` -- the cross-nodes of both areas (selected by credit,
  :mod:`chain.layouts.cross_nodes`) keep the ledgers of every shard, so they
  check the payer's funds and the payee shard's escrow themselves and agree
  once (a three-phase round among the cross-nodes); lock and credit are then
  recorded in both shards in parallel (or, if they refuse, lock and refund in
  the payer's shard).

Genesis split (documented in ``docs/consensus.md``): each wallet holder's
balance is in its own area's shard; the grid operator's wallet is split
evenly over the shards (remainder to the first) because it trades in every
area; each shard's escrow holds ``cross_reserve_coins`` (extra supply that
backs incoming credits; a shard whose reserve is spent votes abort).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from chain.block import Block
from chain.errors import LedgerError
from chain.keys import Identity
from chain.layouts.base import Layout, split_evenly
from chain.layouts.cross_nodes import CrossNodes
from chain.layouts.cross_shard import (
    CREDIT_KIND,
    REFUND_KIND,
    CrossPayment,
    write_cross_shard,
)
from chain.network import NetworkModel
from chain.transaction import SignedTransaction, Transaction, sign_transaction

#: Estimated size of one cross-shard protocol message: tx hash, chain ids,
#: amount, a vote and an Ed25519 signature (our assumption).
CROSS_MESSAGE_BYTES = 200


class ShardedLayout(Layout):
    """One shard per station area with cross-area payments (see the module docstring)."""

    name: ClassVar[str] = "sharded"
    shard_word: ClassVar[str] = "shard"

    def __init__(self, config: Any, consensus: Any, **kwargs: Any) -> None:
        super().__init__(config, consensus, **kwargs)
        n = consensus.n_validators
        operator_shares = split_evenly(kwargs["operator_micro"], self.n_areas)
        self.shard_ids: list[str] = []
        self.escrow: dict[str, Identity] = {}
        user_counts = []
        for a, area_balances in enumerate(kwargs["area_balances"]):
            chain_id = f"{self.base_chain_id}-{self.shard_word}{a}"
            escrow = Identity.derive(self.seed, f"escrow/{chain_id}")
            balances = dict(area_balances)
            balances[self.operator_key] = operator_shares[a]
            balances[escrow.public_hex] = config.cross_reserve_micro
            self._add_chain(
                chain_id,
                balances,
                [f"validator/{chain_id}/{k}" for k in range(n)],
                [a] * n,
                hybrid_areas=[a] * n,
            )
            self.shard_ids.append(chain_id)
            self.escrow[chain_id] = escrow
            user_counts.append(len(area_balances))
        self.area_of_chain = {cid: a for a, cid in enumerate(self.shard_ids)}
        self.cross_nodes = CrossNodes(user_counts, n, config.reselect_every)
        network = getattr(consensus, "network", None) or NetworkModel()
        self.link_ms = network.latency_ms + CROSS_MESSAGE_BYTES * 8 / (network.bandwidth_mbps * 1e3)
        self.payments: list[CrossPayment] = []
        self._watch: dict[str, CrossPayment] = {}  # leg tx hash -> payment awaiting it
        self._queue: list[tuple[int, int, str, CrossPayment]] = []  # (ready, seq, leg, payment)
        self._seq = 0
        self._nonces: dict[tuple[str, str], int] = {}
        # Escrow funds promised to pending credits (reserved) and locks that an abort
        # may still refund (locked): neither may back another payment's credit.
        self._reserved: dict[str, int] = dict.fromkeys(self.shard_ids, 0)
        self._locked: dict[str, int] = dict.fromkeys(self.shard_ids, 0)
        self._heights = dict.fromkeys(self.shard_ids, 0)

    def signers(self) -> list[Identity]:
        """Validators, then each shard's escrow (it signs credits and refunds)."""
        return [*super().signers(), *self.escrow.values()]

    # ------------------------------------------------------------------ routing
    def home_chain_id(self, area: int) -> str:
        """The shard of ``area``."""
        return self.shard_ids[area]

    def chain_ids(
        self, payer_area: np.ndarray, payee_area: np.ndarray, chain_tag: np.ndarray
    ) -> list[str]:
        """The payer's shard; the payee's shard when the grid operator pays."""
        area = np.where(np.asarray(payer_area) >= 0, payer_area, payee_area)
        return [self.shard_ids[int(a)] for a in area]

    def is_cross(self, payer_area: int, payee_area: int) -> bool:
        """Both parties are wallet holders of different areas."""
        return payer_area >= 0 and payee_area >= 0 and payer_area != payee_area

    def receivers(
        self, payer_area: np.ndarray, payee_area: np.ndarray, payee_key: Sequence[str]
    ) -> list[str]:
        """Cross-area payments lock into the payer shard's escrow; others pay the payee."""
        return [
            self.escrow[self.shard_ids[int(a)]].public_hex if self.is_cross(int(a), int(b)) else key
            for a, b, key in zip(payer_area, payee_area, payee_key, strict=True)
        ]

    def set_credit(self, area: int, credit: np.ndarray) -> None:
        """Credit of an area's users (area order) for the next cross-node selection."""
        self.cross_nodes.set_credit(area, credit)

    # ------------------------------------------------------------------ submission
    def submit(
        self,
        stxs: Sequence[SignedTransaction],
        payer_area: np.ndarray,
        payee_area: np.ndarray,
        payee_key: Sequence[str],
        *,
        verified: bool = False,
    ) -> list[tuple[SignedTransaction, LedgerError]]:
        """Submit intra-area payments directly and start an exchange for each cross one.

        ``verified``: as :meth:`chain.node.Chain.submit`, for the payments offered
        here (the escrow's own credit and refund legs are always verified in full).
        """
        if not (len(stxs) == len(payer_area) == len(payee_area) == len(payee_key)):
            raise ValueError("stxs, payer_area, payee_area and payee_key must have equal lengths")
        rejected: list[tuple[SignedTransaction, LedgerError]] = []
        for i, stx in enumerate(stxs):
            a, b = int(payer_area[i]), int(payee_area[i])
            chain = self.chains.get(stx.tx.chain_id)
            if chain is None:
                raise ValueError(f"chain_id {stx.tx.chain_id!r} is not a chain of this layout")
            if not self.is_cross(a, b):
                rejected.extend(chain.submit([stx], verified=verified))
                continue
            payment = CrossPayment(
                trade_id=int(stx.tx.payload.get("trade_id", -1)),
                mode=self.config.cross,
                source_chain=self.shard_ids[a],
                target_chain=self.shard_ids[b],
                payer=stx.tx.sender,
                payee=payee_key[i],
                amount=stx.tx.amount,
                lock_tx=stx.tx_hash,
                submitted_ms=stx.tx.timestamp_ms,
            )
            errors = chain.submit([stx], verified=verified)
            if errors:  # the payer's shard refuses the lock: no leg anywhere
                rejected.extend(errors)
                continue
            self.payments.append(payment)
            self._watch[stx.tx_hash] = payment
            self._locked[payment.source_chain] += payment.amount
            if self.config.cross == "partial":
                # The cross-nodes decide at once; credit or refund follows one round later.
                # (A refused payment is still locked and refunded: the payer's next
                # nonce stays valid and the payment is, net, in neither shard.)
                leg = "credit" if self._agree_once(payment) else "refund"
                self._schedule(stx.tx.timestamp_ms + math.ceil(3 * self.link_ms), leg, payment)
        return rejected

    def _available(self, chain_id: str) -> int:
        """What a shard's escrow can still pay out (pending legs and reservations deducted)."""
        escrow = self.escrow[chain_id].public_hex
        pending = self.chains[chain_id].mempool.pending_balance(escrow)
        return pending - self._reserved[chain_id] - self._locked[chain_id]

    def _agree_once(self, payment: CrossPayment) -> bool:
        """Partial sharding: the two areas' cross-nodes check both shards and agree once."""
        committee = 2  # the cross-nodes of the payer's and the payee's areas
        self._count("cross_pre_prepare", committee - 1, CROSS_MESSAGE_BYTES)
        self._count("cross_prepare", committee * (committee - 1), CROSS_MESSAGE_BYTES)
        self._count("cross_commit", committee * (committee - 1), CROSS_MESSAGE_BYTES)
        if self._available(payment.target_chain) < payment.amount:
            return False
        self._reserved[payment.target_chain] += payment.amount
        return True

    def _schedule(self, ready_ms: int, leg: str, payment: CrossPayment) -> None:
        self._queue.append((int(ready_ms), self._seq, leg, payment))
        self._seq += 1

    def _sign(self, chain_id: str, identity: Identity, receiver: str, amount: int, kind: str,
              payload: dict, timestamp_ms: int) -> SignedTransaction:  # fmt: skip
        key = (chain_id, identity.public_hex)
        nonce = self._nonces.get(key, 0)
        self._nonces[key] = nonce + 1
        tx = Transaction(
            chain_id=chain_id,
            sender=identity.public_hex,
            receiver=receiver,
            amount=amount,
            nonce=nonce,
            kind=kind,
            payload=payload,
            timestamp_ms=timestamp_ms,
        )
        return sign_transaction(identity, tx)

    # ------------------------------------------------------------------ the clock
    def _busy(self) -> bool:
        return bool(self._queue or self._watch)

    def _tick_ms(self) -> int:
        return self.drain_period_ms

    def advance_to(self, time_ms: int) -> list[Block]:
        """Advance every shard, running the exchanges at their simulated times.

        While an exchange is under way the shards move in steps of the block
        period (or up to the next protocol message), so follow-up legs enter
        their shard when their messages arrive, not at the next market step.
        """
        if time_ms < self.now_ms:
            raise ValueError(f"time_ms {time_ms} is before the layout clock {self.now_ms}")
        committed: list[Block] = []
        now = self.now_ms
        while True:
            self._release(now)
            if now >= time_ms:
                break
            target = time_ms
            if self._busy():
                target = min(time_ms, now + self._tick_ms())
                future = [ready for ready, *_ in self._queue if ready > now]
                if future:
                    target = min(target, min(future))
            for chain_id, chain in self.chains.items():
                for block in chain.advance_to(target):
                    committed.append(block)
                    self._on_block(chain_id, block)
            now = target
            self.now_ms = now
        self.now_ms = time_ms
        return committed

    def _on_block(self, chain_id: str, block: Block) -> None:
        """Follow the exchanges whose legs this block commits; re-select cross-nodes."""
        commit_ms = self.chains[chain_id].recorder.commit_times_ms[block.height - 1]
        for stx in block.transactions:
            payment = self._watch.pop(stx.tx_hash, None)
            if payment is not None:
                self._leg_committed(payment, stx.tx_hash, commit_ms)
        area = self.area_of_chain.get(chain_id)
        if area is not None:
            self.cross_nodes.on_height(area, block.height)

    def _leg_committed(self, payment: CrossPayment, tx_hash: str, commit_ms: float) -> None:
        if tx_hash == payment.refund_tx:
            self._finish(payment, "aborted", commit_ms)
        elif tx_hash == payment.lock_tx:
            if payment.mode == "full":
                self._two_phase(payment, commit_ms)
            elif payment.credit_tx and payment.credit_tx not in self._watch:
                self._finish(payment, "committed", commit_ms)  # the credit was first
        elif payment.lock_tx not in self._watch:
            self._finish(payment, "committed", commit_ms)

    def _two_phase(self, payment: CrossPayment, lock_ms: float) -> None:
        """Full sharding: prepare, vote, commit/abort between the two shards' validators."""
        n = self.consensus.n_validators
        for phase in ("cross_prepare", "cross_vote", "cross_decide"):
            self._count(phase, n * n, CROSS_MESSAGE_BYTES)
        vote_yes = self._available(payment.target_chain) >= payment.amount
        if vote_yes:
            self._reserved[payment.target_chain] += payment.amount
            self._schedule(lock_ms + math.ceil(3 * self.link_ms), "credit", payment)
        else:
            self._schedule(lock_ms + math.ceil(2 * self.link_ms), "refund", payment)

    def _finish(self, payment: CrossPayment, status: str, decided_ms: float) -> None:
        payment.status, payment.decided_ms = status, int(math.ceil(decided_ms))

    def _release(self, now: int) -> None:
        """Sign and submit every follow-up leg whose messages have arrived by ``now``."""
        due = sorted(item for item in self._queue if item[0] <= now)
        if not due:
            return
        self._queue = [item for item in self._queue if item[0] > now]
        for ready, _, leg, payment in due:
            if leg == "credit":
                self._submit_credit(payment, ready)
            else:
                self._submit_refund(payment, ready)

    def _submit_credit(self, payment: CrossPayment, ready_ms: int) -> None:
        chain_id = payment.target_chain
        stx = self._sign(
            chain_id,
            self.escrow[chain_id],
            payment.payee,
            payment.amount,
            CREDIT_KIND,
            {"trade_id": payment.trade_id, "source_chain": payment.source_chain,
             "lock_tx": payment.lock_tx},
            ready_ms,
        )  # fmt: skip
        self._reserved[chain_id] -= payment.amount
        errors = self.chains[chain_id].submit([stx])
        if errors:  # the payee shard refuses after all: abort and refund
            self._nonces[(chain_id, stx.tx.sender)] -= 1
            self._submit_refund(payment, ready_ms)
            return
        payment.credit_tx = stx.tx_hash
        self._locked[payment.source_chain] -= payment.amount  # decided: no refund any more
        self._watch[stx.tx_hash] = payment

    def _submit_refund(self, payment: CrossPayment, ready_ms: int) -> None:
        chain_id = payment.source_chain
        self._locked[chain_id] -= payment.amount
        stx = self._sign(
            chain_id,
            self.escrow[chain_id],
            payment.payer,
            payment.amount,
            REFUND_KIND,
            {"trade_id": payment.trade_id, "lock_tx": payment.lock_tx},
            ready_ms,
        )
        errors = self.chains[chain_id].submit([stx])
        if errors:
            raise RuntimeError(f"escrow refund rejected: {errors[0][1]}")  # escrow holds the lock
        payment.refund_tx = stx.tx_hash
        self._watch[stx.tx_hash] = payment

    # ------------------------------------------------------------------ results
    @property
    def pending(self) -> int:
        """Mempool transactions plus exchanges not yet decided."""
        return super().pending + len(self._queue) + len(self._watch)

    def storage(self) -> dict[str, float | int]:
        """Normal nodes keep their shard; partial cross-nodes keep every shard."""
        sizes = [self.chains[cid].recorder.storage_bytes for cid in self.shard_ids]
        storage: dict[str, float | int] = {
            "storage_bytes_full_node": max(sizes),
            "storage_bytes_normal_node": float(np.mean(sizes)),
        }
        if self.config.cross == "partial":
            storage["storage_bytes_cross_node"] = int(sum(sizes))
        return storage

    def layout_metrics(self) -> dict[str, float | int]:
        """Cross-area payments by status, their end-to-end latency and cross-node selections."""
        status = [p.status for p in self.payments]
        done = np.array(
            [p.decided_ms - p.submitted_ms for p in self.payments if p.status == "committed"],
            dtype=float,
        )
        return {
            "cross_mode_partial": int(self.config.cross == "partial"),
            "cross_payments": len(self.payments),
            "cross_committed": status.count("committed"),
            "cross_aborted": status.count("aborted"),
            "cross_pending": status.count("pending"),
            "cross_latency_mean_ms": float(done.mean()) if len(done) else 0.0,
            "cross_latency_p95_ms": float(np.percentile(done, 95)) if len(done) else 0.0,
            "cross_node_selections": len(self.cross_nodes.history),
        }

    def role_of(self, chain_id: str) -> str:
        """Every chain is a shard."""
        return "shard"

    def manifest(self) -> dict[str, Any]:
        """Shards with their area and escrow key, the cross mode and cross-node selections."""
        manifest = super().manifest()
        for entry in manifest["chains"]:
            chain_id = entry["chain_id"]
            if chain_id in self.escrow:
                entry["area"] = self.area_of_chain[chain_id]
                entry["escrow"] = self.escrow[chain_id].public_hex
        manifest["cross"] = self.config.cross
        manifest["reselect_every"] = self.config.reselect_every
        manifest["cross_node_selections"] = [
            {"area": s.area, "shard_height": s.shard_height, "node": s.node}
            for s in self.cross_nodes.history
        ]
        return manifest

    def write_records(self, run_dir: Path) -> None:
        """``cross_shard.parquet``."""
        write_cross_shard(run_dir, self.payments)
