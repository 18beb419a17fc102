"""Sign and verify batches of transactions on several threads.

Ed25519 signing and verification in ``cryptography`` (OpenSSL) and PyNaCl (libsodium)
release the GIL, so a batch split over threads uses every core. Each transaction is
signed by its sender and the signature is verified against the sender's public key right
away (the signer's side of the trust boundary in ``docs/consensus.md``: the chain then
admits the batch with ``verified=True``). Results keep the batch's order whatever the
thread count; Ed25519 signatures are deterministic (RFC 8032), so the bytes are the same
too. The thread pools are kept for the life of the process (one per thread count), not
started and joined again at every step.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from chain.keys import Identity
from chain.transaction import SignedTransaction, Transaction, sign_transaction

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while settlement transactions are made.

    Signing a step's payments allocates a few container objects per transaction (the
    transaction, its payload, the signed record) that all survive the step. Each 700
    of them start a young-generation collection, every tenth of those an older one,
    and now and then a full collection walks the whole heap: the ledger's and logs'
    millions of objects. That walk is per-transaction cost that grows with the run
    (measured: about a third of the non-signature CPU of a 2e4-household
    net-settlement run; docs/performance.md). Nothing made here forms a reference
    cycle, so reference counting frees what dies and the survivors are collected
    once, by the first collection after the pause. Pauses nest and may overlap
    across threads; the collector is enabled again when the last one ends (if it
    was enabled when the first began).
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _pool(threads: int) -> ThreadPoolExecutor:
    """The process's signing pool of ``threads`` threads (created on first use)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(
                threads, thread_name_prefix="gridledger-sign"
            )
        return pool


def sign_and_check(
    signers: Sequence[Identity], txs: Sequence[Transaction]
) -> list[SignedTransaction | None]:
    """Each transaction signed by its signer and verified; None where it does not verify.

    Raises:
        ValueError: If a signer is not its transaction's sender.
    """
    out: list[SignedTransaction | None] = []
    for signer, tx in zip(signers, txs, strict=True):
        stx = sign_transaction(signer, tx)
        out.append(stx if stx.verify_signature() else None)
    return out


class BatchSigner:
    """Sign-and-verify of one batch, started on a thread pool, collected later.

    Args:
        signers: The signer of each transaction.
        txs: The transactions, in their final order.
        threads: How many threads share the batch (1: signed in the calling thread
            when :meth:`result` is called).
    """

    def __init__(
        self, signers: Sequence[Identity], txs: Sequence[Transaction], threads: int
    ) -> None:
        self._signers, self._txs = list(signers), list(txs)
        n = max(1, min(int(threads), len(self._txs)))
        self._futures: list[Future] = []
        if n > 1:
            size = -(-len(self._txs) // n)
            pool = _pool(n)
            self._futures = [
                pool.submit(sign_and_check, self._signers[k : k + size], self._txs[k : k + size])
                for k in range(0, len(self._txs), size)
            ]

    def result(self) -> list[SignedTransaction | None]:
        """The signed transactions in batch order (None: did not verify)."""
        if not self._futures:
            return sign_and_check(self._signers, self._txs)
        return [stx for future in self._futures for stx in future.result()]
