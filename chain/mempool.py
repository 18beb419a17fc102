"""FIFO mempool of admitted transactions.

Admission checks each transaction against the committed state *plus every
pending transaction*, so the pending queue, applied in FIFO order from the
ledger state, never fails. Any FIFO prefix of it is therefore a valid block
body, which is why :meth:`Mempool.take` never reorders.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import attrgetter

from chain.errors import LedgerError
from chain.ledger import Ledger
from chain.miner_set import MINER_SET_KIND, parse_miner_set
from chain.rules import (
    check_funds,
    check_integrity,
    check_nonce,
    check_registered,
    passes_every_rule,
    unregistered_among,
)
from chain.transaction import SignedTransaction

_TX = attrgetter("tx")
_SENDER = attrgetter("tx.sender")


class Mempool:
    """Pending transactions of one chain, in admission order.

    The mempool assumes the ledger only grows through blocks built from
    :meth:`take`; blocks from elsewhere would need a re-check of the queue.
    """

    def __init__(self, ledger: Ledger) -> None:
        """Create an empty mempool in front of ``ledger``."""
        self._ledger = ledger
        self._queue: deque[SignedTransaction] = deque()
        self._pending_count: dict[str, int] = {}
        # Net micro-coin change per account if every pending tx were applied.
        self._pending_delta: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[SignedTransaction]:
        return iter(self._queue)

    def peek(self) -> SignedTransaction | None:
        """The oldest pending transaction, or None when empty."""
        return self._queue[0] if self._queue else None

    def pending_nonce(self, sender: str) -> int:
        """Nonce the next admitted transaction of ``sender`` must carry."""
        return self._ledger.next_nonce(sender) + self._pending_count.get(sender, 0)

    def pending_balance(self, account: str) -> int:
        """Balance of ``account`` after all pending transactions."""
        return self._ledger.balance_of(account) + self._pending_delta.get(account, 0)

    def add(self, stx: SignedTransaction, *, verified: bool = False) -> None:
        """Admit a transaction or raise; rejected transactions do not enter.

        ``verified=True``: the caller has verified this signature already (the
        model's areas verify their payments where they sign them); everything but
        the Ed25519 check still runs, and the signature enters the ledger's
        ``verified_signatures`` cache like any admitted one.

        Raises:
            InvalidTransaction: Wrong chain id or hash.
            InvalidSignature: The signature does not verify.
            UnregisteredSender: The chain has an authority and the sender holds
                no certificate.
            StaleNonce, FutureNonce: The nonce is not the sender's pending nonce.
            Overdraft: The balance after all pending transactions is too low.
            InvalidMinerSet: A ``miner_set`` record breaks its rules.
        """
        ledger = self._ledger
        check_integrity(
            stx, ledger.chain_id, ledger.verified_signatures, signature_verified=verified
        )
        check_registered(stx, ledger.registered)
        tx = stx.tx
        check_nonce(stx, self.pending_nonce(tx.sender))
        check_funds(stx, self.pending_balance(tx.sender))
        if tx.kind == MINER_SET_KIND:
            parse_miner_set(stx, ledger.genesis, ledger.registry, ledger.height + 2)
        ledger.verified_signatures[stx.tx_hash] = stx.signature
        self._queue.append(stx)
        self._account(stx, +1)

    def add_many(
        self, stxs: Iterable[SignedTransaction], *, verified: bool = False
    ) -> list[tuple[SignedTransaction, LedgerError]]:
        """Admit transactions in order, as :meth:`add` one after the other would.

        The same transactions enter, in the same order, and each refused one is
        returned with the error :meth:`add` would raise for it (same type, same
        message); the mempool and the signature cache end in the same state. What
        differs is the cost: senders' registration is settled for the whole batch
        with one set operation, each account's pending nonce and balance are looked
        up once and carried in local dicts, and a transaction that passes every rule
        on a few inline comparisons skips the rule functions (they only run, to
        raise the typed error or to parse a ``miner_set`` record, when an inline
        comparison fails).

        Args:
            stxs: The transactions, in order.
            verified: As for :meth:`add`, for every transaction.

        Returns:
            The refused transactions with their errors, in input order.
        """
        stxs = stxs if isinstance(stxs, list | tuple) else list(stxs)
        ledger = self._ledger
        chain_id = ledger.chain_id
        cache = ledger.verified_signatures
        cache_get = cache.get
        registered = ledger.registered
        unregistered = unregistered_among(
            [stx.tx.sender for stx in stxs if isinstance(stx, SignedTransaction)], registered
        )
        committed_nonces, committed_balances = ledger.nonces, ledger.balances
        pending_count, pending_delta = self._pending_count, self._pending_delta
        # Pending (committed + queued) nonce and balance of each account touched so far.
        nonce_of: dict[str, int] = {}
        balance_of: dict[str, int] = {}
        append = self._queue.append
        rejected: list[tuple[SignedTransaction, LedgerError]] = []
        try:
            for stx in stxs:
                fast = isinstance(stx, SignedTransaction)
                if fast:
                    tx = stx.tx
                    sender, tx_hash = tx.sender, stx.tx_hash
                    nonce = nonce_of.get(sender)
                    if nonce is None:
                        nonce = committed_nonces.get(sender, 0) + pending_count.get(sender, 0)
                    available = balance_of.get(sender)
                    if available is None:
                        available = committed_balances.get(sender, 0) + pending_delta.get(sender, 0)
                    fast = passes_every_rule(
                        stx,
                        chain_id,
                        verified or cache_get(tx_hash) == stx.signature,
                        unregistered,
                        nonce,
                        available,
                    )
                if not fast:
                    # The rules of ``add``, in its order, against the same pending state.
                    try:
                        check_integrity(stx, chain_id, cache, signature_verified=verified)
                        check_registered(stx, registered)
                        tx = stx.tx
                        sender, tx_hash = tx.sender, stx.tx_hash
                        nonce = nonce_of.get(sender)
                        if nonce is None:
                            nonce = self.pending_nonce(sender)
                        check_nonce(stx, nonce)
                        available = balance_of.get(sender)
                        if available is None:
                            available = self.pending_balance(sender)
                        check_funds(stx, available)
                        if tx.kind == MINER_SET_KIND:
                            parse_miner_set(stx, ledger.genesis, ledger.registry, ledger.height + 2)
                    except LedgerError as err:
                        rejected.append((stx, err))
                        continue
                cache[tx_hash] = stx.signature
                append(stx)
                nonce_of[sender] = nonce + 1
                amount = tx.amount
                balance_of[sender] = available - amount
                receiver = tx.receiver
                credit = balance_of.get(receiver)
                if credit is None:
                    credit = committed_balances.get(receiver, 0) + pending_delta.get(receiver, 0)
                balance_of[receiver] = credit + amount
        finally:
            # Back to the mempool's representation: pending counts and deltas over the
            # committed state.
            _store_over(pending_count, nonce_of, committed_nonces)
            _store_over(pending_delta, balance_of, committed_balances)
        return rejected

    def take(self, max_n: int, not_after_ms: int) -> list[SignedTransaction]:
        """Pop up to ``max_n`` transactions from the front with ``timestamp_ms <= not_after_ms``.

        Stops at the first transaction that is too new, even if later ones are
        old enough: skipping it could break nonce order or spend incoming
        funds that are not in the block.

        Args:
            max_n: Maximum number of transactions.
            not_after_ms: Latest admissible transaction timestamp (inclusive).

        Returns:
            The popped transactions in FIFO order.
        """
        queue = self._queue
        n = 0
        for stx in islice(queue, max(0, min(max_n, len(queue)))):
            if stx.tx.timestamp_ms > not_after_ms:
                break
            n += 1
        popleft = queue.popleft
        taken = [popleft() for _ in range(n)]
        pending_count, pending_delta = self._pending_count, self._pending_delta
        if len(queue) <= n:
            # The pending state is the tally of the queue: rebuild it from what stays.
            counts, deltas = _tally(queue)
            pending_count.clear()
            pending_count.update(counts)
            pending_delta.clear()
            pending_delta.update(deltas)
            return taken
        counts, deltas = _tally(taken)
        for sender, count in counts.items():
            count = pending_count[sender] - count
            if count:
                pending_count[sender] = count
            else:
                del pending_count[sender]
        for account, delta in deltas.items():
            delta = pending_delta.get(account, 0) - delta
            if delta:
                pending_delta[account] = delta
            else:
                pending_delta.pop(account, None)
        return taken

    def restore(self, stxs: Iterable[SignedTransaction]) -> None:
        """Put transactions returned by :meth:`take` back at the front, in order.

        For a block that could not be committed; the ledger must be unchanged
        since the ``take``.
        """
        stxs = list(stxs)
        for stx in reversed(stxs):
            self._queue.appendleft(stx)
            self._account(stx, +1)

    def _account(self, stx: SignedTransaction, sign: int) -> None:
        tx = stx.tx
        count = self._pending_count.get(tx.sender, 0) + sign
        if count:
            self._pending_count[tx.sender] = count
        else:
            del self._pending_count[tx.sender]
        self._shift(tx.sender, -sign * tx.amount)
        self._shift(tx.receiver, sign * tx.amount)

    def _shift(self, account: str, delta: int) -> None:
        value = self._pending_delta.get(account, 0) + delta
        if value:
            self._pending_delta[account] = value
        else:
            self._pending_delta.pop(account, None)


def _tally(stxs: Iterable[SignedTransaction]) -> tuple[dict[str, int], dict[str, int]]:
    """Transactions per sender and net micro-coin change per account, zeros left out."""
    stxs = stxs if isinstance(stxs, list | deque) else list(stxs)
    counts = dict(Counter(map(_SENDER, stxs)))
    deltas: dict[str, int] = {}
    for tx in map(_TX, stxs):
        amount = tx.amount
        if amount:
            sender, receiver = tx.sender, tx.receiver
            deltas[sender] = deltas.get(sender, 0) - amount
            deltas[receiver] = deltas.get(receiver, 0) + amount
    return counts, {account: delta for account, delta in deltas.items() if delta}


def _store_over(pending: dict[str, int], totals: dict[str, int], committed) -> None:
    """Write ``totals`` into ``pending`` as differences over ``committed``, absent where zero."""
    for account, total in totals.items():
        difference = total - committed.get(account, 0)
        if difference:
            pending[account] = difference
        else:
            pending.pop(account, None)
