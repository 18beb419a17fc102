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

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from chain.keys import Identity, verify_signature
from chain.transaction import SignedTransaction, Transaction

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """The process's signing pool of ``threads`` threads (created on first use)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(
                threads, thread_name_prefix="gridledger-sign"
            )
        return pool


def _sign(signer: Identity, message: bytes) -> bytes:
    """The raw signature of ``message`` (one place, so tests can tamper with it)."""
    return signer.sign(message)


def sign_and_check(
    signers: Sequence[Identity], txs: Sequence[Transaction]
) -> list[SignedTransaction | None]:
    """Each transaction signed by its signer and verified; None where it does not verify.

    Raises:
        ValueError: If a signer is not its transaction's sender.
    """
    out: list[SignedTransaction | None] = []
    for signer, tx in zip(signers, txs, strict=True):
        if signer.public_hex != tx.sender:
            raise ValueError(
                f"identity {signer.public_hex[:12]}… cannot sign for sender {tx.sender[:12]}…"
            )
        canonical = tx.canonical()
        signature = _sign(signer, canonical)
        # Raw bytes straight to the check: no hex round trip (hex is the ledger's form).
        ok = verify_signature(tx.sender, signature, canonical)
        out.append(SignedTransaction(tx, tx.tx_hash, signature.hex()) if ok else None)
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
