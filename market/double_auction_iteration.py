"""The iterative double auction of seed 001, ch. 4 (Algorithms 7-8) and its payments.

Rounds (Algorithm 8): the auctioneer solves OAP with the current bids
(:mod:`market.double_auction_oap`); each EV answers with the bid of its
energy-buying problem EBP, each SP with the bid of its energy-selling problem
ESP; the loop stops when the relative change of the EV bids (RCB) and of the
SP bids (RCS) are both below ``xi``.  Both are relative L1 changes; RCS
weighs each SP's bid by its generation (an idle SP's bid no longer affects
anything).

Reconstructed updates (the thesis' Eqs. 4.12, 4.14 and 4.20 lost symbols).
The auctioneer announces, with the allocation, the SPs' clearing prices
``y_j``; an EV pays ``pi_i``, the average of ``y_j / rho`` over its SPs:

* EBP, Eq. 4.18 at the EV's optimum: the EV's best total at price ``pi_i``
  solves ``dU_i/dE = pi_i``, ``E*_i = (eta w_i / pi_i + e_min - 1) / eta``
  within its bounds; it scales its current allocation to ``E*_i`` and bids
  ``b_ij = e*_ij * dU_i/dE (E*_i)`` -- the Eq. 4.18 form, evaluated where the
  EV wants to be rather than where it was put (bidding the marginal value of
  the old allocation oscillates without end when ``e_min`` is large).
* ESP (reconstructed Eq. 4.20): the SP's best supply at price ``y_j`` solves
  ``dL_j/dS = 2 c1 S + c2 = y_j``; it bids ``p_j = (2 c1 S*_j + c2) / S*_j`` so
  that the auctioneer's surrogate marginal cost ``p_j S`` equals its true
  marginal cost at ``S*_j``.  With a cost of the SP's total supply the bid
  is the same towards every EV.

Each round moves the bids to these best responses.  When a round's change
exceeds the previous one (a cobweb, seen when supply is rationed), later
rounds move only part of the way, geometrically (step halved each time,
down to 1/64); a fixed point is the same either way.

At a fixed point the OAP optimality conditions coincide with those of SWM
(Eqs. 4.6-4.7), so the allocation maximises social welfare (derivation in
``docs/markets.md``).

Payments (Eqs. 4.15-4.16, completed): every EV pays each SP's clearing price
``y_j / rho`` per kWh delivered -- at the fixed point this is Eq. 4.15's sum
of its bids net of its own box multiplier, ``sum_j b_ij - nu_i E_i``, so an
EV at its maximum is not charged its (higher) marginal utility and one held
at its minimum pays the cost of that energy.  Every SP receives its marginal
cost per kWh generated, ``(2 c1 S_j + c2) S_j`` (Eq. 4.16 reconstructed; the
thesis' ``p**2 / (4 c1)`` is the SP's profit at price ``p`` when ``c2 = 0``).
Then each SP earns ``c1 S_j**2 >= 0`` (IR), an EV's energy beyond its
mandatory minimum costs it no more than it is worth (IR, by concavity of
``U``), and the auctioneer keeps the SPs' capacity rents, ``>= 0`` (WBB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.double_auction_model import (
    DoubleAuctionInstance,
    generation_kwh,
    marginal_cost,
    marginal_utility,
    sp_cost,
    utility,
    welfare,
)
from market.double_auction_oap import OapSolution, feasible_min_scale
from market.double_auction_oap import solve_oap as _solve_oap

_TINY = 1e-12


@dataclass(frozen=True, eq=False)
class DoubleAuctionOutcome:
    """Result of the iterative double auction on one instance.

    Attributes:
        allocation_kwh: ``(I, J)`` delivered energy ``e_ij``.
        bids: ``(I, J)`` final EV bids ``b_ij`` (coins).
        asks: ``(J,)`` final SP bids ``p_j`` (coins/kWh^2 generated).
        sp_price: ``(J,)`` clearing prices ``y_j`` (coins per kWh generated).
        pair_price: ``(I, J)`` what the EV pays per kWh delivered on each pair.
        ev_payment: ``(I,)`` coins each EV pays.
        ev_mandatory_payment: ``(I,)`` the share of ``ev_payment`` for its
            mandatory energy ``e_min / eta`` (pro rata).
        sp_reward: ``(J,)`` coins each SP receives.
        auctioneer_surplus: ``sum(ev_payment) - sum(sp_reward)`` (coins).
        welfare: Social welfare of the allocation (Eq. 4.3).
        iterations: OAP rounds until ``RCB < xi`` and ``RCS < xi``.
        converged: Whether the stopping rule was met within the round limit.
        min_scale: Factor applied to every ``e_min`` to make the instance
            feasible (1 when it already was).
    """

    allocation_kwh: np.ndarray
    bids: np.ndarray
    asks: np.ndarray
    sp_price: np.ndarray
    pair_price: np.ndarray
    ev_payment: np.ndarray
    ev_mandatory_payment: np.ndarray
    sp_reward: np.ndarray
    auctioneer_surplus: float
    welfare: float
    iterations: int
    converged: bool
    min_scale: float


def feasible_instance(inst: DoubleAuctionInstance) -> tuple[DoubleAuctionInstance, float]:
    """Scale every ``e_min`` by a common factor so that the constraints can hold.

    Returns the (possibly) relaxed instance and the factor (1 when feasible).
    EVs without any eligible SP get ``e_min = 0``.
    """
    reachable = inst.eligible.any(axis=1)
    e_min = np.where(reachable, inst.e_min_kwh, 0.0)
    lo = e_min / inst.eta
    t = feasible_min_scale(lo, inst.max_delivery_kwh, inst.capacity_delivered_kwh, inst.eligible)
    # Keep a sliver of room when the minima exhaust the supply, so the
    # auctioneer's problem keeps an interior and its prices stay finite.
    scale = 1.0 if t >= 1.0 + 1e-6 else min(1.0, t) * (1.0 - 1e-6)
    if scale == 1.0 and np.array_equal(e_min, inst.e_min_kwh):
        return inst, 1.0
    relaxed = DoubleAuctionInstance(
        weight=inst.weight,
        e_min_kwh=e_min * scale,
        e_max_kwh=inst.e_max_kwh,
        supply_max_kwh=inst.supply_max_kwh,
        c1=inst.c1,
        c2=inst.c2,
        eta=inst.eta,
        rho=inst.rho,
        eligible=inst.eligible,
    )
    return relaxed, scale


def solve_oap(
    inst: DoubleAuctionInstance,
    bids: np.ndarray,
    asks: np.ndarray,
    start: np.ndarray | None = None,
) -> OapSolution:
    """The auctioneer's allocation for the given bids (OAP, Eq. 4.10 with Eq. 4.4)."""
    return _solve_oap(
        np.where(inst.eligible, bids, 0.0),
        asks,
        inst.min_delivery_kwh,
        inst.max_delivery_kwh,
        inst.supply_max_kwh,
        inst.rho,
        start,
    )


