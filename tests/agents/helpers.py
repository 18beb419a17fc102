"""Shared builders for the area tests."""

from __future__ import annotations

import numpy as np

import market
from agents.area import AreaSpec
from agents.population import Population
from agents.tariff import TimeOfUseTariff
from agents.topology import RadialFeeders, area_buses

STEPS_PER_DAY = 96
FEED_IN = 0.10


class RecordingMarket:
    """Sorted pairing that keeps every book it is asked to clear."""

    def __init__(self):
        self.inner = market.SortedPairing()
        self.books = []

    def clear(self, book, ctx):
        self.books.append((book, ctx))
        return self.inner.clear(book, ctx)


GRAPH = RadialFeeders(n_areas=2, buses_per_area=8).build(np.random.default_rng(0))
POP = Population(size=40)  # area 0: 20 households, 10 PV, 3 batteries, 5 EVs, 1 provider


def make_spec(**overrides) -> AreaSpec:
    spec = dict(
        area_id=0,
        counts=POP.area_counts(2)[0],
        population=POP,
        tariff=TimeOfUseTariff(),
        market=market.SortedPairing(),
        graph=GRAPH.subgraph(area_buses(GRAPH, 0)).copy(),
        seed=np.random.SeedSequence(1),
        run_seed=1,
        id_offset=1,
        chain_id="main",
        step_minutes=15,
    )
    spec.update(overrides)
    return AreaSpec(**spec)
