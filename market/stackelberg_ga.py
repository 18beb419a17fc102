"""The leader's genetic algorithm of seed 001, §3.3.2 (Algorithms 3-6).

Chromosome: one gene per hour, each ``bits`` binary digits (10 in the
thesis: Eq. 3.20 with prices in [8, 14] cents at 0.01-cent resolution).  A
gene's value ``v`` decodes to ``p_min + v * resolution``; values above
``p_max`` are representable (1024 codes for 601 prices) and infeasible.

Fitness (Eq. 3.19, turned into maximisation): the leader's profit when the
chromosome is feasible, else ``-(K - s K / m)`` with ``m`` constraints
(``H`` price bounds and ``H`` capacity bounds), ``s`` of them satisfied and
``K = 1e9``.  Every infeasible chromosome thus ranks below every feasible
one, and among infeasible ones more satisfied constraints rank higher.

Each generation: tournament selection of size 2 (Algorithm 3), uniform
crossover of consecutive mates with per-bit swap rate ``R_c = 0.25``
(Algorithm 5), bit-flip mutation, and elitism (Algorithm 4: when the new
best is not better than the old best, the old best replaces the new worst).
Randomness comes from :class:`market.counter_rng.CounterRandom`, so a run is
a pure function of its inputs and ``seed``.  The run stops after
``max_generations`` or when the best fitness has not improved for
``patience`` generations; ``converged_generation`` is the generation of the
last improvement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from market.counter_rng import CounterRandom

PENALTY_K = 1e9
"""Constant ``K`` of the penalty fitness (seed 001, Eq. 3.19)."""


def gene_bits(p_min: float, p_max: float, resolution: float) -> int:
    """Bits per gene from Eq. 3.20: ``2**(L-1) <= (p_max - p_min) / resolution <= 2**L``."""
    levels = max(round((p_max - p_min) / resolution), 1)
    return max(math.ceil(math.log2(levels)), 1) if levels > 1 else 1


@dataclass(frozen=True)
class GAParameters:
    """Settings of the genetic algorithm (thesis values where it gives them).

    Attributes:
        population: Chromosomes per generation (not given in the thesis).
        max_generations: Generation limit (not given).
        patience: Generations without improvement that end the run (not given).
        crossover_rate: Per-bit swap probability of uniform crossover (0.25).
        mutation_rate: Per-bit flip probability (not given; default 1 / bits).
        tournament: Tournament size (2).
        seed: Seed of the counter-based random source.
    """

    population: int = 50
    max_generations: int = 200
    patience: int = 30
    crossover_rate: float = 0.25
    mutation_rate: float | None = None
    tournament: int = 2
    seed: int = 0


@dataclass(frozen=True, eq=False)
class GAResult:
    """Best prices found and how the search went.

    Attributes:
        prices: ``(H,)`` best feasible prices (cents/kWh), or the best
            infeasible ones when no feasible chromosome was found.
        fitness: Fitness of the best chromosome (its profit when feasible).
        feasible: Whether the best chromosome is feasible.
        generations: Generations run.
        converged_generation: Generation of the last improvement of the best.
        history: Best fitness after each generation.
    """

    prices: np.ndarray
    fitness: float
    feasible: bool
    generations: int
    converged_generation: int
    history: np.ndarray


def decode(chromosomes: np.ndarray, p_min: float, resolution: float) -> np.ndarray:
    """``(P, H, bits)`` bits (most significant first) to ``(P, H)`` prices."""
    bits = chromosomes.shape[-1]
    weights = 1 << np.arange(bits - 1, -1, -1)
    return p_min + (chromosomes.astype(np.int64) * weights).sum(axis=-1) * resolution


def penalised_fitness(
    profit: np.ndarray, price_ok: np.ndarray, capacity_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 3.19 as a maximisation: profit if feasible, else ``-(K - s K / m)``.

    Args:
        profit: ``(P,)`` leader profit of each chromosome.
        price_ok: ``(P, H)`` price-bound constraints satisfied.
        capacity_ok: ``(P, H)`` capacity constraints satisfied.

    Returns:
        Fitness ``(P,)`` and the feasibility mask ``(P,)``.
    """
    satisfied = price_ok.sum(axis=1) + capacity_ok.sum(axis=1)
    n_constraints = price_ok.shape[1] + capacity_ok.shape[1]
    feasible = satisfied == n_constraints
    penalty = -(PENALTY_K - satisfied * PENALTY_K / n_constraints)
    return np.where(feasible, profit, penalty), feasible


def run_ga(
    evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    n_hours: int,
    p_min: float,
    p_max: float,
    resolution: float,
    params: GAParameters,
) -> GAResult:
    """Maximise ``evaluate`` over hourly price vectors with the thesis' GA.

    Args:
        evaluate: Maps ``(P, H)`` prices to (fitness ``(P,)``, feasible ``(P,)``);
            see :func:`penalised_fitness`.
        n_hours: Genes per chromosome ``H``.
        p_min: Lowest price (gene value 0).
        p_max: Highest feasible price.
        resolution: Price step of one gene unit.
        params: GA settings.

    Returns:
        The best chromosome's prices and the search record.
    """
    if params.population < 2 or params.population % 2:
        raise ValueError(f"population must be an even integer >= 2 (got {params.population})")
    bits = gene_bits(p_min, p_max, resolution)
    n_bits = n_hours * bits
    mutation = params.mutation_rate if params.mutation_rate is not None else 1.0 / n_bits
    rng = CounterRandom(params.seed, stream=3302)
    pop = rng.integers(2, (params.population, n_hours, bits)).astype(np.int8)
    fit, feas = evaluate(decode(pop, p_min, resolution))
    best_i = int(np.argmax(fit))
    best, best_fit, best_feas = pop[best_i].copy(), float(fit[best_i]), bool(feas[best_i])
    history, last_gain, gen = [best_fit], 0, 0
    for gen in range(1, params.max_generations + 1):
        # Tournament selection (Algorithm 3): the better of t random picks.
        picks = rng.integers(params.population, (params.population, params.tournament))
        winners = picks[np.arange(params.population), np.argmax(fit[picks], axis=1)]
        mates = pop[winners].reshape(params.population // 2, 2, n_hours, bits)
        # Uniform crossover (Algorithm 5): swap each bit with probability R_c.
        swap = rng.random((params.population // 2, n_hours, bits)) <= params.crossover_rate
        first = np.where(swap, mates[:, 1], mates[:, 0])
        second = np.where(swap, mates[:, 0], mates[:, 1])
        children = np.stack([first, second], axis=1).reshape(pop.shape)
        # Bit-flip mutation.
        flips = rng.random(children.shape) < mutation
        pop = np.where(flips, 1 - children, children).astype(np.int8)
        fit, feas = evaluate(decode(pop, p_min, resolution))
        # Elitism (Algorithm 4).
        new_best = int(np.argmax(fit))
        if fit[new_best] <= best_fit:
            worst = int(np.argmin(fit))
            pop[worst], fit[worst], feas[worst] = best, best_fit, best_feas
        else:
            improved = fit[new_best] - best_fit > 1e-12 * max(1.0, abs(best_fit))
            best, best_fit, best_feas = (
                pop[new_best].copy(),
                float(fit[new_best]),
                bool(feas[new_best]),
            )
            if improved:
                last_gain = gen
        history.append(best_fit)
        if gen - last_gain >= params.patience:
            break
    prices = decode(best[None], p_min, resolution)[0]
    return GAResult(prices, best_fit, best_feas, gen, last_gain, np.array(history))
