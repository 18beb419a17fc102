"""Scenario 3: chain validation throughput per consensus vs raw Ed25519 verification.

For every entry of ``conf/chain/`` present when the benchmark runs, a model is built
through the real config (``chain=<name>``, one household per transaction) and its
households each sign one payment to the next household (the shape of a settlement
step: one payment per payer, distinct senders). The chain's work is timed as the
simulator drives it: :meth:`Chain.submit <chain.node.Chain.submit>` (admission:
chain id, hash, signature, nonce, balance) plus :meth:`Chain.advance_to
<chain.node.Chain.advance_to>` until the mempool is empty (sealing and full block
validation by the ledger). The baseline is :func:`chain.keys.verify_signature` on the
very same signatures and message bytes, with the signature bytes decoded and the key
cache warmed beforehand: the most a one-core validator could reach if checking a
transaction cost nothing but its signature.

Each repetition sends a fresh round of payments (the next nonce of every sender),
signed before the clock starts, to the same chain; the raw verification of that round
is timed right before it, so that both sides of the ratio share the machine's load.
After the rounds, :func:`experiments.bench.block_validation.bench_block_validation`
times a follower node re-validating every committed block from scratch against the
verification of all the signatures those blocks carry (transactions, proposer seals,
certificate votes): issue 3's "a block costs at most ~25 % more than its signatures".
Both wall and CPU time of this process are kept; on a machine shared with other work
the CPU-time ratio (``chain_over_raw_cpu``) is the steadier of the two.
"""

from __future__ import annotations

import math
import time
from typing import Any

from chain.keys import verify_signature
from chain.transaction import Transaction, sign_transaction
from experiments.bench.block_validation import bench_block_validation
from experiments.bench.common import default_choice, group_options, make_config
from experiments.build import build

PAYMENT_MICRO = 1_000


def _payments(model, round_index: int, timestamp_ms: int) -> list:
    """One signed payment per household to the next household, nonce ``round_index``."""
    identities = [
        identity
        for area in model.runtime.local_areas()
        for identity in area.identities[: area.counts.households]
    ]
    signed = []
    for i, sender in enumerate(identities):
        receiver = identities[(i + 1) % len(identities)]
        tx = Transaction(
            chain_id=model.chain.chain_id,
            sender=sender.public_hex,
            receiver=receiver.public_hex,
            amount=PAYMENT_MICRO,
            nonce=round_index,
            kind="p2p_payment",
            payload={
                "trade_id": round_index * len(identities) + i,
                "step": round_index,
                "energy_wh": 1234,
                "price_micro_per_kwh": 150_000,
            },
            timestamp_ms=timestamp_ms,
        )
        signed.append(sign_transaction(sender, tx))
    return signed


def _block_period_ms(consensus) -> int:
    period_ms = getattr(consensus, "block_period_ms", None)
    if period_ms is None:
        period_ms = round(float(getattr(consensus, "block_period_s", 1.0)) * 1000)
    return max(1, int(period_ms))


def _commit_all(chain, consensus, count: int) -> int:
    """Advance the clock slot by slot until every pending transaction is in a block."""
    period_ms = _block_period_ms(consensus)
    per_block = int(getattr(consensus, "max_block_tx", count) or count)
    now = chain.now_ms + period_ms * (math.ceil(count / per_block) + 1)
    blocks = len(chain.advance_to(now))
    for _ in range(count + 1):
        if not len(chain.mempool):
            break
        now += period_ms
        blocks += len(chain.advance_to(now))
    if len(chain.mempool):
        raise RuntimeError(f"{len(chain.mempool)} transactions were never sealed")
    return blocks


def bench_consensus(name: str, transactions: int, repeats: int = 3) -> dict[str, Any]:
    """Chain validation and raw verification rates for consensus ``name``.

    Args:
        name: Entry of ``conf/chain/``.
        transactions: Payments per round (one per household of the model).
        repeats: Rounds; the fastest round of each side is kept.
    """
    model = build(
        make_config(
            f"chain={name}",
            f"population.size={transactions}",
            "output.agents_sample=0",
            "output.progress=false",
        )
    )
    chain, consensus = model.chain, model.consensus
    raw_s, chain_s, submit_s, blocks = float("inf"), float("inf"), float("inf"), 0
    raw_cpu_s, chain_cpu_s = float("inf"), float("inf")
    for round_index in range(max(1, repeats)):
        # Signed before any clock starts, stamped at the chain's current time.
        signed = _payments(model, round_index, chain.now_ms)
        keys = [stx.tx.sender for stx in signed]
        signatures = [bytes.fromhex(stx.signature) for stx in signed]
        messages = [stx.tx.canonical() for stx in signed]
        if round_index == 0 and not all(map(verify_signature, keys, signatures, messages)):
            raise RuntimeError("benchmark payments do not verify")  # (also warms the key cache)
        # Raw verify and the chain take turns on the same round, so both see the same load.
        start, cpu = time.perf_counter(), time.process_time()
        list(map(verify_signature, keys, signatures, messages))
        raw_s = min(raw_s, time.perf_counter() - start)
        raw_cpu_s = min(raw_cpu_s, time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        rejected = chain.submit(signed)
        admitted = time.perf_counter()
        blocks = _commit_all(chain, consensus, len(signed))
        end = time.perf_counter()
        chain_cpu_s = min(chain_cpu_s, time.process_time() - cpu)
        if rejected:
            raise RuntimeError(f"{len(rejected)} benchmark payments rejected: {rejected[0][1]}")
        chain_s, submit_s = min(chain_s, end - start), min(submit_s, admitted - start)
    n = len(signed)
    # Issue 3: a follower re-validating every committed block vs its signatures alone.
    follower = bench_block_validation(chain.ledger, repeats)
    return {
        "transactions": n,
        "blocks_per_round": blocks,
        "chain_validate_tx_per_s": n / chain_s,
        "admission_tx_per_s": n / submit_s,
        "sealing_share": (chain_s - submit_s) / chain_s,
        "raw_ed25519_verify_per_s": n / raw_s,
        "chain_over_raw": raw_s / chain_s,
        "chain_over_raw_cpu": raw_cpu_s / chain_cpu_s,
        "block_validation": follower,
    }


def bench_chain_validation(transactions: int, repeats: int = 3) -> dict[str, Any]:
    """:func:`bench_consensus` for every ``conf/chain`` entry; headline = the default chain."""
    per_consensus: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in group_options("chain"):
        try:
            per_consensus[name] = bench_consensus(name, transactions, repeats)
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            errors[name] = f"{type(error).__name__}: {error}"
    default = default_choice("chain")
    headline = default if default in per_consensus else next(iter(per_consensus), default)
    return {"default": headline, "per_consensus": per_consensus, "errors": errors}
