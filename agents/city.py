"""A smart city for seed 000: districts of homes, commercial buildings and industry.

Seed 000 (§4.2) simulates 50 residences, 30 commercial buildings and 10 industrial
buildings with 100 EVs that drive between them; it gives no map. This layout places
them on a street grid, one district per station area, and wires each district as a
radial feeder along the streets:

- District ``a``'s station (its charging station and feeder head) sits on a circle
  of radius ``district_spacing_km`` around the substation, like the radial feeders.
- Entities occupy street intersections around their station, ``block_km`` apart:
  commercial buildings downtown (nearest the station), homes around them, industry on
  the outskirts. Intersections at the same street distance are shuffled by ``rng``.
- Each entity connects to the nearest already-connected bus of its district (street
  distance; ties by id), taking entities in order of distance from the station: a
  radial feeder whose cables follow the streets. Stations connect to the substation
  the same way.

Streets form a complete grid, so the road distance between two buses is the Manhattan
distance of their positions (:func:`road_distance_km`), which EV trips should use
(seed 000 Eq. 4: trip energy = distance / range x capacity). Every bus carries a
``zone`` ("substation", "station", "commercial", "residential" or "industrial").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from agents.grid_settings import build_grid_settings
from agents.params import ParameterError, check, check_range, is_integer
from agents.powerflow.engine import PowerFlow
from agents.powerflow.limits import GridLimits
from agents.profiles import Site
from agents.tariff import GridSupply

SUBSTATION = 0
ZONES = ("commercial", "residential", "industrial")


@dataclass(frozen=True)
class CityLayout:
    """Districts of homes, commercial buildings and industry on a street grid.

    Attributes:
        n_areas: Number of districts (station areas).
        homes: Residential buses in the whole city (seed 000 §4.2: 50).
        buildings: Commercial buses (seed 000 §4.2: 30).
        industries: Industrial buses (seed 000 §4.2: 10).
        block_km: Street-grid spacing (a city block).
        district_spacing_km: Distance from the substation to every district's station.
        base_kv: Distribution voltage (12 kV: a medium-voltage urban network).
        r_ohm_per_km: Cable resistance (assumption: 12 kV XLPE cable, 240 mm2 Al).
        x_ohm_per_km: Cable reactance (same cable).
        ampacity_a: Cable rating (same cable, laid in ground).
        power_flow: Power-flow settings.
        site: Location and date for profiles.
        limits: Physical limits on dispatchable sales (``none``, ``curtail``, ``price``;
            :mod:`agents.powerflow.limits`); needs a power flow.
        supply: The grid operator's supply capacity, demand-response trigger and
            marginal generation price (:class:`agents.tariff.GridSupply`).
        lmp: Whether the grid operator computes LMPs per step (DC OPF,
            :mod:`agents.powerflow.lmp`); needs a power flow.
    """

    n_areas: int = 2
    homes: int = 50
    buildings: int = 30
    industries: int = 10
    block_km: float = 0.2
    district_spacing_km: float = 2.0
    base_kv: float = 12.0
    r_ohm_per_km: float = 0.125
    x_ohm_per_km: float = 0.11
    ampacity_a: float = 400.0
    power_flow: PowerFlow = field(default_factory=PowerFlow)
    site: Site = field(default_factory=Site)
    # ---- agents-real: grid-operator settings
    limits: GridLimits = field(default_factory=GridLimits)
    supply: GridSupply = field(default_factory=GridSupply)
    lmp: bool = False
    # ---- end agents-real

    def __post_init__(self) -> None:
        check(
            is_integer(self.n_areas) and 1 <= self.n_areas <= 1000,
            "n_areas",
            "an integer from 1 to 1000",
            self.n_areas,
        )
        for key in ("homes", "buildings", "industries"):
            value = getattr(self, key)
            check(is_integer(value) and value >= 0, key, "an integer >= 0", value)
        total = self.homes + self.buildings + self.industries
        check(
            total >= self.n_areas,
            "homes",
            f"such that homes + buildings + industries >= n_areas ({self.n_areas})",
            self.homes,
        )
        check_range(self.block_km, "block_km", 0.0, low_open=True)
        check_range(self.district_spacing_km, "district_spacing_km", 0.0, low_open=True)
        check_range(self.base_kv, "base_kv", 0.0, low_open=True)
        check_range(self.r_ohm_per_km, "r_ohm_per_km", 0.0)
        check_range(self.x_ohm_per_km, "x_ohm_per_km", 0.0)
        check_range(self.ampacity_a, "ampacity_a", 0.0, low_open=True)
        for name, kind in (("power_flow", PowerFlow), ("site", Site)):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                try:
                    object.__setattr__(self, name, kind(**value))
                except ParameterError as error:
                    raise error.within(name) from None
        build_grid_settings(self)

    def zone_counts(self) -> list[dict[str, int]]:
        """Entities per zone in each district.

        Entities are dealt round-robin over the districts, commercial first, then
        residential, then industrial: every district gets at least one entity (so two
        buses with its station) and the districts' counts per zone differ by at most 1.
        """
        counts = [dict.fromkeys(ZONES, 0) for _ in range(self.n_areas)]
        entities = [self.buildings, self.homes, self.industries]
        dealt = 0
        for zone, total in zip(ZONES, entities, strict=True):
            for k in range(total):
                counts[(dealt + k) % self.n_areas][zone] += 1
            dealt += total
        return counts

    def build(self, rng: np.random.Generator) -> nx.Graph:
        """Lay out the city and wire its feeders (same generator state, same city)."""
        graph = nx.Graph(name="city", base_kv=self.base_kv, base_mva=1.0)
        graph.add_node(SUBSTATION, kind="substation", area=-1, zone="substation", pos=(0.0, 0.0))
        next_bus = 1
        for area, counts in enumerate(self.zone_counts()):
            angle = 2 * math.pi * area / self.n_areas
            centre = (
                _snap(self.district_spacing_km * math.cos(angle), self.block_km),
                _snap(self.district_spacing_km * math.sin(angle), self.block_km),
            )
            station = next_bus
            graph.add_node(station, kind="station", area=area, zone="station", pos=centre)
            self._add_line(graph, SUBSTATION, station)
            n_entities = sum(counts.values())
            zones = [z for z in ZONES for _ in range(counts[z])]
            offsets = _intersections(n_entities, rng)
            members = [station]
            for k, (zone, (i, j)) in enumerate(zip(zones, offsets, strict=True)):
                bus = station + 1 + k
                pos = (centre[0] + i * self.block_km, centre[1] + j * self.block_km)
                graph.add_node(bus, kind="bus", area=area, zone=zone, pos=pos)
                nearest = min(members, key=lambda m: (road_distance_km(graph, m, bus), m))
                self._add_line(graph, nearest, bus)
                members.append(bus)
            next_bus += 1 + n_entities
        return graph

    def _add_line(self, graph: nx.Graph, a: int, b: int) -> None:
        length = max(road_distance_km(graph, a, b), 1e-3)
        graph.add_edge(
            a,
            b,
            length_km=length,
            r_ohm=length * self.r_ohm_per_km,
            x_ohm=length * self.x_ohm_per_km,
            ampacity_a=self.ampacity_a,
        )


def road_distance_km(graph: nx.Graph, a: int, b: int) -> float:
    """Street distance between two buses: the Manhattan distance of their positions."""
    (xa, ya), (xb, yb) = graph.nodes[a]["pos"], graph.nodes[b]["pos"]
    return abs(xa - xb) + abs(ya - yb)


def _snap(value: float, step: float) -> float:
    return round(value / step) * step


def _intersections(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """The ``n`` street intersections nearest a station (excluding it), ring by ring.

    Ring ``d`` holds the ``4 d`` intersections at street distance ``d`` blocks; each
    ring's order is shuffled by ``rng``, rings are taken in order.
    """
    chosen: list[tuple[int, int]] = []
    ring = 0
    while len(chosen) < n:
        ring += 1
        cells = sorted({(i, s * (ring - abs(i))) for i in range(-ring, ring + 1) for s in (1, -1)})
        order = rng.permutation(len(cells))
        chosen.extend(cells[k] for k in order)
    return chosen[:n]
