"""A radial feeder as arrays: the common input of every power-flow engine.

A feeder graph (``agents.topology`` / ``agents.feeders``) becomes a
:class:`FeederNetwork`: buses in ascending node order, the substation as the root,
and for every other bus the line that feeds it from its parent. Radial feeders have
exactly one such line per non-root bus, so branch data are indexed by the bus they
feed ("receiving bus"): ``r_pu[j]`` is the resistance of the line into bus ``j``
(zero for the root). Values are per unit on ``base_mva`` and ``base_kv``
(impedance base ``base_kv**2 / base_mva`` ohm, current base
``base_mva / (sqrt(3) * base_kv)`` kA).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np


class FeederError(ValueError):
    """The graph is not a radial feeder the power-flow engines can solve."""


@dataclass(frozen=True, eq=False)
class FeederNetwork:
    """Array form of a radial feeder rooted at its substation.

    Attributes:
        nodes: Graph node id of each bus index (ascending).
        root: Bus index of the substation (slack bus).
        parent: Parent bus index of every bus (-1 for the root).
        depth: Number of lines between each bus and the root.
        levels: Bus indices grouped by depth, deepest last (``levels[0]`` is the root).
        r_pu: Resistance of the line feeding each bus (0 at the root).
        x_pu: Reactance of the line feeding each bus (0 at the root).
        length_km: Length of the line feeding each bus (0 at the root).
        ampacity_a: Thermal rating of the line feeding each bus in amperes
            (``inf`` at the root and where the graph gives no rating).
        base_kv: Line-to-line base voltage.
        base_mva: Three-phase power base.
        branch_to: Receiving bus index of each line, in breadth-first order.
        branch_from: Sending bus index of each line (``parent[branch_to]``).
    """

    nodes: np.ndarray
    root: int
    parent: np.ndarray
    depth: np.ndarray
    levels: tuple[np.ndarray, ...]
    r_pu: np.ndarray
    x_pu: np.ndarray
    length_km: np.ndarray
    ampacity_a: np.ndarray
    base_kv: float
    base_mva: float
    branch_to: np.ndarray
    branch_from: np.ndarray

    @property
    def n_bus(self) -> int:
        """Number of buses, the root included."""
        return len(self.nodes)

    @property
    def n_branch(self) -> int:
        """Number of lines (``n_bus - 1`` for a tree)."""
        return len(self.branch_to)

    @property
    def impedance_base_ohm(self) -> float:
        """Ohms per unit of impedance."""
        return self.base_kv**2 / self.base_mva

    @property
    def current_base_a(self) -> float:
        """Amperes per unit of line current."""
        return self.base_mva / (math.sqrt(3.0) * self.base_kv) * 1000.0

    @classmethod
    def from_graph(
        cls,
        graph: nx.Graph,
        *,
        base_kv: float | None = None,
        base_mva: float | None = None,
        default_ampacity_a: float = math.inf,
    ) -> FeederNetwork:
        """Read a feeder graph.

        Per-unit impedances come from the edge attributes ``r_pu``/``x_pu`` when the
        graph carries them on the same base, else from ``r_ohm``/``x_ohm``. Ratings come
        from the edge attribute ``ampacity_a`` (else ``default_ampacity_a``).

        Args:
            graph: A tree with exactly one node of ``kind == "substation"``.
            base_kv: Base voltage; defaults to ``graph.graph["base_kv"]``.
            base_mva: Power base; defaults to ``graph.graph["base_mva"]``, else 1 MVA.
            default_ampacity_a: Rating of lines without an ``ampacity_a`` attribute.

        Raises:
            FeederError: The graph is not a tree, has no single substation, or lacks a
                base voltage.
        """
        if graph.number_of_nodes() == 0 or not nx.is_tree(graph):
            raise FeederError("graph must be a non-empty tree (a radial feeder)")
        roots = [n for n, d in graph.nodes(data=True) if d.get("kind") == "substation"]
        if len(roots) != 1:
            raise FeederError(f"graph must have exactly one substation (found {len(roots)})")
        graph_base_kv = graph.graph.get("base_kv")
        kv = float(base_kv if base_kv is not None else (graph_base_kv or 0.0))
        if not kv > 0:
            raise FeederError("base_kv must be given (argument or graph.graph['base_kv'])")
        graph_base_mva = graph.graph.get("base_mva", 1.0)
        mva = float(base_mva if base_mva is not None else graph_base_mva)
        if not mva > 0:
            raise FeederError(f"base_mva must be > 0 (got {mva})")
        same_base = kv == graph_base_kv and mva == graph_base_mva
        z_base = kv**2 / mva

        nodes = np.array(sorted(graph.nodes), dtype=np.int64)
        index = {int(node): i for i, node in enumerate(nodes)}
        n = len(nodes)
        root = index[int(roots[0])]
        parent = np.full(n, -1, dtype=np.int64)
        depth = np.zeros(n, dtype=np.int64)
        r_pu, x_pu = np.zeros(n), np.zeros(n)
        length_km = np.zeros(n)
        ampacity_a = np.full(n, math.inf)
        order = [root]
        # Breadth-first from the root, children in ascending node order (deterministic).
        for node_from, node_to in nx.bfs_edges(graph, roots[0], sort_neighbors=sorted):
            i, j = index[int(node_from)], index[int(node_to)]
            parent[j], depth[j] = i, depth[i] + 1
            data = graph.edges[node_from, node_to]
            if same_base and "r_pu" in data and "x_pu" in data:
                r_pu[j], x_pu[j] = float(data["r_pu"]), float(data["x_pu"])
            else:
                r_pu[j] = float(data["r_ohm"]) / z_base
                x_pu[j] = float(data["x_ohm"]) / z_base
            length_km[j] = float(data.get("length_km", 0.0))
            ampacity_a[j] = float(data.get("ampacity_a", default_ampacity_a))
            order.append(j)
        branch_to = np.array(order[1:], dtype=np.int64)
        levels = tuple(
            np.flatnonzero(depth == d).astype(np.int64) for d in range(int(depth.max()) + 1)
        )
        return cls(
            nodes=nodes,
            root=root,
            parent=parent,
            depth=depth,
            levels=levels,
            r_pu=r_pu,
            x_pu=x_pu,
            length_km=length_km,
            ampacity_a=ampacity_a,
            base_kv=kv,
            base_mva=mva,
            branch_to=branch_to,
            branch_from=parent[branch_to],
        )

    def bus_index(self, node_ids: np.ndarray | list[int]) -> np.ndarray:
        """Bus indices of graph node ids (raises ``KeyError`` for unknown nodes)."""
        node_ids = np.asarray(node_ids, dtype=np.int64)
        positions = np.searchsorted(self.nodes, node_ids)
        positions = np.clip(positions, 0, self.n_bus - 1)
        unknown = self.nodes[positions] != node_ids
        if unknown.any():
            raise KeyError(f"unknown bus node(s): {node_ids[unknown][:5].tolist()}")
        return positions

    def subtree_sum(self, per_bus: np.ndarray) -> np.ndarray:
        """Sum of ``per_bus`` over each bus's subtree (the bus itself included).

        Works level by level from the deepest buses up, so the cost is one vector
        operation per level of the tree. ``per_bus`` may have extra trailing
        dimensions (e.g. several snapshots as columns).
        """
        total = np.array(per_bus, dtype=float, copy=True)
        for level in reversed(self.levels[1:]):
            np.add.at(total, self.parent[level], total[level])
        return total

    def path_cumsum(self, per_bus: np.ndarray) -> np.ndarray:
        """Sum of ``per_bus`` along the path from the root to each bus (root value 0).

        ``per_bus[j]`` is read as a quantity of the line feeding ``j``.
        """
        per_bus = np.asarray(per_bus, dtype=float)
        total = np.zeros_like(per_bus)
        for level in self.levels[1:]:
            total[level] = total[self.parent[level]] + per_bus[level]
        return total
