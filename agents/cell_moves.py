"""Move many Mesa cell agents at once, in time linear in the cells' occupancy.

Mesa 3's :meth:`mesa.discrete_space.CellAgent.move_to` removes the agent from its old
cell with ``list.remove``, which scans the cell's agent list. A station area's EVs
share a few dozen buses, so moving every EV that plugs in or out one by one costs
O(moved x agents per bus): at 1e5 households (50,000 EVs per area on 20 buses) it
took 13.6 % of a day (docs/performance.md) and grew with the square of the
population. :func:`move_agents` removes all the movers of a cell in one pass over
that cell's list and appends them to their new cells, so a step costs O(agents in the
cells touched).

It writes the two attributes :meth:`move_to` writes (the cell's agent list and the
agent's cell), keeps every cell's remaining agents in their order and appends arrivals
in the order given, so that the result equals calling ``move_to`` for each agent in
turn (``tests/agents/test_cell_moves.py`` checks exactly that against Mesa itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Below this many movers the one-by-one ``move_to`` is as fast and needs no internals.
BATCH_FROM = 16


def move_agents(agents: Sequence[Any], cells: Sequence[Any]) -> None:
    """Move ``agents[i]`` to ``cells[i]`` for every ``i``, like ``move_to`` in turn.

    Args:
        agents: Mesa cell agents (each appears at most once).
        cells: Their destination cells, same length.

    Raises:
        ValueError: If the lengths differ, an agent is listed twice, or a destination
            cell has a capacity (Mesa's capacity check is not reproduced here).
    """
    if len(agents) != len(cells):
        raise ValueError(f"agents and cells differ in length ({len(agents)} vs {len(cells)})")
    if len(agents) < BATCH_FROM:
        for agent, cell in zip(agents, cells, strict=True):
            agent.move_to(cell)
        return
    movers = {id(agent) for agent in agents}
    if len(movers) != len(agents):
        raise ValueError("an agent is listed twice")
    leaving: dict[int, Any] = {}
    for agent in agents:
        old = agent.cell
        if old is not None:
            leaving[id(old)] = old
    for old in leaving.values():
        old._agents = [a for a in old._agents if id(a) not in movers]
        old.empty = not old._agents
    for agent, cell in zip(agents, cells, strict=True):
        if cell.capacity:
            raise ValueError("move_agents does not support cells with a capacity")
        agent._mesa_cell = cell
        cell._agents.append(agent)
        cell.empty = False
