"""The SCE 56-bus feeder (seed 003) as a networkx graph with station areas.

The data are the published 56-bus Southern California Edison feeder (package data
``agents/data/sce56``, provenance in its README): per-unit line impedances on a
1 MVA / 12 kV base and spot loads. Graph node ``k`` is SCE bus ``k + 1``, so the
substation (SCE bus 1) is node 0 like every topology here; each node keeps its SCE
number in the attribute ``sce_bus``.

What the table does not give is derived by documented rules:

- **Line length.** Overhead distribution lines have a series reactance of about
  0.4 ohm/km at 60 Hz almost regardless of the conductor (it depends on the logarithm
  of spacing over conductor radius), so ``length_km = x_ohm / x_ohm_per_km``.
- **Line rating.** With that length, ``r_ohm / length_km`` is the conductor's
  resistance per km; the line gets the ampacity of the standard ACSR conductor with
  the nearest resistance (:data:`ACSR_CONDUCTORS`, nearest in log-resistance), times
  ``rating_scale``.
- **Station areas.** The buses below the substation are cut into ``n_areas``
  connected subtrees of nearly equal size (:func:`partition_tree`); each area's
  station is its subtree's root, the bus where the area connects upstream.
- **Drawing coordinates.** A tidy tree layout: leaves one unit apart in depth-first
  order, each parent centred over its children, one unit down per level.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

import networkx as nx
import numpy as np

from agents.grid_settings import build_grid_settings
from agents.params import ParameterError, check, check_range, is_integer
from agents.powerflow.engine import PowerFlow
from agents.powerflow.limits import GridLimits
from agents.profiles import BDEW_PROFILES, Site
from agents.tariff import GridSupply

SUBSTATION = 0
BASE_KV = 12.0
BASE_MVA = 1.0

# Standard ACSR conductors: (code word, AC resistance in ohm/km at 50 C, ampacity in A
# at 75 C conductor, 25 C ambient, 0.6 m/s wind). Rounded values of the kind printed
# in conductor tables (e.g. Glover, Sarma and Overbye, "Power System Analysis and
# Design", Table A.4); they set plausible ratings, not a survey of the real feeder.
ACSR_CONDUCTORS = (
    ("Swan #4", 1.60, 140.0),
    ("Sparrow #2", 1.05, 184.0),
    ("Raven 1/0", 0.67, 242.0),
    ("Quail 2/0", 0.53, 276.0),
    ("Pigeon 3/0", 0.42, 315.0),
    ("Penguin 4/0", 0.34, 357.0),
    ("Partridge 266.8", 0.24, 457.0),
    ("Linnet 336.4", 0.19, 529.0),
    ("Hawk 477", 0.135, 659.0),
)

PV_PLACEMENTS = ("seed003", "original", "none")
# Seed 003 (§5.1): a 1 MW PV plant at bus 53 and a 0.8 MW plant at bus 19 (SCE numbers).
SEED003_PV_MW = {53: 1.0, 19: 0.8}
# The published case's 5 MW PV plant, written as a negative load at bus 45.
ORIGINAL_PV_BUS = 45


@dataclass(frozen=True)
class Sce56Feeder:
    """The SCE 56-bus rural 12 kV feeder split into station areas.

    Attributes:
        n_areas: Number of station areas (1 to 12; each gets at least 2 buses).
        pv_placement: "seed003" (drop the 5 MW plant at bus 45; PV plants of 1 MW at
            bus 53 and 0.8 MW at bus 19), "original" (the published case, bus 45 at
            -5 MW / -1.5 MVAr) or "none" (no plant at all).
        load_scale: Multiplier on the table's spot loads (1: as published).
        x_ohm_per_km: Assumed overhead-line reactance used to derive line lengths.
        rating_scale: Multiplier on the conductor ampacities.
        background_profile: BDEW profile the spot loads follow over the day, scaled so
            that the table's values are reached at the profile's daily peak (the
            published loads are a single snapshot; assumption).
        power_flow: Power-flow settings for this feeder.
        site: Location and date for profiles (default: southern California).
        limits: Physical limits on dispatchable sales (``none``, ``curtail``, ``price``;
            :mod:`agents.powerflow.limits`); needs a power flow.
        supply: The grid operator's supply capacity, demand-response trigger and
            marginal generation price (:class:`agents.tariff.GridSupply`).
        lmp: Whether the grid operator computes LMPs per step (DC OPF,
            :mod:`agents.powerflow.lmp`); needs a power flow.
    """

    n_areas: int = 4
    pv_placement: str = "seed003"
    load_scale: float = 1.0
    x_ohm_per_km: float = 0.4
    rating_scale: float = 1.0
    background_profile: str = "h0_dyn"
    power_flow: PowerFlow = field(default_factory=PowerFlow)
    site: Site = field(default_factory=Site)
    # ---- agents-real: grid-operator settings
    limits: GridLimits = field(default_factory=GridLimits)
    supply: GridSupply = field(default_factory=GridSupply)
    lmp: bool = False
    # ---- end agents-real

    def __post_init__(self) -> None:
        check(
            is_integer(self.n_areas) and 1 <= self.n_areas <= 12,
            "n_areas",
            "an integer from 1 to 12",
            self.n_areas,
        )
        check(
            self.pv_placement in PV_PLACEMENTS,
            "pv_placement",
            f"one of {', '.join(PV_PLACEMENTS)}",
            self.pv_placement,
        )
        check_range(self.load_scale, "load_scale", 0.0)
        check_range(self.x_ohm_per_km, "x_ohm_per_km", 0.0, low_open=True)
        check_range(self.rating_scale, "rating_scale", 0.0, low_open=True)
        check(
            self.background_profile in BDEW_PROFILES,
            "background_profile",
            f"one of {', '.join(BDEW_PROFILES)}",
            self.background_profile,
        )
        for name in ("power_flow", "site"):
            value = getattr(self, name)
            if isinstance(value, Mapping):  # plain mappings from a config, not yet built
                kind = PowerFlow if name == "power_flow" else Site
                try:
                    object.__setattr__(self, name, kind(**value))
                except ParameterError as error:
                    raise error.within(name) from None
        build_grid_settings(self)

    def build(self, rng: np.random.Generator | None = None) -> nx.Graph:
        """The feeder graph (deterministic: ``rng`` is accepted for the common interface)."""
        buses, branches = load_sce56()
        graph = nx.Graph(name="sce56", base_kv=BASE_KV, base_mva=BASE_MVA)
        z_base = BASE_KV**2 / BASE_MVA
        for row in buses:
            sce_bus = int(row["bus"])
            p, q = float(row["p_load_mw"]), float(row["q_load_mvar"])
            pv = 0.0
            if sce_bus == ORIGINAL_PV_BUS and self.pv_placement != "original":
                p = q = 0.0
            if self.pv_placement == "seed003":
                pv = SEED003_PV_MW.get(sce_bus, 0.0)
            if p > 0:
                p, q = p * self.load_scale, q * self.load_scale
            graph.add_node(
                sce_bus - 1,
                kind="substation" if sce_bus == 1 else "bus",
                area=-1,
                sce_bus=sce_bus,
                p_load_mw=p,
                q_load_mvar=q,
                pv_plant_mw=pv,
                v_min_pu=float(row["v_min_pu"]),
                v_max_pu=float(row["v_max_pu"]),
            )
        for row in branches:
            r_pu, x_pu = float(row["r_pu"]), float(row["x_pu"])
            r_ohm, x_ohm = r_pu * z_base, x_pu * z_base
            length_km = x_ohm / self.x_ohm_per_km
            conductor, ampacity = nearest_conductor(r_ohm / length_km)
            ampacity *= self.rating_scale
            graph.add_edge(
                int(row["from_bus"]) - 1,
                int(row["to_bus"]) - 1,
                r_pu=r_pu,
                x_pu=x_pu,
                r_ohm=r_ohm,
                x_ohm=x_ohm,
                length_km=length_km,
                conductor=conductor,
                ampacity_a=ampacity,
                rating_mva=math.sqrt(3.0) * BASE_KV * ampacity / 1000.0,
            )
        if not nx.is_tree(graph):  # pragma: no cover - guards the packaged data
            raise ValueError("SCE 56 data do not form a tree")
        areas = partition_tree(graph, SUBSTATION, self.n_areas)
        for area, members in enumerate(areas):
            for node in members:
                graph.nodes[node]["area"] = area
            graph.nodes[members[0]]["kind"] = "station"
        for node, pos in tree_layout(graph, SUBSTATION).items():
            graph.nodes[node]["pos"] = pos
        return graph


def load_sce56() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The packaged SCE 56 tables (``buses.csv``, ``branches.csv``) as rows of strings."""
    folder = resources.files("agents").joinpath("data", "sce56")
    tables = []
    for name in ("buses.csv", "branches.csv"):
        text = folder.joinpath(name).read_text(encoding="utf-8")
        tables.append(list(csv.DictReader(io.StringIO(text))))
    return tables[0], tables[1]


