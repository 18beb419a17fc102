"""``gridledger-bench``: the benchmark suite of issue 6 (scale).

Scenarios, each in its own module, all run in one process by :func:`main` (days in
child processes so that their peak memory can be read):

1. :mod:`~experiments.bench.agent_step`: one step of agent physics and bidding,
   vectorised vs the per-agent Mesa path, on the same population, same orders.
2. :mod:`~experiments.bench.clearing`: clearing time per market mechanism vs
   order-book size.
3. :mod:`~experiments.bench.chain_validation`: chain admission and block validation
   per consensus vs raw Ed25519 verification of the same signatures.
4. :mod:`~experiments.bench.day`: a simulated day vs population against its signature
   floor; 5. the same day on Ray at 1..n workers; 6. peak memory per agent.

``docs/performance.md`` explains how to read every figure against the issue's targets.
"""

from experiments.bench.cli import main, run_benchmark
from experiments.bench.report import REQUIRED_KEYS

__all__ = ["REQUIRED_KEYS", "main", "run_benchmark"]
