"""Seed 000 §4.3 (Fig. 8A-D): SSG proof of work vs number of trades and of nodes.

Usage::

    python -m experiments.repro.pow_trades [--quick] [--out DIR]

Seed 000 reports that block preparation time and proof-of-work generation time grow
about linearly with the number of trades (Fig. 8C-D), that throughput first rises and
then levels off or falls as nodes are added (Fig. 8A), and that computation time
grows with the number of nodes, more slowly after about twelve (Fig. 8B). It gives no
absolute units we can compare with.

What is measured here, with real signatures and real SHA-1 hashing (wall clock on this
machine) and the simulated network of :mod:`chain.network`:

* **vs trades** ``k``: *block preparation* = a miner checking the ``k`` trades'
  signatures, their Merkle root and the header; *PoW generation* = mining the
  ``ceil(k / block_tx)`` blocks that carry them at ``difficulty_bits`` real leading
  zero bits (SHA-1, seed 000's 160-bit digest), plus seed 000's per-trade SHA-1
  digest of Algorithm 2 step (e).
* **vs nodes** ``n``: a :class:`chain.node.Chain` with the PoW engine (``n`` miners of
  equal hash rate, unanimous agreement) seals a fixed workload; *throughput* is
  committed trades per simulated second, *computation time* the wall-clock time of
  the run (mining, agreement votes: ``n`` signatures and checks per block).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from chain import Chain, Identity, ProofOfWork, Transaction, make_genesis  # noqa: E402
from chain.block import BlockHeader  # noqa: E402
from chain.consensus.pow import mine  # noqa: E402
from chain.merkle import merkle_root  # noqa: E402
from chain.transaction import sign_transaction  # noqa: E402

_KEYS: dict[str, Identity] = {}


def _rechain(stx, chain_id: str):
    """The same trade re-signed for another chain id."""
    tx = stx.tx
    key = _KEYS.get(tx.sender)
    if key is None:
        return stx
    moved = Transaction(chain_id, tx.sender, tx.receiver, tx.amount, tx.nonce, tx.kind,
                        tx.payload, tx.timestamp_ms)  # fmt: skip
    return sign_transaction(key, moved)


def trades(k: int, seed: int = 3) -> tuple[list, dict[str, int]]:
    """``k`` signed trade payments from 50 entities, all stamped at t = 0."""
    entities = [Identity.derive(seed, f"entity/{i}") for i in range(50)]
    _KEYS.update({e.public_hex: e for e in entities})
    receiver = Identity.derive(seed, "ev").public_hex
    out = []
    for i in range(k):
        sender = entities[i % 50]
        tx = Transaction("ssg", sender.public_hex, receiver, 1, i // 50, "energy_trade",
                         {"trade": i}, 0)  # fmt: skip
        out.append(sign_transaction(sender, tx))
    return out, {e.public_hex: k for e in entities}


def vs_trades(
    counts, difficulty_bits: int, block_tx: int, repeats: int = 1
) -> list[dict[str, float]]:
    """Block preparation and PoW generation times for each number of trades (mean of repeats)."""
    rows = []
    all_txs, _ = trades(max(counts))
    proposer = Identity.derive(3, "miner/0").public_hex
    assert all(stx.verify_signature() for stx in all_txs)  # warm the key cache first
    for k in counts:
        txs = all_txs[:k]
        prepare_s = mine_s = 0.0
        nonces = 0
        for rep in range(repeats):
            p, m, n = _prepare_and_mine(txs, proposer, difficulty_bits, block_tx, rep)
            prepare_s, mine_s, nonces = prepare_s + p, mine_s + m, nonces + n
        rows.append(
            {"trades": k, "block_preparation_ms": 1000 * prepare_s / repeats,
             "pow_generation_ms": 1000 * mine_s / repeats, "hashes": nonces // repeats}
        )  # fmt: skip
    return rows


def _prepare_and_mine(txs, proposer, difficulty_bits, block_tx, rep) -> tuple[float, float, int]:
    k = len(txs)
    start = time.perf_counter()
    assert all(stx.verify_signature() for stx in txs)
    hashes = [stx.tx_hash for stx in txs]
    root = merkle_root(hashes)
    BlockHeader("ssg", 1, "0" * 40, root, 0, proposer, "pow", 0, difficulty_bits, "sha1")
    prepared = time.perf_counter()
    nonces = 0
    for b in range(math.ceil(k / block_tx)):
        fields = {
            "chain_id": "ssg", "height": b + 1, "prev_hash": f"{rep:040x}",
            "merkle_root": merkle_root(hashes[b * block_tx : (b + 1) * block_tx]),
            "timestamp_ms": 0, "proposer": proposer, "consensus": "pow", "nonce": 0,
            "difficulty_bits": difficulty_bits,
        }  # fmt: skip
        nonces += mine(fields, "sha1", difficulty_bits)[1]
    for stx in txs:  # seed 000 Alg. 2 (e): a SHA-1 digest per entity's trade message
        hashlib.sha1(stx.tx.canonical()).digest()
    mined = time.perf_counter()
    return prepared - start, mined - prepared, nonces


def vs_nodes(
    nodes, n_trades: int, difficulty_bits: int, block_tx: int, repeats: int = 1
) -> list[dict]:
    """Throughput (simulated) and computation time (wall clock) per number of miners.

    Each point is the mean over ``repeats`` chains whose mining races differ (the
    race is seeded by the genesis hash, which includes the chain id).
    """
    txs, balances = trades(n_trades)
    rows = []
    for n in nodes:
        points = [
            _nodes_point(n, txs, balances, difficulty_bits, block_tx, rep) for rep in range(repeats)
        ]
        rows.append({key: float(np.mean([p[key] for p in points])) for key in points[0]})
        rows[-1]["nodes"] = n
    return rows


def _nodes_point(n, txs, balances, difficulty_bits, block_tx, rep) -> dict:
    n_trades = len(txs)
    consensus = ProofOfWork(
        n_validators=n, difficulty_bits=difficulty_bits, simulated_difficulty_bits=20,
        hash="sha1", confirmations=1, max_block_tx=block_tx,
    )  # fmt: skip
    miners = [Identity.derive(3, f"miner/{i}") for i in range(n)]
    chain_id = f"ssg-{rep}"
    txs = [_rechain(stx, chain_id) for stx in txs]
    chain = Chain(make_genesis(chain_id, consensus, balances, miners), consensus, miners)
    start = time.perf_counter()
    assert not chain.submit(txs)
    now = 0
    while len(chain.mempool):
        now += 10_000
        chain.advance_to(now)
    elapsed = time.perf_counter() - start
    last_commit_s = chain.recorder.commit_times_ms[-1] / 1000.0
    return {
        "nodes": n, "throughput_tx_s": n_trades / last_commit_s,
        "computation_time_s": elapsed, "blocks": chain.ledger.height,
        "messages": chain.metrics()["consensus_messages"],
    }  # fmt: skip


def markdown(rows: list[dict]) -> str:
    """A Markdown table."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c])
                         for c in columns)
            + " |"
        )  # fmt: skip
    return "\n".join(lines)