def nearest_conductor(r_ohm_per_km: float) -> tuple[str, float]:
    """The ACSR conductor whose resistance per km is nearest (in log scale), and its ampacity."""
    gaps = [abs(math.log(r / r_ohm_per_km)) for _, r, _ in ACSR_CONDUCTORS]
    name, _, ampacity = ACSR_CONDUCTORS[int(np.argmin(gaps))]
    return name, ampacity


def partition_tree(graph: nx.Graph, root: int, n_parts: int) -> list[list[int]]:
    """Cut the tree below ``root`` into ``n_parts`` connected parts of near-equal size.

    Repeatedly, with ``m`` buses and ``k`` parts still to make, cut off the subtree
    whose size is nearest to ``m / k`` (ties: the smaller subtree root id) among the
    subtrees that leave at least 2 buses on both sides, until one part is left (the
    part that touches ``root``). Parts are returned ordered by their root's id, each
    as a sorted list whose first element is its root (the bus nearest ``root``).

    Raises:
        ParameterError: (key ``n_areas``) no cut leaves every part at least 2 buses.
    """
    below = {n: sorted(c) for n, c in nx.bfs_successors(graph, root, sort_neighbors=sorted)}
    tops = below.get(root, [])
    remaining = {n for n in graph.nodes if n != root}
    parts: list[list[int]] = []
    for k in range(n_parts, 1, -1):
        sizes = _subtree_sizes(below, tops, remaining)
        target = len(remaining) / k
        candidates = [
            (abs(size - target), node)
            for node, size in sizes.items()
            if node not in tops and size >= 2 and len(remaining) - size >= 2 * (k - 1)
        ]
        if not candidates:
            raise ParameterError("n_areas", f"at most {n_parts - k + 1} for this feeder", n_parts)
        _, cut = min(candidates)
        part = _subtree(below, cut, remaining)
        parts.append(part)
        remaining -= set(part)
    parts.append(sorted(remaining, key=lambda n: (n not in tops, n)))
    for part in parts:
        head = part[0]
        part[:] = [head] + sorted(n for n in part if n != head)
    if any(len(part) < 2 for part in parts):
        raise ParameterError("n_areas", "small enough that every area has 2 buses", n_parts)
    return sorted(parts, key=lambda part: part[0])


