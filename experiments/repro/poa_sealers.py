"""Seed 001 Figs 4.7, 4.8, 4.12 and Table 4.1: PoA throughput and latency vs sealers and send rate.

Usage::

    python -m experiments.repro.poa_sealers [--quick] [--out DIR]

The paper's set-up (seed 001 §4.5): a private Clique chain with 1-25 sealers, 2 s
blocks, 10,000 transactions sent at 100, 200, 500, 700, 1000 or 1200 tx/s; its
findings: 500 tx/s is the ceiling, moderate rates are fully served at every size,
the higher rates lose throughput as sealers are added ("more time is needed to
propagate the corresponding volume of data to all the sealers") and latency grows
from 2.3-3 s to about 12 s.

Here every transaction is a real signed transaction through a real
:class:`chain.node.Chain` with the PoA engine, in simulated time:

* **Block capacity** ``max_block_tx = 1000`` (500 tx/s x 2 s): the ceiling.
* **Propagation to all sealers** (our reading of the paper's explanation, "more
  time is needed to propagate the corresponding volume of data to all the sealers"):
  the PoA engine's optional timing rules (``chain/consensus/poa.py``): a sealer's
  uplink sends its block to the ``n - 1`` other sealers one copy after another
  (``serial_uplink``) over :class:`chain.network.Links`, and the next sealer seals only
  on a parent it has received and imported, import costing ``import_us_per_tx`` per
  transaction of the block and of its pending pool (go-ethereum re-validates its pool
  on every new head); a slot whose sealer is not ready passes unsealed. A full block
  to 24 sealers takes ~1.3 s at 50 Mbit/s, so 500 tx/s is still served; under
  overload the pool grows, imports get longer and slots are skipped, the sooner the
  more sealers there are. Bandwidth (50 Mbit/s), latency (50 ms) and import cost
  (200 us per transaction) are our assumptions, calibrated to the paper's ceiling;
  the paper gives none of them.

Throughput is transactions / (last commit - first send); latency is send to commit.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chain import Chain, Identity, ProofOfAuthority, Transaction, make_genesis  # noqa: E402
from chain.network import NetworkModel  # noqa: E402
from chain.transaction import sign_transaction  # noqa: E402

RATES_TX_S = (100, 200, 500, 700, 1000, 1200)
SEALERS = (1, 2, 3, 5, 10, 15, 20, 25)
BLOCK_PERIOD_S = 2.0
TICK_MS = 100


def signed_workload(n_tx: int, rate_tx_s: int, n_senders: int = 100, seed: int = 1):
    """``n_tx`` signed payments sent at ``rate_tx_s`` by round-robin senders; send times in ms."""
    senders = [Identity.derive(seed, f"sender/{i}") for i in range(n_senders)]
    receiver = Identity.derive(seed, "receiver").public_hex
    send_ms = np.floor(np.arange(n_tx) * 1000.0 / rate_tx_s).astype(np.int64)
    txs = []
    for i in range(n_tx):
        sender = senders[i % n_senders]
        tx = Transaction("repro", sender.public_hex, receiver, 1, i // n_senders, "payment",
                         {"i": i}, int(send_ms[i]))  # fmt: skip
        txs.append(sign_transaction(sender, tx))
    balances = {s.public_hex: n_tx for s in senders}
    return txs, send_ms, balances


def run_point(
    txs, send_ms, balances, verified, n_sealers, network, import_us_per_tx
) -> dict[str, float]:
    """One (rate, sealers) point: throughput, latency and block-size spread."""
    consensus = ProofOfAuthority(
        block_period_s=BLOCK_PERIOD_S, max_block_tx=1000, n_validators=n_sealers,
        network=network, serial_uplink=True, import_us_per_tx=import_us_per_tx,
    )  # fmt: skip
    vals = [Identity.derive(7, f"sealer/{k}") for k in range(n_sealers)]
    chain = Chain(make_genesis("repro", consensus, balances, vals), consensus, vals)
    chain.ledger.verified_signatures.update(verified)  # checked once per workload
    # A transaction reaches the sealers one link latency after it is sent.
    ready = send_ms + network.latency_ms
    nxt, now = 0, 0
    while nxt < len(txs) or len(chain.mempool):
        now += TICK_MS
        end = nxt
        while end < len(txs) and ready[end] <= now:
            end += 1
        if end > nxt:
            rejected = chain.submit(txs[nxt:end])
            assert not rejected, rejected[0][1]
            nxt = end
        chain.advance_to(now)
    commits = np.asarray(chain.recorder.commit_times_ms)
    block_of_tx = np.repeat(np.arange(len(chain.blocks)), [b.n_tx for b in chain.blocks])
    latency_s = (commits[block_of_tx] - send_ms) / 1000.0
    metrics = chain.metrics()
    return {
        "throughput_tx_s": len(txs) / ((commits.max() - send_ms[0]) / 1000.0),
        "latency_mean_s": float(latency_s.mean()),
        "block_tx_std": float(metrics["std_block_tx"]),
        "skipped_slots": float(metrics.get("skipped_slots", 0)),
    }


def sweep(
    rates, sealers, n_tx, bandwidth_mbps, import_us_per_tx=200
) -> dict[tuple[int, int], dict[str, float]]:
    """Every (rate, sealers) point."""
    network = NetworkModel(latency_ms=50.0, bandwidth_mbps=bandwidth_mbps)
    results = {}
    for rate in rates:
        txs, send_ms, balances = signed_workload(n_tx, rate)
        verified = {stx.tx_hash: stx.signature for stx in txs if stx.verify_signature()}
        for n in sealers:
            results[(rate, n)] = run_point(
                txs, send_ms, balances, verified, n, network, import_us_per_tx
            )
            print(f"  rate {rate} tx/s, {n} sealers: {results[(rate, n)]}", file=sys.stderr)
    return results


def table(results, rates, sealers, key: str, fmt: str) -> str:
    """Markdown table: sealers down, send rates across."""
    lines = ["| sealers | " + " | ".join(f"{r} tx/s" for r in rates) + " |"]
    lines.append("|---|" + "---|" * len(rates))
    for n in sealers:
        cells = [format(results[(r, n)][key], fmt) for r in rates]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results, rates, sealers, path: Path) -> None:
    """Throughput (Fig 4.7), latency (Fig 4.8) and block-size std (Fig 4.12)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for key, ax, label in zip(
        ("throughput_tx_s", "latency_mean_s", "block_tx_std"), axes,
        ("throughput (tx/s)", "mean latency (s)", "std of tx per block"), strict=True,
    ):  # fmt: skip
        for rate in rates:
            ax.plot(sealers, [results[(rate, n)][key] for n in sealers], "o-", label=f"{rate}")
        ax.set_xlabel("sealers")
        ax.set_ylabel(label)
    axes[0].legend(title="send rate (tx/s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="python -m experiments.repro.poa_sealers")
    parser.add_argument("--quick", action="store_true", help="3 rates x 3 sizes, 2000 tx")
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--bandwidth-mbps", type=float, default=50.0)
    parser.add_argument("--import-us-per-tx", type=int, default=200)
    parser.add_argument("--all-sizes", action="store_true", help="every size 1..25")
    args = parser.parse_args(argv)
    rates = (100, 500, 1200) if args.quick else RATES_TX_S
    sealers = (1, 10, 25) if args.quick else SEALERS
    if args.all_sizes:
        sealers = tuple(range(1, 26))
    n_tx = 2000 if args.quick else 10_000
    results = sweep(rates, sealers, n_tx, args.bandwidth_mbps, args.import_us_per_tx)
    print("Throughput (tx/s), Fig 4.7\n")
    print(table(results, rates, sealers, "throughput_tx_s", ".0f"))
    print("\nMean latency (s), Fig 4.8\n")
    print(table(results, rates, sealers, "latency_mean_s", ".2f"))
    print("\nStandard deviation of transactions per block, Fig 4.12\n")
    print(table(results, rates, sealers, "block_tx_std", ".0f"))
    args.out.mkdir(parents=True, exist_ok=True)
    plot(results, rates, sealers, args.out / "poa_sealers.png")
    print(f"\nplot: {args.out / 'poa_sealers.png'}", file=sys.stderr)
    assert math.isfinite(results[(rates[0], sealers[0])]["throughput_tx_s"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
