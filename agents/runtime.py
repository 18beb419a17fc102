"""Where areas run: all in this process, or spread over Ray actors.

Both runtimes expose the same calls and return per-area results in area-id order,
so the driver (and therefore the run) cannot tell them apart: the same config and
seed give the same trades and the same ledger head with either.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from agents.area import Area, AreaDecision, AreaSpec
from agents.params import check, is_integer
from agents.settlement import SettlementBatch
from agents.signing import gc_paused
from chain.tx_columns import unpack


@dataclass
class LocalRuntime:
    """Step every area in the driver's process (the default).

    ``decide`` and ``settle`` run the areas on a pool of ``threads`` threads. Areas
    share no mutable state (each has its own Mesa world, generators, keys and
    wallets; the market mechanisms are pure functions), and results are collected in
    area order, so any thread count gives the same run, bit for bit. The threads pay
    off because Ed25519 signing and verification (``cryptography``/OpenSSL) release
    the GIL: signing and verifying the areas' orders and payments, most of a step,
    then runs on every core (measured here: 2 threads sign 1.8x and verify 1.6x as
    fast as one).

    Attributes:
        threads: Threads stepping the areas; None: one per core (``os.cpu_count()``);
            1: one area after the other in the calling thread.
    """

    threads: int | None = None
    name = "local"

    def __post_init__(self) -> None:
        check(
            self.threads is None or (is_integer(self.threads) and self.threads >= 1),
            "threads",
            "an integer >= 1, or null for one per core",
            self.threads,
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    @property
    def n_threads(self) -> int:
        """Threads actually used (``threads``, or the number of cores)."""
        return self.threads if self.threads is not None else max(1, os.cpu_count() or 1)

    def _map(self, fn: Callable[..., Any], *iterables: Sequence[Any]) -> list[Any]:
        """``fn`` over the areas' arguments, results in area order."""
        n = min(self.n_threads, len(iterables[0]))
        if n <= 1:
            return [fn(*args) for args in zip(*iterables, strict=True)]
        if self._pool is None or self._pool_size != n:
            self.close()
            self._pool = ThreadPoolExecutor(n, thread_name_prefix="gridledger-area")
            self._pool_size = n
        return list(self._pool.map(fn, *iterables))

    def __getstate__(self) -> dict[str, Any]:
        # Checkpoints pickle the model with its runtime; the pool is rebuilt on demand.
        state = dict(self.__dict__)
        state["_pool"] = None
        return state

    def start(self, specs: Sequence[AreaSpec]) -> None:
        """Build the areas."""
        self.areas = [Area(spec) for spec in specs]

    def genesis_balances(self) -> list[dict[str, int]]:
        """Per area, public key -> genesis balance in micro-coins."""
        return [area.genesis_balances_micro for area in self.areas]

    def public_keys(self) -> list[list[str]]:
        """Per area, the wallet holders' public keys in local row order."""
        return [area.public_keys for area in self.areas]

    def decide(self, step: int, area_lmps: Sequence[float] | None = None) -> list[AreaDecision]:
        """Every area's decisions for ``step``, in area order.

        ``area_lmps``: the grid operator's last LMP at each area's station (or None).
        """
        lmps = _per_area(area_lmps, len(self.areas))
        return self._map(_decide, self.areas, [step] * len(self.areas), lmps)

    def miner_candidates(self) -> list:
        """Per area, its entities for miner selection (seed 000 Algorithm 1)."""
        return [area.miner_candidates() for area in self.areas]

    def settle(self, batches: Sequence[SettlementBatch]) -> list[tuple[list, dict]]:
        """Every area signs (and verifies) its payments; results in area order."""
        if len(batches) != len(self.areas):
            raise ValueError(f"settle: {len(batches)} batches for {len(self.areas)} areas")
        return self._map(Area.settle, self.areas, list(batches))

    def wallets(self) -> list:
        """Each area's wallet arrays (for end-of-run accounting)."""
        return [area.wallets for area in self.areas]

    def market_states(self) -> list:
        """Each area's market state (credit, reputation, ...) for end-of-run accounting."""
        return [area.market_state for area in self.areas]

    def payments_dropped(self) -> list[int]:
        """Per area, payments its aggregator dropped because their signature failed."""
        return [getattr(area.aggregator, "payments_dropped", 0) for area in self.areas]

    def local_areas(self) -> list[Area]:
        """The area objects themselves (only this runtime has them in-process)."""
        return self.areas

    def capture_areas(self) -> list[Area]:
        """Every area's whole state, in area order (for a checkpoint)."""
        return list(self.areas)

    def restore_areas(self, areas: Sequence[Area]) -> None:
        """Replace the areas by saved ones (from :meth:`capture_areas`)."""
        self.areas = list(areas)

    def close(self) -> None:
        """Stop the thread pool (a later call starts a new one)."""
        pool, self._pool = getattr(self, "_pool", None), None
        if pool is not None:
            pool.shutdown(wait=True)


