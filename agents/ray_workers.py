"""Ray actors that host areas. Imported only when ``runtime=ray`` is chosen."""

from __future__ import annotations

from collections.abc import Sequence

import ray

from agents.area import Area, AreaSpec


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

    def decide(self, step: int):
        """Every area's decisions for ``step``."""
        return [area.decide(step) for area in self.areas]

    def miner_candidates(self):
        """Every area's entities for miner selection."""
        return [area.miner_candidates() for area in self.areas]

    def settle(self, batches):
        """Every area signs its payments."""
        return [area.settle(batch) for area, batch in zip(self.areas, batches, strict=True)]

    def wallets(self):
        """Every area's wallet arrays."""
        return [area.wallets for area in self.areas]


def start_workers(specs: Sequence[AreaSpec], num_workers: int, address: str | None) -> list:
    """Start (or join) Ray and create ``min(num_workers, len(specs))`` area actors."""
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
    n = max(1, min(num_workers, len(specs)))
    remote_worker = ray.remote(AreaWorker)
    return [remote_worker.options(num_cpus=0).remote(list(specs[i::n])) for i in range(n)]