def linear_fit_r2(x: list[float], y: list[float]) -> float:
    """R^2 of a least-squares line through the points (1.0: exactly linear)."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = ys - (slope * xs + intercept)
    total = ((ys - ys.mean()) ** 2).sum()
    return float(1 - (residual**2).sum() / total) if total else 1.0


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="python -m experiments.repro.pow_trades")
    parser.add_argument("--quick", action="store_true", help="small sizes for tests")
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--difficulty-bits", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    counts = (50, 100, 200) if args.quick else (100, 200, 400, 600, 800, 1000)
    nodes = (2, 4, 8) if args.quick else (2, 4, 6, 8, 10, 12, 16, 20, 24)
    bits = 6 if args.quick else args.difficulty_bits
    repeats = 1 if args.quick else args.repeats
    by_trades = vs_trades(counts, bits, block_tx=50, repeats=repeats)
    by_nodes = vs_nodes(
        nodes, 100 if args.quick else 1000, 6 if args.quick else 8, block_tx=50, repeats=repeats
    )
    print(f"Block preparation and PoW generation vs trades (Fig. 8C-D; {bits} bits, SHA-1)\n")
    print(markdown(by_trades))
    x = [r["trades"] for r in by_trades]
    print(
        f"\nlinear fit R^2: preparation {linear_fit_r2(x, [r['block_preparation_ms'] for r in by_trades]):.3f}, "  # noqa: E501
        f"PoW {linear_fit_r2(x, [r['pow_generation_ms'] for r in by_trades]):.3f}"
    )
    print("\nThroughput and computation time vs nodes (Fig. 8A-B)\n")
    print(markdown(by_nodes))
    args.out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    axes[0].plot([r["nodes"] for r in by_nodes], [r["throughput_tx_s"] for r in by_nodes], "o-")
    axes[0].set(xlabel="nodes", ylabel="throughput (trades / simulated s)")
    axes[1].plot([r["nodes"] for r in by_nodes], [r["computation_time_s"] for r in by_nodes], "o-")
    axes[1].set(xlabel="nodes", ylabel="computation time (s)")
    axes[2].plot(x, [r["block_preparation_ms"] for r in by_trades], "o-")
    axes[2].set(xlabel="trades", ylabel="block preparation (ms)")
    axes[3].plot(x, [r["pow_generation_ms"] for r in by_trades], "o-")
    axes[3].set(xlabel="trades", ylabel="PoW generation (ms)")
    fig.tight_layout()
    fig.savefig(args.out / "pow_trades.png", dpi=120)
    plt.close(fig)
    print(f"\nplot: {args.out / 'pow_trades.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
