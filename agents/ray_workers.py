"""Ray actors that host areas. Imported only when ``runtime=ray`` is chosen."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import ray

from agents.area import Area, AreaSpec
from chain.tx_columns import pack


class AreaWorker:
    """Holds a fixed set of areas (in area-id order) and steps them on request.

    One call steps all of the worker's areas, so each call carries a whole step's
    worth of work for its share of the population, never one task per agent.
    """

    def __init__(self, specs: Sequence[AreaSpec]):
        self.areas = [Area(spec) for spec in specs]

    def genesis_balances(self):
        """Per area, public key -> genesis balance."""
        return [area.genesis_balances_micro for area in self.areas]

    def public_keys(self):
        """Per area, the wallet holders' public keys."""
        return [area.public_keys for area in self.areas]

    def decide(self, step: int, lmps=None):
        """Every area's decisions for ``step`` (``lmps``: one per area of this worker)."""
        lmps = lmps if lmps is not None else [None] * len(self.areas)
        return [
            area.decide(step) if lmp is None else area.decide(step, lmp)
            for area, lmp in zip(self.areas, lmps, strict=True)
        ]

    def miner_candidates(self):
        """Every area's entities for miner selection."""
        return [area.miner_candidates() for area in self.areas]

    def settle(self, batches):
        """Every area signs its payments; they travel back as columns (chain.tx_columns)."""
        return [
            (pack(signed), samples)
            for signed, samples in (
                area.settle(batch) for area, batch in zip(self.areas, batches, strict=True)
            )
        ]

    def wallets(self):
        """Every area's wallet arrays."""
        return [area.wallets for area in self.areas]

    def market_states(self):
        """Every area's market state."""
        return [area.market_state for area in self.areas]

    def payments_dropped(self):
        """Every area's count of payments dropped by its aggregator's signature check."""
        return [getattr(area.aggregator, "payments_dropped", 0) for area in self.areas]

    def capture(self) -> bytes:
        """Every area's whole state, pickled.

        Bytes rather than objects: Ray would hand numpy arrays back as read-only views
        of its object store, and a restored area must own writable arrays.
        """
        return pickle.dumps(self.areas, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, saved: bytes) -> None:
        """Replace the areas by a saved state of the same areas (from :meth:`capture`)."""
        areas = pickle.loads(saved)
        if [a.spec.area_id for a in areas] != [a.spec.area_id for a in self.areas]:
            raise ValueError("restore: the saved areas are not this actor's areas")
        self.areas = areas


def start_workers(specs: Sequence[AreaSpec], num_workers: int, address: str | None) -> list:
    """Start (or join) Ray and create ``min(num_workers, len(specs))`` area actors."""
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
    n = max(1, min(num_workers, len(specs)))
    return [new_worker(list(specs[i::n])) for i in range(n)]


def new_worker(specs: Sequence[AreaSpec]):
    """One area actor holding ``specs``' areas (also used to replace a dead actor).

    Ray's own actor restarts stay off (``max_restarts=0``): a restarted actor would
    come back with freshly built areas, silently out of step with the run; the
    runtime replaces dead actors itself and brings them up to date.
    """
    return _REMOTE_WORKER.options(num_cpus=0, max_restarts=0).remote(list(specs))


_REMOTE_WORKER = ray.remote(AreaWorker)
