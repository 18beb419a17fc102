"""Batched cell moves equal Mesa's one-by-one ``move_to`` (agent cells and cell lists)."""

from __future__ import annotations

import mesa
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mesa.discrete_space import CellAgent, Network

from agents.cell_moves import BATCH_FROM, move_agents


def _world(n_buses: int, n_agents: int, seed: int):
    model = mesa.Model(rng=seed)
    space = Network(nx.path_graph(n_buses), random=model.random)
    rng = np.random.default_rng(seed)
    homes = rng.integers(0, n_buses, n_agents)
    agents = []
    for home in homes.tolist():
        agent = CellAgent(model)
        agent.cell = space[home]
        agents.append(agent)
    return space, agents


def _layout(space, agents):
    index = {id(a): i for i, a in enumerate(agents)}
    cells = {c: [index[id(a)] for a in space[c].agents] for c in range(len(space.all_cells))}
    return (
        cells,
        [int(a.cell.coordinate) for a in agents],
        {c: getattr(space[c], "empty", None) for c in cells},
    )


@settings(max_examples=40, deadline=None)
@given(
    n_buses=st.integers(1, 6),
    n_agents=st.integers(0, 60),
    seed=st.integers(0, 10_000),
    share=st.floats(0.0, 1.0),
)
def test_batch_equals_move_to_in_turn(n_buses, n_agents, seed, share):
    rng = np.random.default_rng(seed + 1)
    movers = [int(i) for i in rng.permutation(n_agents)[: int(share * n_agents)]]
    targets = rng.integers(0, n_buses, len(movers)).tolist()
    space_a, agents_a = _world(n_buses, n_agents, seed)
    for i, t in zip(movers, targets, strict=True):
        agents_a[i].move_to(space_a[t])
    space_b, agents_b = _world(n_buses, n_agents, seed)
    move_agents([agents_b[i] for i in movers], [space_b[t] for t in targets])
    assert _layout(space_a, agents_a) == _layout(space_b, agents_b)


def test_large_batch_takes_the_batched_path_and_empties_cells():
    space, agents = _world(3, 3 * BATCH_FROM, seed=0)
    move_agents(agents, [space[2]] * len(agents))
    assert space[0].is_empty and space[1].is_empty and not space[2].is_empty
    assert space[0].empty and not space[2].empty
    assert [a.cell.coordinate for a in agents] == [2] * len(agents)
    assert len(space[2].agents) == len(agents)


def test_bad_arguments_are_refused():
    space, agents = _world(2, 2 * BATCH_FROM, seed=0)
    with pytest.raises(ValueError, match="length"):
        move_agents(agents, [space[0]])
    with pytest.raises(ValueError, match="twice"):
        move_agents(agents[:-1] + agents[:1], [space[0]] * len(agents))
