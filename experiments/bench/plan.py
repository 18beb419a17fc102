"""How big each scenario runs: ``--tiny`` (tests), ``--quick`` (2 minutes), full."""

from __future__ import annotations

from dataclasses import dataclass, field

from experiments.bench.common import DAY_STEPS, cores

#: Settlement window of the net-settlement days: 12 steps = 3 hours, 8 windows a day.
NET_PERIOD_STEPS = 12

#: Steps run by the full benchmark's day at each population (96 = a real day).
FULL_DAY_STEPS = {1_000: 96, 10_000: 96, 100_000: 8, 1_000_000: 4}


@dataclass(frozen=True)
class BenchPlan:
    """Sizes of every scenario.

    Attributes:
        name: "tiny", "quick" or "full".
        agent_step_households: Households in the one area of scenario 1.
        agent_step_repeats: Timed repetitions of the vectorised step (per-agent: a third).
        clearing_sizes: Order-book sizes of scenario 2.
        clearing_repeats: Timed repetitions per book up to 1e5 orders.
        clearing_budget_s: Deadline of one clearing call (slower mechanisms are skipped).
        chain_transactions: Payments per round in scenario 3.
        chain_repeats: Rounds in scenario 3.
        day_steps: Households -> steps actually run for scenario 4 (and 6).
        day_unsigned_orders_at: Populations whose day also runs with unsigned orders.
        net_settlement_days: Households -> ``settlement.period_steps`` of a whole 96-step
            day in net settlement mode with unsigned orders (the issue's "aggregate each
            agent's payments"; such days are never scaled from fewer steps, because
            their payments follow the settlement windows, not the steps).
        ray_households: Households of the Ray day (scenario 5).
        ray_steps: Steps of the Ray day.
        ray_workers: Worker counts of the Ray day (1 is the baseline).
    """

    name: str
    agent_step_households: int
    agent_step_repeats: int
    clearing_sizes: tuple[int, ...]
    clearing_repeats: int
    clearing_budget_s: float
    chain_transactions: int
    chain_repeats: int
    day_steps: dict[int, int]
    day_unsigned_orders_at: tuple[int, ...]
    ray_households: int
    ray_steps: int
    ray_workers: tuple[int, ...] = field(default=(1, 2))
    net_settlement_days: dict[int, int] = field(default_factory=dict)


def _workers() -> tuple[int, ...]:
    counts, n = [1], 2
    while n <= max(2, cores()):
        counts.append(n)
        n *= 2
    return tuple(counts)


TINY = BenchPlan(
    name="tiny",
    agent_step_households=400,
    agent_step_repeats=3,
    clearing_sizes=(1_000, 10_000),
    clearing_repeats=2,
    clearing_budget_s=0.3,
    chain_transactions=100,
    chain_repeats=2,
    day_steps={100: 2, 200: 2},
    day_unsigned_orders_at=(200,),
    ray_households=200,
    ray_steps=2,
    net_settlement_days={100: 48},
)

QUICK = BenchPlan(
    name="quick",
    agent_step_households=20_000,
    agent_step_repeats=6,
    clearing_sizes=(1_000, 10_000, 100_000, 1_000_000),
    clearing_repeats=3,
    clearing_budget_s=0.5,
    chain_transactions=2_000,
    chain_repeats=3,
    day_steps={1_000: 96, 10_000: 4},
    day_unsigned_orders_at=(1_000, 10_000),
    ray_households=10_000,
    ray_steps=2,
    net_settlement_days={10_000: NET_PERIOD_STEPS},
)


def full_plan(max_agents: int = 100_000, day_steps: int | None = None) -> BenchPlan:
    """The full benchmark up to ``max_agents`` households.

    Args:
        max_agents: Largest population (households) of the day and Ray scenarios.
        day_steps: Steps to run for populations above 1e4 (default: 8 at 1e5, 4 at 1e6).

    Raises:
        ValueError: If ``max_agents`` is below 1,000 or above 1,000,000, or ``day_steps``
            does not divide 96.
    """
    if not 1_000 <= max_agents <= 1_000_000:
        raise ValueError(f"max_agents must be between 1000 and 1000000 (got {max_agents})")
    if day_steps is not None and (day_steps < 1 or DAY_STEPS % day_steps):
        raise ValueError(f"day_steps must divide {DAY_STEPS} (got {day_steps})")
    steps = {
        n: (day_steps if day_steps and n > 10_000 else default)
        for n, default in FULL_DAY_STEPS.items()
        if n <= max_agents
    }
    return BenchPlan(
        name="full",
        agent_step_households=min(100_000, max_agents),
        agent_step_repeats=9,
        clearing_sizes=(1_000, 10_000, 100_000, 1_000_000),
        clearing_repeats=5,
        clearing_budget_s=10.0,
        chain_transactions=10_000,
        chain_repeats=5,
        day_steps=steps,
        day_unsigned_orders_at=tuple(n for n in steps if n <= 100_000),
        ray_households=min(100_000, max_agents),
        ray_steps=2,
        ray_workers=_workers(),
        net_settlement_days={n: NET_PERIOD_STEPS for n in steps if n >= 10_000},
    )
