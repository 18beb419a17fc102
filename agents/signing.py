"""Sign and verify batches of transactions on several threads.

Ed25519 signing and verification in ``cryptography`` (OpenSSL) release the GIL, so a
batch split over threads uses every core. Each transaction is signed by its sender and
the signature is verified against the sender's public key right away (the signer's
side of the trust boundary in ``docs/consensus.md``: the chain then admits the batch
with ``verified=True``). Results keep the batch's order whatever the thread count;
Ed25519 signatures are deterministic (RFC 8032), so the bytes are the same too.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from chain.keys import Identity
from chain.transaction import SignedTransaction, Transaction, sign_transaction


def sign_and_check(
    signers: Sequence[Identity], txs: Sequence[Transaction]
) -> list[SignedTransaction | None]:
    """Each transaction signed by its signer and verified; None where it does not verify."""
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
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future] = []
        if n > 1:
            size = -(-len(self._txs) // n)
            self._pool = ThreadPoolExecutor(n, thread_name_prefix="gridledger-sign")
            self._futures = [
                self._pool.submit(
                    sign_and_check, self._signers[k : k + size], self._txs[k : k + size]
                )
                for k in range(0, len(self._txs), size)
            ]

    def result(self) -> list[SignedTransaction | None]:
        """The signed transactions in batch order (None: did not verify)."""
        if self._pool is None:
            return sign_and_check(self._signers, self._txs)
        try:
            return [stx for future in self._futures for stx in future.result()]
        finally:
            self._pool.shutdown(wait=True)