def ev_demand(inst: DoubleAuctionInstance, unit_price: np.ndarray) -> np.ndarray:
    """Each EV's best delivery ``E*`` at a price per kWh delivered: ``dU/dE = price``, in bounds."""
    with np.errstate(divide="ignore"):
        best = (
            inst.eta * inst.weight / np.maximum(unit_price, _TINY) + inst.e_min_kwh - 1.0
        ) / inst.eta
    return np.clip(best, inst.min_delivery_kwh, inst.max_delivery_kwh)


def ev_bids(inst: DoubleAuctionInstance, solution: OapSolution) -> np.ndarray:
    """EBP: Eq. 4.18 bids ``b_ij = e*_ij * dU_i/dE (E*_i)`` at the announced prices."""
    e = solution.allocation
    received = e.sum(axis=1)
    unit = solution.price / inst.rho
    paid = (e * unit[None, :]).sum(axis=1)
    cheapest = np.where(inst.eligible, unit[None, :], np.inf).min(axis=1, initial=np.inf)
    pi = np.where(received > _TINY, paid / np.maximum(received, _TINY), cheapest)
    target = ev_demand(inst, pi)
    scale = np.where(received > _TINY, target / np.maximum(received, _TINY), 1.0)
    return e * scale[:, None] * marginal_utility(inst, target)[:, None]


