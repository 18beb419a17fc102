"""The distribution grid as a networkx graph: radial feeders under one substation.

Every bus carries ``kind`` ("substation", "station" or "bus"), ``area`` (-1 for the
substation) and ``pos`` (x, y in km, for drawing). Every line carries ``length_km``,
``r_ohm`` and ``x_ohm`` for the power-flow engines of the agents issue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from agents.grid_settings import build_grid_settings
from agents.params import check, check_interval, check_range, is_integer
from agents.powerflow.limits import GridLimits
from agents.tariff import GridSupply

SUBSTATION = 0


@dataclass(frozen=True)
class RadialFeeders:
    """One radial feeder per station area, all fed from a common substation.

    Each area's station bus hangs off the substation through a trunk line; the area's
    other buses form a random recursive tree rooted at the station (each new bus
    connects to a uniformly chosen earlier bus), the usual shape of a low-voltage
    feeder. Line data default to a typical 0.4 kV aluminium cable (assumption).

    Attributes:
        n_areas: Number of station areas (issue default: 2).
        buses_per_area: Buses per area, the station bus included.
        line_length_km: Range of a feeder line's length.
        trunk_length_km: Length of the line from the substation to each station.
        r_ohm_per_km: Line resistance per km.
        x_ohm_per_km: Line reactance per km.
        limits: Physical limits on dispatchable sales (``none``, ``curtail``, ``price``;
            :mod:`agents.powerflow.limits`); needs a power flow.
        supply: The grid operator's supply capacity, demand-response trigger and
            marginal generation price (:class:`agents.tariff.GridSupply`).
        lmp: Whether the grid operator computes LMPs per step (DC OPF,
            :mod:`agents.powerflow.lmp`); needs a power flow.
    """

    n_areas: int = 2
    buses_per_area: int = 20
    line_length_km: tuple[float, float] = (0.05, 0.3)
    trunk_length_km: float = 1.0
    r_ohm_per_km: float = 0.206
    x_ohm_per_km: float = 0.080
    # ---- agents-real: grid-operator settings
    limits: GridLimits = field(default_factory=GridLimits)
    supply: GridSupply = field(default_factory=GridSupply)
    lmp: bool = False
    # ---- end agents-real

    def __post_init__(self) -> None:
        object.__setattr__(self, "line_length_km", tuple(self.line_length_km))
        check(
            is_integer(self.n_areas) and 1 <= self.n_areas <= 10_000,
            "n_areas",
            "an integer from 1 to 10000",
            self.n_areas,
        )
        check(
            is_integer(self.buses_per_area) and self.buses_per_area >= 1,
            "buses_per_area",
            "an integer >= 1",
            self.buses_per_area,
        )
        check_interval(self.line_length_km, "line_length_km", low=0.0)
        check_range(self.trunk_length_km, "trunk_length_km", 0.0, low_open=True)
        check_range(self.r_ohm_per_km, "r_ohm_per_km", 0.0)
        check_range(self.x_ohm_per_km, "x_ohm_per_km", 0.0)
        build_grid_settings(self)

    @property
    def n_buses(self) -> int:
        """Number of buses in the whole grid, substation included."""
        return 1 + self.n_areas * self.buses_per_area

    def build(self, rng: np.random.Generator) -> nx.Graph:
        """Draw the feeder graph from ``rng`` (same generator state, same graph)."""
        graph = nx.Graph(name="radial_feeders")
        graph.add_node(SUBSTATION, kind="substation", area=-1, pos=(0.0, 0.0))
        next_bus = 1
        for area in range(self.n_areas):
            angle = 2 * math.pi * area / self.n_areas
            station = next_bus
            graph.add_node(
                station, kind="station", area=area, pos=(math.cos(angle), math.sin(angle))
            )
            self._add_line(graph, SUBSTATION, station, self.trunk_length_km)
            buses = [station]
            for _ in range(self.buses_per_area - 1):
                bus = next_bus + len(buses)
                parent = buses[int(rng.integers(len(buses)))]
                graph.add_node(bus, kind="bus", area=area)
                self._add_line(graph, parent, bus, float(rng.uniform(*self.line_length_km)))
                buses.append(bus)
            next_bus += len(buses)
            _lay_out_area(graph, station, angle)
        return graph

    def _add_line(self, graph: nx.Graph, a: int, b: int, length_km: float) -> None:
        graph.add_edge(
            a,
            b,
            length_km=length_km,
            r_ohm=length_km * self.r_ohm_per_km,
            x_ohm=length_km * self.x_ohm_per_km,
        )


def area_buses(graph: nx.Graph, area: int) -> list[int]:
    """Buses of ``area`` in ascending id order (the station bus first)."""
    return sorted(node for node, data in graph.nodes(data=True) if data["area"] == area)


def station_bus(graph: nx.Graph, area: int) -> int:
    """The station bus of ``area``."""
    return next(node for node in area_buses(graph, area) if graph.nodes[node]["kind"] == "station")


def _lay_out_area(graph: nx.Graph, station: int, angle: float) -> None:
    """Place an area's buses outward from its station, fanning within the area's sector.

    Depth along the feeder sets the distance from the station; buses at the same depth
    are spread across a 60-degree fan in breadth-first order.
    """
    depth = nx.single_source_shortest_path_length(
        graph.subgraph(
            n for n, d in graph.nodes(data=True) if d["area"] == graph.nodes[station]["area"]
        ),
        station,
    )
    by_depth: dict[int, list[int]] = {}
    for bus, level in sorted(depth.items()):
        by_depth.setdefault(level, []).append(bus)
    sx, sy = graph.nodes[station]["pos"]
    for level, buses in by_depth.items():
        if level == 0:
            continue
        for rank, bus in enumerate(buses):
            offset = (rank + 0.5) / len(buses) - 0.5
            theta = angle + offset * math.pi / 3
            radius = 0.25 * level
            graph.nodes[bus]["pos"] = (sx + radius * math.cos(theta), sy + radius * math.sin(theta))
