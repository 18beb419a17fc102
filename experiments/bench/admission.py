"""Micro-benchmark: the chain's cost per pre-verified payment (admission and sealing).

Run ``python -m experiments.bench.admission`` (options: ``--payers 20000 --repeat 5``).
It builds the payments of one net-settlement window the way the model does (every
household pays a clearing account, the clearing account pays the sellers out with a
run of nonces; every sender registered with the run's certificate authority), signs
them once, and then times, on fresh proof-of-authority chains, what the driver does
with them: ``Chain.submit(payments, verified=True)`` (admission: chain id, hash,
registration, nonce, funds) and ``Chain.advance_to`` (sealing blocks of
``max_block_tx`` and ``Ledger.apply_block`` on each). Signing and Ed25519
verification are not part of it (the areas do them).

It prints the best of ``--repeat`` runs, in process CPU time, as microseconds per
transaction. To compare two checkouts in one sitting, run the script file of this
checkout with ``PYTHONPATH`` pointing at the other one's root, alternately.
"""

from __future__ import annotations

import argparse
import json
import time

from chain.authority import registry_for_run
from chain.consensus import ProofOfAuthority
from chain.keys import Identity
from chain.node import Chain, make_genesis
from chain.transaction import Transaction, sign_transaction

SEED = 11
STEP_MS = 900_000


def build(n_payers: int) -> tuple[tuple, list]:
    """The chain ingredients and the signed payments of one window."""
    payers = [Identity.derive(SEED, f"bench/house/{i}") for i in range(n_payers)]
    clearing = Identity.derive(SEED, "bench/clearing")
    validators = [Identity.derive(SEED, f"bench/validator/{i}") for i in range(4)]
    nodes = [(f"house/{i}", "user", p.public_hex) for i, p in enumerate(payers)]
    nodes += [("clearing", "grid_operator", clearing.public_hex)]
    nodes += [(f"validator/{i}", "validator", v.public_hex) for i, v in enumerate(validators)]
    _, registry = registry_for_run(SEED, nodes)
    consensus = ProofOfAuthority()
    balances = {p.public_hex: 10**9 for p in payers}
    balances[clearing.public_hex] = 0
    genesis = make_genesis("bench", consensus, balances, validators, registry.genesis_params())
    stxs = []
    for i, payer in enumerate(payers):
        payload = {"agent": i, "step": 3}
        tx = Transaction("bench", payer.public_hex, clearing.public_hex, 1000 + i % 977, 0,
                         "net_payment", payload, STEP_MS - 1)  # fmt: skip
        stxs.append(sign_transaction(payer, tx))
    for k in range(n_payers // 2):
        payload = {"agent": k, "step": 3}
        tx = Transaction("bench", clearing.public_hex, payers[2 * k].public_hex, 900, k,
                         "net_payout", payload, STEP_MS - 1)  # fmt: skip
        stxs.append(sign_transaction(clearing, tx))
    return (genesis, consensus, validators, registry), stxs


def run_once(ingredients: tuple, stxs: list) -> tuple[float, float, str]:
    """CPU seconds of admission and of sealing, and the head hash."""
    genesis, consensus, validators, registry = ingredients
    chain = Chain(genesis, consensus, validators, registry)
    start = time.process_time()
    rejected = chain.submit(stxs, verified=True)
    admitted = time.process_time()
    chain.advance_to(STEP_MS + 3_600_000)
    sealed = time.process_time()
    if rejected or len(chain.mempool):
        raise RuntimeError(f"{len(rejected)} rejected, {len(chain.mempool)} left pending")
    return admitted - start, sealed - admitted, chain.head_hash


def main(argv: list[str] | None = None) -> None:
    """Print microseconds per transaction (best of the repeats) as JSON."""
    parser = argparse.ArgumentParser(description="chain admission + sealing per transaction")
    parser.add_argument("--payers", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    ingredients, stxs = build(args.payers)
    best_admit = best_seal = float("inf")
    head = ""
    for _ in range(args.repeat):
        admit_s, seal_s, head = run_once(ingredients, stxs)
        best_admit, best_seal = min(best_admit, admit_s), min(best_seal, seal_s)
    n = len(stxs)
    print(json.dumps({
        "tx": n,
        "admission_us_per_tx": round(best_admit / n * 1e6, 3),
        "sealing_us_per_tx": round(best_seal / n * 1e6, 3),
        "total_us_per_tx": round((best_admit + best_seal) / n * 1e6, 3),
        "ledger_head": head,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