class WorkerLost(RuntimeError):
    """A Ray actor holding areas died and could not be restarted; the run must stop."""


# Calls that change an area's state; they are journaled so a restarted actor can replay
# them (decide draws from the area's generator, settle books payments and nonces).
_STATEFUL_CALLS = ("decide", "settle")


@dataclass
class RayRuntime:
    """Spread the areas over ``num_workers`` Ray actors, area ``a`` on actor ``a % n``.

    An actor that dies (``ray.exceptions.RayActorError``) is replaced: a new actor
    builds the same areas from their specs, loads the areas' last saved state (the last
    checkpoint, if the run wrote or resumed one), replays every state-changing call made
    since (the steps' ``decide`` and ``settle``, journaled on the driver) and then runs
    the call that failed. Areas are deterministic functions of their specs and these
    calls, so the run goes on to the same ledger head as if nothing had happened. After
    ``max_restarts`` replacements in a run, :class:`WorkerLost` stops it.

    Attributes:
        num_workers: Number of actors (each holds one or more areas).
        address: Ray cluster to join (``"auto"`` or ``"host:port"``); ``None`` starts or
            reuses a local Ray instance.
        max_restarts: How many dead actors a run may replace in total.
    """

    num_workers: int = 2
    address: str | None = None
    max_restarts: int = 3
    name = "ray"

    def __post_init__(self) -> None:
        check(
            is_integer(self.num_workers) and self.num_workers >= 1,
            "num_workers",
            "an integer >= 1",
            self.num_workers,
        )
        check(
            is_integer(self.max_restarts) and self.max_restarts >= 0,
            "max_restarts",
            "an integer >= 0",
            self.max_restarts,
        )

    def start(self, specs: Sequence[AreaSpec]) -> None:
        """Connect to Ray (once per process) and build the areas inside the actors."""
        from agents.ray_workers import start_workers

        self._n_areas = len(specs)
        self._workers = start_workers(specs, self.num_workers, self.address)
        n = len(self._workers)
        self._worker_specs = [list(specs[i::n]) for i in range(n)]
        self._saved: list[bytes | None] = [None] * n
        self._journal: list[list[tuple[str, tuple]]] = [[] for _ in range(n)]
        self.restarts = 0

    def _gather(self, per_worker: list[list]) -> list:
        """Interleave per-worker result lists back into area-id order."""
        results = [None] * self._n_areas
        for worker_index, values in enumerate(per_worker):
            for k, value in enumerate(values):
                results[worker_index + k * len(per_worker)] = value
        return results

    def _call(self, method: str, *args_per_worker) -> list:
        """Call ``method`` on every actor; results in area order."""
        return self._gather(self._call_workers(method, *args_per_worker))

    def _call_workers(self, method: str, *args_per_worker) -> list[list]:
        """Call ``method`` on every actor (replacing dead ones); per-actor result lists."""
        import ray
        from ray.exceptions import RayActorError

        args = [tuple(a[i] for a in args_per_worker) for i in range(len(self._workers))]
        calls = [getattr(worker, method).remote(*args[i]) for i, worker in enumerate(self._workers)]
        results = []
        for i, call in enumerate(calls):
            try:
                results.append(ray.get(call))
            except RayActorError as error:
                results.append(self._replace_worker(i, method, args[i], error))
        if method in _STATEFUL_CALLS:
            for i in range(len(self._workers)):
                self._journal[i].append((method, args[i]))
        return results

    def _replace_worker(self, i: int, method: str, args: tuple, error: Exception) -> list:
        """Start a new actor for worker ``i``'s areas, bring it up to date, redo ``method``."""
        import ray
        from ray.exceptions import RayActorError

        from agents.ray_workers import new_worker

        while self.restarts < self.max_restarts:
            self.restarts += 1
            try:
                worker = new_worker(self._worker_specs[i])
                if self._saved[i] is not None:
                    ray.get(worker.restore.remote(self._saved[i]))
                for past_method, past_args in self._journal[i]:
                    ray.get(getattr(worker, past_method).remote(*past_args))
                result = ray.get(getattr(worker, method).remote(*args))
            except RayActorError as again:
                error = again
                continue
            self._workers[i] = worker
            return result
        areas = [spec.area_id for spec in self._worker_specs[i]]
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WorkerLost(
            f"runtime=ray: the actor of areas {areas} died during {method} and could not be "
            f"restarted ({self.restarts} of max_restarts={self.max_restarts} used): {reason}"
        )

    def genesis_balances(self) -> list[dict[str, int]]:
        """Per area, public key -> genesis balance in micro-coins."""
        return self._call("genesis_balances")

    def public_keys(self) -> list[list[str]]:
        """Per area, the wallet holders' public keys in local row order."""
        return self._call("public_keys")

    def decide(self, step: int, area_lmps: Sequence[float] | None = None) -> list[AreaDecision]:
        """Every area's decisions for ``step``, in area order (``area_lmps`` as local)."""
        n = len(self._workers)
        lmps = _per_area(area_lmps, self._n_areas)
        return self._call("decide", [step] * n, [lmps[i::n] for i in range(n)])

    def miner_candidates(self) -> list:
        """Per area, its entities for miner selection (seed 000 Algorithm 1)."""
        return self._call("miner_candidates")

    def settle(self, batches: Sequence[SettlementBatch]) -> list[tuple[list, dict]]:
        """Every area signs its payments; results in area order."""
        n = len(self._workers)
        settled = self._call("settle", [list(batches[i::n]) for i in range(n)])
        # Payments come back as columns and are rebuilt (and re-hashed) here, with the
        # collector held off as where they were made (agents.signing.gc_paused).
        with gc_paused():
            return [(unpack(packed), samples) for packed, samples in settled]

    def wallets(self) -> list:
        """Each area's wallet arrays (for end-of-run accounting)."""
        return self._call("wallets")

    def market_states(self) -> list:
        """Each area's market state (credit, reputation, ...) for end-of-run accounting."""
        return self._call("market_states")

    def payments_dropped(self) -> list[int]:
        """Per area, payments its aggregator dropped because their signature failed."""
        return self._call("payments_dropped")

    def local_areas(self) -> list[Area]:
        """Areas live in other processes under Ray."""
        return []

    def capture_areas(self) -> list[bytes]:
        """Every actor's areas, pickled, in actor order (for a checkpoint).

        The saved state also becomes the starting point of a replaced actor, so the
        journal of calls to replay starts again from here.
        """
        saved = list(self._call_workers("capture"))
        self._keep(saved)
        return saved

    def restore_areas(self, saved: Sequence[bytes]) -> None:
        """Load the actors' areas from :meth:`capture_areas` output (same ``num_workers``)."""
        if len(saved) != len(self._workers):
            raise ValueError(f"restore: {len(saved)} saved actors for {len(self._workers)}")
        self._call_workers("restore", list(saved))
        self._keep(list(saved))

    def _keep(self, saved: list[bytes]) -> None:
        self._saved = list(saved)
        self._journal = [[] for _ in saved]

    def close(self) -> None:
        """Stop the actors (Ray itself stays up for the next job in this process)."""
        import ray

        for worker in getattr(self, "_workers", []):
            ray.kill(worker)
        self._workers = []


def _decide(area: Area, step: int, lmp: float | None) -> AreaDecision:
    """``area.decide``, passing the LMP only when there is one (wrappers may take one arg)."""
    return area.decide(step) if lmp is None else area.decide(step, lmp)


def _per_area(area_lmps: Sequence[float] | None, n_areas: int) -> list[float | None]:
    """The LMP of each area, or None for every area when there are none."""
    if area_lmps is None:
        return [None] * n_areas
    return [float(x) for x in area_lmps]