def sp_asks(inst: DoubleAuctionInstance, price: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """ESP: ``p_j = (2 c1 S* + c2) / S*`` where ``2 c1 S* + c2 = y_j`` (reconstructed Eq. 4.20).

    An SP priced below its marginal cost at zero output keeps its previous bid.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.where(inst.c1 > 0, (price - inst.c2) / (2.0 * inst.c1), inst.supply_max_kwh)
    best = np.clip(best, 0.0, inst.supply_max_kwh)
    with np.errstate(divide="ignore", invalid="ignore"):
        ask = (2.0 * inst.c1 * best + inst.c2) / best
    return np.where((best > _TINY) & np.isfinite(ask), ask, previous)


def _relative_change(new: np.ndarray, old: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Relative L1 change ``sum |new - old| w / sum |old| w`` (``w = 1`` by default)."""
    w = np.ones_like(old) if weight is None else weight
    denom = float((np.abs(old) * w).sum())
    change = float((np.abs(new - old) * w).sum())
    return change / denom if denom > 0 else float(change > 0)


def settle(
    inst: DoubleAuctionInstance, allocation: np.ndarray, sp_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Payments of the converged auction (see the module docstring).

    Returns:
        ``pair_price`` (coins per kWh delivered, ``(I, J)``), ``ev_payment``
        ``(I,)``, its mandatory share ``(I,)`` and ``sp_reward`` ``(J,)``.
    """
    e = np.asarray(allocation, dtype=np.float64)
    # Never below the SP's marginal cost: keeps every SP whole despite the
    # rounding of the dual optimum.
    unit = np.maximum(sp_price, marginal_cost(inst, e)) / inst.rho
    price = np.where(e > 0, unit[None, :], 0.0)
    ev_payment = (price * e).sum(axis=1)
    received = e.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(received > 0, np.minimum(inst.min_delivery_kwh / received, 1.0), 0.0)
    sp_reward = marginal_cost(inst, e) * generation_kwh(inst, e)
    return price, ev_payment, share * ev_payment, sp_reward


def run_double_auction(
    inst: DoubleAuctionInstance,
    initial_bids: np.ndarray,
    initial_asks: np.ndarray,
    *,
    xi: float = 1e-3,
    max_iterations: int = 200,
) -> DoubleAuctionOutcome:
    """Run Algorithm 8 from the given initial bids until ``RCB, RCS < xi``.

    Args:
        inst: The market (see :class:`DoubleAuctionInstance`).
        initial_bids: ``(I, J)`` EV bids ``b_ij^(0) > 0`` (coins).
        initial_asks: ``(J,)`` SP bids ``p_j^(0) > 0``.
        xi: Convergence threshold on the relative L1 change of bids and asks.
        max_iterations: Round limit.

    Returns:
        The outcome; ``converged`` is False when the round limit was hit.
    """
    work, scale = feasible_instance(inst)
    bids = np.where(work.eligible, np.maximum(np.asarray(initial_bids, float), _TINY), 0.0)
    asks = np.maximum(np.asarray(initial_asks, float), _TINY)
    solution = OapSolution(np.zeros_like(bids), np.zeros(work.n_sp), np.zeros(work.n_ev))
    converged, rounds, prices = False, 0, None
    step, previous_change = 1.0, np.inf
    for rounds in range(1, max_iterations + 1):  # noqa: B007 (rounds is reported)
        solution = solve_oap(work, bids, asks, prices)
        prices = solution.price
        best_bids = np.where(work.eligible, np.maximum(ev_bids(work, solution), _TINY), 0.0)
        best_asks = sp_asks(work, solution.price, asks)
        change = max(_relative_change(best_bids, bids), _relative_change(best_asks, asks))
        if change > previous_change:  # a cobweb: halve the step (rationed, capacity-bound markets)
            step = max(step / 2.0, 1.0 / 64.0)
        previous_change = change
        new_bids = np.where(work.eligible, bids ** (1.0 - step) * best_bids**step, 0.0)
        new_asks = asks ** (1.0 - step) * best_asks**step
        rcb = _relative_change(new_bids, bids)
        rcs = _relative_change(new_asks, asks, weight=generation_kwh(work, solution.allocation))
        bids, asks = new_bids, new_asks
        if rcb < xi and rcs < xi:
            converged = True
            break
    allocation = solution.allocation
    price, pay, mandatory_pay, reward = settle(work, allocation, solution.price)
    return DoubleAuctionOutcome(
        allocation_kwh=allocation,
        bids=bids,
        asks=asks,
        sp_price=solution.price,
        pair_price=price,
        ev_payment=pay,
        ev_mandatory_payment=mandatory_pay,
        sp_reward=reward,
        auctioneer_surplus=float(pay.sum() - reward.sum()),
        welfare=welfare(work, allocation),
        iterations=rounds,
        converged=converged,
        min_scale=scale,
    )


def ev_payoff(
    inst: DoubleAuctionInstance, allocation: np.ndarray, payment: np.ndarray
) -> np.ndarray:
    """``U_i(E_i) - payment_i`` per EV."""
    return utility(inst, allocation.sum(axis=1)) - payment


def sp_profit(
    inst: DoubleAuctionInstance, allocation: np.ndarray, reward: np.ndarray
) -> np.ndarray:
    """``reward_j - L_j`` per SP."""
    return reward - sp_cost(inst, allocation)
