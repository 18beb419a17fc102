"""What a clearing tells the agents besides trades: state updates and money transfers.

Mechanisms return per-order outputs (``ClearingResult.order_columns``); this module
turns them into per-agent updates of the areas' :class:`agents.state.MarketState`
(:class:`MarketFeedback`) and into coin transfers that are not payments for energy
(:class:`Transfers`), for the local clearing inside an area and for the cross-area
clearing on the driver alike.

- ``credit_after`` (two_level, seed 002 §5.2.4): the change against the order's
  ``credit`` column, summed per agent; ``cut_off`` (``Punish``) sticks.
- ``reputation_after`` (local_re, seed 003): the change against the order's
  ``reputation`` column; one feedback per producer and clearing (the change of
  largest size among its orders), clipped to [0, 1] when applied.
- ``incentive_points`` (two_level, seed 002 §3.3): summed per agent.
- ``penalty_coins`` (two_level lower level: unplanned load at ``beta * p_m``) is paid
  by the order's owner to the grid operator, transaction kind ``market_penalty``.
- ``incentive_coins`` (local_re Eq. 25: ``C_d - C_REG`` per kWh) is paid by the grid
  operator to the renewable producer, kind ``market_incentive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market import ClearingResult, OrderBook

PENALTY_KIND = "market_penalty"
INCENTIVE_KIND = "market_incentive"
TRANSFER_KINDS = (PENALTY_KIND, INCENTIVE_KIND)
MICRO = 1_000_000


@dataclass(frozen=True, eq=False)
class MarketFeedback:
    """Per-agent market-state changes of one clearing (agents ascending, unique).

    Attributes:
        agent: Global agent ids.
        credit_delta: Change of credit.
        reputation_delta: Change of reputation.
        cut_off: Whether ``Punish`` cut the agent off.
        incentive_points: Power incentive points earned.
    """

    agent: np.ndarray
    credit_delta: np.ndarray
    reputation_delta: np.ndarray
    cut_off: np.ndarray
    incentive_points: np.ndarray

    @classmethod
    def empty(cls) -> MarketFeedback:
        """No changes."""
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), z, z, np.zeros(0, bool), z)

    def __len__(self) -> int:
        return len(self.agent)

    def take(self, mask: np.ndarray) -> MarketFeedback:
        """The changes of the selected agents."""
        return MarketFeedback(
            self.agent[mask],
            self.credit_delta[mask],
            self.reputation_delta[mask],
            self.cut_off[mask],
            self.incentive_points[mask],
        )


@dataclass(frozen=True, eq=False)
class Transfers:
    """Coin transfers that are not payments for energy (one row each).

    Attributes:
        payer: Global id of the paying agent (0 = the grid operator).
        payee: Global id of the receiving agent.
        amount_micro: Amount in micro-coins (> 0).
        kind: Transaction kind of each transfer.
    """

    payer: np.ndarray
    payee: np.ndarray
    amount_micro: np.ndarray
    kind: np.ndarray

    @classmethod
    def empty(cls) -> Transfers:
        """No transfers."""
        z = np.zeros(0, np.int64)
        return cls(z, z, z, np.zeros(0, dtype=object))

    @classmethod
    def concat(cls, parts: Sequence[Transfers]) -> Transfers:
        """Rows of ``parts[0]``, then ``parts[1]``, ..."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.payer for p in parts]).astype(np.int64),
            np.concatenate([p.payee for p in parts]).astype(np.int64),
            np.concatenate([p.amount_micro for p in parts]).astype(np.int64),
            np.concatenate([p.kind for p in parts]).astype(object),
        )

    def __len__(self) -> int:
        return len(self.payer)


def _per_agent_sum(agent: np.ndarray, values: np.ndarray, agents: np.ndarray) -> np.ndarray:
    out = np.zeros(len(agents))
    np.add.at(out, np.searchsorted(agents, agent), values)
    return out


def feedback_of(book: OrderBook, result: ClearingResult) -> MarketFeedback:
    """Per-agent state changes of ``result`` (a clearing of ``book``)."""
    cols = result.order_columns
    if not len(book) or not any(
        name in cols for name in ("credit_after", "reputation_after", "incentive_points", "cut_off")
    ):
        return MarketFeedback.empty()
    agents = np.unique(book.agent)
    n = len(agents)
    credit = np.zeros(n)
    if "credit_after" in cols and book.has("credit"):
        credit = _per_agent_sum(book.agent, cols["credit_after"] - book.extra["credit"], agents)
    reputation = np.zeros(n)
    if "reputation_after" in cols and book.has("reputation"):
        change = cols["reputation_after"] - book.extra["reputation"]
        # One feedback per producer: the change of largest size among its orders.
        order = np.lexsort((-np.abs(change), book.agent))
        first = np.r_[True, np.diff(book.agent[order]) != 0]
        reputation[np.searchsorted(agents, book.agent[order][first])] = change[order][first]
    cut = np.zeros(n, dtype=bool)
    if "cut_off" in cols:
        np.logical_or.at(cut, np.searchsorted(agents, book.agent), cols["cut_off"].astype(bool))
    points = np.zeros(n)
    if "incentive_points" in cols:
        points = _per_agent_sum(book.agent, cols["incentive_points"], agents)
    keep = (credit != 0) | (reputation != 0) | cut | (points != 0)
    return MarketFeedback(agents, credit, reputation, cut, points).take(keep)


def transfers_of(book: OrderBook, result: ClearingResult, grid_operator: int) -> Transfers:
    """Penalties (agent -> grid operator) and incentives (grid operator -> agent).

    One transfer per agent and kind, agents ascending, amounts rounded to micro-coins.
    """
    parts = []
    for column, kind, agent_pays in (
        ("penalty_coins", PENALTY_KIND, True),
        ("incentive_coins", INCENTIVE_KIND, False),
    ):
        if column not in result.order_columns or not len(book):
            continue
        agents = np.unique(book.agent)
        coins = _per_agent_sum(book.agent, result.order_columns[column], agents)
        micro = np.rint(coins * MICRO).astype(np.int64)
        pay = micro > 0
        grid = np.full(int(pay.sum()), grid_operator, dtype=np.int64)
        payer, payee = (agents[pay], grid) if agent_pays else (grid, agents[pay])
        parts.append(Transfers(payer, payee, micro[pay], np.full(len(grid), kind, dtype=object)))
    return Transfers.concat(parts)


def apply_feedback(state, feedback: MarketFeedback, id_offset: int) -> None:
    """Apply ``feedback`` to an area's :class:`agents.state.MarketState` (rows = id - offset).

    Agents of other areas (ids outside the area's range) are ignored.
    """
    rows = feedback.agent - id_offset
    mine = (rows >= 0) & (rows < len(state.credit))
    rows = rows[mine]
    np.add.at(state.credit, rows, feedback.credit_delta[mine])
    np.add.at(state.reputation, rows, feedback.reputation_delta[mine])
    np.clip(state.reputation, 0.0, 1.0, out=state.reputation)
    state.cut_off[rows] |= feedback.cut_off[mine]
    np.add.at(state.incentive_points, rows, feedback.incentive_points[mine])
