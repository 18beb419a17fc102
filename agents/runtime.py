"""Where areas run: all in this process, or spread over Ray actors.

Both runtimes expose the same calls and return per-area results in area-id order,
so the driver (and therefore the run) cannot tell them apart: the same config and
seed give the same trades and the same ledger head with either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.area import Area, AreaDecision, AreaSpec
from agents.params import check, is_integer
from agents.settlement import SettlementBatch


@dataclass
class LocalRuntime:
    """Step every area in the driver's process (the default)."""

    name = "local"

    def start(self, specs: Sequence[AreaSpec]) -> None:
        """Build the areas."""
        self.areas = [Area(spec) for spec in specs]

    def genesis_balances(self) -> list[dict[str, int]]:
        """Per area, public key -> genesis balance in micro-coins."""
        return [area.genesis_balances_micro for area in self.areas]

    def public_keys(self) -> list[list[str]]:
        """Per area, the wallet holders' public keys in local row order."""
        return [area.public_keys for area in self.areas]

    def decide(self, step: int) -> list[AreaDecision]:
        """Every area's decisions for ``step``, in area order."""
        return [area.decide(step) for area in self.areas]

    def miner_candidates(self) -> list:
        """Per area, its entities for miner selection (seed 000 Algorithm 1)."""
        return [area.miner_candidates() for area in self.areas]

    def settle(self, batches: Sequence[SettlementBatch]) -> list[tuple[list, dict]]:
        """Every area signs its payments; results in area order."""
        return [area.settle(batch) for area, batch in zip(self.areas, batches, strict=True)]

    def wallets(self) -> list:
        """Each area's wallet arrays (for end-of-run accounting)."""
        return [area.wallets for area in self.areas]

    def local_areas(self) -> list[Area]:
        """The area objects themselves (only this runtime has them in-process)."""
        return self.areas

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class RayRuntime:
    """Spread the areas over ``num_workers`` Ray actors, area ``a`` on actor ``a % n``.

    Attributes:
        num_workers: Number of actors (each holds one or more areas).
        address: Ray cluster to join (``"auto"`` or ``"host:port"``); ``None`` starts or
            reuses a local Ray instance.
    """

    num_workers: int = 2
    address: str | None = None
    name = "ray"

    def __post_init__(self) -> None:
        check(
            is_integer(self.num_workers) and self.num_workers >= 1,
            "num_workers",
            "an integer >= 1",
            self.num_workers,
        )

    def start(self, specs: Sequence[AreaSpec]) -> None:
        """Connect to Ray (once per process) and build the areas inside the actors."""
        from agents.ray_workers import start_workers

        self._n_areas = len(specs)
        self._workers = start_workers(specs, self.num_workers, self.address)

    def _gather(self, per_worker: list[list]) -> list:
        """Interleave per-worker result lists back into area-id order."""
        results = [None] * self._n_areas
        for worker_index, values in enumerate(per_worker):
            for k, value in enumerate(values):
                results[worker_index + k * len(per_worker)] = value
        return results

    def _call(self, method: str, *args_per_worker) -> list:
        import ray

        calls = [
            getattr(worker, method).remote(*(a[i] for a in args_per_worker))
            for i, worker in enumerate(self._workers)
        ]
        return self._gather(ray.get(calls))

    def genesis_balances(self) -> list[dict[str, int]]:
        """Per area, public key -> genesis balance in micro-coins."""
        return self._call("genesis_balances")

    def public_keys(self) -> list[list[str]]:
        """Per area, the wallet holders' public keys in local row order."""
        return self._call("public_keys")

    def decide(self, step: int) -> list[AreaDecision]:
        """Every area's decisions for ``step``, in area order."""
        return self._call("decide", [step] * len(self._workers))

    def miner_candidates(self) -> list:
        """Per area, its entities for miner selection (seed 000 Algorithm 1)."""
        return self._call("miner_candidates")

    def settle(self, batches: Sequence[SettlementBatch]) -> list[tuple[list, dict]]:
        """Every area signs its payments; results in area order."""
        n = len(self._workers)
        return self._call("settle", [list(batches[i::n]) for i in range(n)])

    def wallets(self) -> list:
        """Each area's wallet arrays (for end-of-run accounting)."""
        return self._call("wallets")

    def local_areas(self) -> list[Area]:
        """Areas live in other processes under Ray."""
        return []

    def close(self) -> None:
        """Stop the actors (Ray itself stays up for the next job in this process)."""
        import ray

        for worker in getattr(self, "_workers", []):
            ray.kill(worker)
        self._workers = []
