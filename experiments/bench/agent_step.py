"""Scenario 1: one step of agent physics and bidding, vectorised vs per-agent Mesa path.

Two models are built from the real config on the same population (one large station
area, order signing off so that only physics and bidding are measured), one with
``simulation.agent_path=vectorized`` and one with ``per_agent``. Both first run whole
:meth:`Area.decide <agents.area.Area.decide>` calls on the same steps (night, morning
departures, midday PV, evening arrivals), which must give identical orders, trades and
energy totals; those calls are timed too (physics + bidding + local clearing). Then
the physics of one step is timed on its own: ``Area.act_households`` and
``Area.act_evs`` over all rows for the vectorised path, and every household's and
EV's Mesa ``step()`` (``AgentSet.shuffle_do``) for the per-agent path, exactly the
two branches of ``Area.decide``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from agents.kinds import ElectricVehicle, Prosumer
from experiments.bench.common import best_of, make_config
from experiments.build import build

#: Steps of the day checked for equal results: 00:00, 08:30, 12:00, 18:00 (15-min steps).
CHECK_STEPS = (0, 34, 48, 72)


def _columns_equal(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> bool:
    return left.keys() == right.keys() and all(
        np.array_equal(left[name], right[name]) for name in left
    )


def same_decision(left, right) -> bool:
    """Whether two ``AreaDecision`` records hold the same orders, trades and totals."""
    return (
        left.orders == right.orders
        and _columns_equal(left.residual.columns(), right.residual.columns())
        and _columns_equal(left.local_trades.to_columns(), right.local_trades.to_columns())
        and left.energy_kwh == right.energy_kwh
    )


def _per_agent_physics(area) -> None:
    world = area.world
    for kind in (Prosumer, ElectricVehicle):
        if kind in world.agent_types:
            world.agents_by_type[kind].shuffle_do("step")


def _vectorized_physics(area) -> None:
    area.act_households(slice(None))
    area.act_evs(slice(None))


def bench_agent_step(households: int, repeats: int = 5, seed: int = 42) -> dict[str, Any]:
    """Agent-steps per second of both paths on one area of ``households`` households.

    Args:
        households: Households in the area (EVs follow the default population ratios).
        repeats: Timed repetitions of the physics step (the fastest is kept); the
            per-agent path gets ``max(1, repeats // 3)``.
        seed: Run seed of both models.

    Returns:
        Figures: ``vectorized_agent_steps_per_s``, ``per_agent_agent_steps_per_s``,
        their ratio, the decide-level rates, the population and ``same_orders``.
    """
    overrides = (
        f"population.size={households}",
        "grid.n_areas=1",
        "simulation.sign_orders=false",
        "output.agents_sample=0",
        "output.progress=false",
        f"seed={seed}",
    )
    start = time.perf_counter()
    areas = {
        path: build(make_config(*overrides, f"simulation.agent_path={path}")).runtime.local_areas()[
            0
        ]
        for path in ("vectorized", "per_agent")
    }
    build_s = time.perf_counter() - start
    vec, per = areas["vectorized"], areas["per_agent"]
    agents = vec.counts.households + vec.counts.evs
    decide_s = {"vectorized": 0.0, "per_agent": 0.0}
    same = True
    for step in CHECK_STEPS:
        decisions = {}
        for path, area in areas.items():
            begin = time.perf_counter()
            decisions[path] = area.decide(step)
            decide_s[path] += time.perf_counter() - begin
        same = same and same_decision(decisions["vectorized"], decisions["per_agent"])
    # Both areas now sit at the last checked step; re-running its physics is the same
    # work every time (the batteries keep moving, the EVs stay where they are).
    vec_s = best_of(repeats, lambda: _vectorized_physics(vec))
    per_s = best_of(max(1, repeats // 3), lambda: _per_agent_physics(per))
    vec_rate, per_rate = agents / vec_s, agents / per_s
    return {
        "households": vec.counts.households,
        "evs": vec.counts.evs,
        "agents": agents,
        "same_orders": bool(same),
        "checked_steps": list(CHECK_STEPS),
        "build_s": build_s,
        "vectorized_step_s": vec_s,
        "per_agent_step_s": per_s,
        "vectorized_agent_steps_per_s": vec_rate,
        "per_agent_agent_steps_per_s": per_rate,
        "vectorized_over_per_agent": vec_rate / per_rate,
        "vectorized_decide_agent_steps_per_s": agents * len(CHECK_STEPS) / decide_s["vectorized"],
        "per_agent_decide_agent_steps_per_s": agents * len(CHECK_STEPS) / decide_s["per_agent"],
    }