def _subtree_sizes(below: dict, tops: list[int], remaining: set[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}

    def size(node: int) -> int:
        total = 1 + sum(size(c) for c in below.get(node, []) if c in remaining)
        sizes[node] = total
        return total

    for top in tops:
        if top in remaining:
            size(top)
    return sizes


def _subtree(below: dict, head: int, remaining: set[int]) -> list[int]:
    nodes, stack = [], [head]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(c for c in below.get(node, []) if c in remaining)
    return [head] + sorted(n for n in nodes if n != head)


def tree_layout(graph: nx.Graph, root: int) -> dict[int, tuple[float, float]]:
    """Tidy tree drawing coordinates: leaves 1 apart, parents centred, levels 1 apart.

    The root sits at ``(0, 0)``; depth grows downwards (negative ``y``).
    """
    children = {n: sorted(c) for n, c in nx.bfs_successors(graph, root, sort_neighbors=sorted)}
    x: dict[int, float] = {}
    y: dict[int, float] = {}
    next_leaf = 0.0

    def place(node: int, depth: int) -> None:
        nonlocal next_leaf
        y[node] = -float(depth)
        kids = children.get(node, [])
        if not kids:
            x[node] = next_leaf
            next_leaf += 1.0
            return
        for kid in kids:
            place(kid, depth + 1)
        x[node] = (x[kids[0]] + x[kids[-1]]) / 2.0

    place(root, 0)
    shift = x[root]
    return {node: (x[node] - shift, y[node]) for node in graph.nodes}
