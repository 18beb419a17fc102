"""FIFO mempool of admitted transactions.

Admission checks each transaction against the committed state *plus every
pending transaction*, so the pending queue, applied in FIFO order from the
ledger state, never fails. Any FIFO prefix of it is therefore a valid block
body, which is why :meth:`Mempool.take` never reorders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from chain.ledger import Ledger
from chain.miner_set import MINER_SET_KIND, parse_miner_set
from chain.rules import check_funds, check_integrity, check_nonce, check_registered
from chain.transaction import SignedTransaction


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
        taken: list[SignedTransaction] = []
        queue = self._queue
        while queue and len(taken) < max_n and queue[0].tx.timestamp_ms <= not_after_ms:
            stx = queue.popleft()
            self._account(stx, -1)
            taken.append(stx)
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
