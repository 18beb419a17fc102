"""Cross-node selection by credit (seed 002 §4.3).

Each station area's users are served by its station-area nodes (the area
shard's validators; user ``i`` of an area by node ``i mod n``). Seed 002 picks
as cross-node "the station-area node with a stable upward trend in credit",
combining the total credit and the credit variance of the node's users; the
formula is not in the text, so we rebuild it as a lower confidence bound:

    score_k = sum_i c_i - n_k * std_i(c_i)  =  n_k * (mean - std)

over the ``n_k`` users of node ``k`` (high total, low spread wins; ties go to
the lowest node index). Cross-nodes are re-selected every ``reselect_every``
blocks of their shard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INITIAL_CREDIT = 100.0


def cross_node_scores(credit: np.ndarray, n_nodes: int) -> np.ndarray:
    """Score of every station-area node of one area.

    Args:
        credit: Credit of the area's users in area order.
        n_nodes: Number of station-area nodes (validators) of the area.

    Returns:
        ``n_nodes`` scores; a node without users scores ``-inf``.
    """
    credit = np.asarray(credit, dtype=float)
    node = np.arange(len(credit)) % n_nodes
    scores = np.full(n_nodes, -np.inf)
    for k in range(n_nodes):
        mine = credit[node == k]
        if len(mine):
            scores[k] = float(mine.sum() - len(mine) * mine.std())
    return scores


def select_cross_node(credit: np.ndarray, n_nodes: int) -> int:
    """The cross-node of one area: the best score, the lowest index on ties."""
    scores = cross_node_scores(credit, n_nodes)
    return int(np.flatnonzero(scores == scores.max())[0])


@dataclass(frozen=True)
class Selection:
    """One (re-)selection of an area's cross-node.

    Attributes:
        area: The station area.
        shard_height: Height of the area's shard when it was made.
        node: Index of the chosen validator in the shard.
    """

    area: int
    shard_height: int
    node: int


class CrossNodes:
    """The current cross-node of every area and the history of selections.

    Args:
        user_counts: Users (wallet holders) per area.
        n_nodes: Station-area nodes per area.
        reselect_every: Blocks of a shard between two selections.
    """

    def __init__(self, user_counts: list[int], n_nodes: int, reselect_every: int) -> None:
        self.n_nodes, self.reselect_every = n_nodes, reselect_every
        self.credit = [np.full(n, INITIAL_CREDIT) for n in user_counts]
        self.current = [select_cross_node(c, n_nodes) for c in self.credit]
        self.history = [Selection(a, 0, node) for a, node in enumerate(self.current)]
        self._last_height = [0] * len(user_counts)

    def set_credit(self, area: int, credit: np.ndarray) -> None:
        """Replace the credit figures of an area's users (used at the next selection)."""
        credit = np.asarray(credit, dtype=float)
        if credit.shape != self.credit[area].shape or not np.all(np.isfinite(credit)):
            raise ValueError(
                f"credit must hold {len(self.credit[area])} finite values for area {area}"
            )
        self.credit[area] = credit

    def on_height(self, area: int, height: int) -> None:
        """Re-select the area's cross-node if its shard passed a multiple of ``reselect_every``."""
        if height // self.reselect_every > self._last_height[area] // self.reselect_every:
            node = select_cross_node(self.credit[area], self.n_nodes)
            self.current[area] = node
            self.history.append(Selection(area, height, node))
        self._last_height[area] = height
