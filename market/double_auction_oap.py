"""The auctioneer's optimal allocation problem (OAP) of seed 001, §4.4 (Eq. 4.10).

Given the EVs' bids ``b_ij`` and each service provider's bid ``p_j``, the
auctioneer solves, over the constraints of Eq. 4.4 (see
:mod:`market.double_auction_model`)::

    max  sum_ij b_ij ln e_ij  -  sum_j p_j / 2 * S_j**2,    S_j = sum_i e_ij / rho

The thesis prints the seller term as ``p_ji s_ji``; we use this quadratic
surrogate of the SP's cost, whose optimality condition ``p_j S_j = y_j``
(the SP's marginal price) makes the fixed point of the iteration solve SWM
(derivation in ``docs/markets.md``).

Method.  Dualise ``S_j >= sum_i e_ij / rho`` with a price ``y_j >= 0`` per SP
(coins per kWh generated).  For fixed ``y`` the problem splits:

* each EV maximises ``sum_j b_ij ln e_ij - y_j e_ij / rho`` over its box
  ``lo_i <= sum_j e_ij <= hi_i``: ``e_ij = b_ij / (y_j / rho + nu_i)``, where
  the box multiplier ``nu_i`` (0 when the box does not bind) is found by a
  safeguarded, vectorised Newton iteration on ``1 / sum_j e_ij``;
* each SP maximises ``y_j S_j - p_j S_j**2 / 2`` over ``[0, S_max]``:
  ``S_j = min(y_j / p_j, S_max)``.

The dual function is convex in ``y`` with gradient ``S_j(y) - sum_i
e_ij(y) / rho``.  It is minimised by a projected Newton method
(:func:`newton_dual`) with the exact Hessian: with ``q_ij = e_ij**2 / b_ij``
and ``Q_i = sum_j q_ij``,

    H = diag(dS_j/dy_j) + rho**-2 * sum_i [diag(q_i) - [box_i binds] q_i q_i^T / Q_i]

(``dS_j/dy_j = 1/p_j`` below capacity, else 0; the rank-one term is the EV's
box multiplier moving with ``y``).  A handful of steps from the previous
round's prices reach the tolerance; L-BFGS-B (scipy) is the fallback when
Newton stalls.  ``y_j`` is the SP's clearing price: its surrogate marginal
cost plus its capacity rent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, minimize


@dataclass(frozen=True, eq=False)
class OapSolution:
    """Allocation and prices of one OAP solve.

    Attributes:
        allocation: ``(I, J)`` delivered energy ``e_ij`` (kWh).
        price: ``(J,)`` SP prices ``y_j`` (coins per kWh generated).
        box_multiplier: ``(I,)`` ``nu_i``: > 0 when the EV's maximum binds,
            < 0 when its minimum binds, 0 otherwise (coins per kWh delivered).
    """

    allocation: np.ndarray
    price: np.ndarray
    box_multiplier: np.ndarray


def feasible_min_scale(
    lo: np.ndarray, hi: np.ndarray, cap: np.ndarray, eligible: np.ndarray
) -> float:
    """Largest ``t`` (capped at 2) such that every EV can get ``t * lo_i`` within the capacities.

    Complete eligibility reduces to comparing totals; otherwise a small
    max-flow linear program (scipy HiGHS) answers it.
    """
    need = float(lo.sum())
    if need <= 0.0:
        return 2.0
    rows = lo > 0
    if np.all(eligible[rows]) and np.all(hi >= lo):
        return min(2.0, float(cap.sum()) / need)
    n_ev, n_sp = eligible.shape
    pairs = np.argwhere(eligible)
    n_var = pairs.shape[0] + 1  # pair flows, then t
    c = np.zeros(n_var)
    c[-1] = -1.0
    a_ub, b_ub = [], []
    for i in range(n_ev):  # t * lo_i - sum_j e_ij <= 0 and sum_j e_ij <= hi_i
        row = np.zeros(n_var)
        row[np.flatnonzero(pairs[:, 0] == i)] = -1.0
        if lo[i] > 0:
            r = row.copy()
            r[-1] = lo[i]
            a_ub.append(r)
            b_ub.append(0.0)
        a_ub.append(-row)
        b_ub.append(hi[i])
    for j in range(n_sp):
        row = np.zeros(n_var)
        row[np.flatnonzero(pairs[:, 1] == j)] = 1.0
        a_ub.append(row)
        b_ub.append(cap[j])
    bounds = [(0, None)] * (n_var - 1) + [(0, 2)]
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    return float(res.x[-1]) if res.status == 0 else 0.0


def ev_responses(
    weight: np.ndarray, price: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every EV's best ``e_i`` for linear prices: ``max sum_j b ln e - k e`` in its box.

    ``total(nu) = sum_j b_j / (k_j + nu)`` falls with ``nu``.  When it misses
    the box at ``nu = 0``, the root of ``total(nu) = T`` (``T`` the violated
    bound) lies in ``[b_m / T - k_m, B / T - k_m]`` (``k_m`` the smallest
    price, ``b_m`` its bids, ``B`` all bids), and Newton's method on the
    concave ``1 / total(nu)`` from the left end converges to it monotonically.

    Args:
        weight: ``(I, J)`` bids ``b_ij >= 0`` (0: the pair cannot trade).
        price: ``(I, J)`` prices ``k_ij`` per kWh delivered.
        lo: ``(I,)`` least total.
        hi: ``(I,)`` most total.

    Returns:
        ``e`` ``(I, J)`` and the box multipliers ``nu`` ``(I,)``.
    """
    live = weight > 0
    k_min = np.where(live, price, np.inf).min(axis=1, initial=np.inf)
    has_pair = np.isfinite(k_min)
    k_min = np.where(has_pair, k_min, 0.0)
    b_min = np.where(live & (price == k_min[:, None]), weight, 0.0).sum(axis=1)
    b_all = weight.sum(axis=1)

    def total(nu: np.ndarray, rows: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, ...]:
        k = price[rows] + nu[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            e = np.where(live[rows], weight[rows] / k, 0.0)
            de = np.where(live[rows], -e / k, 0.0)
        return e.sum(axis=1), de.sum(axis=1)

    # nu = 0 is admissible only when every live price is positive.
    f0 = np.where(k_min > 0, total(np.zeros_like(k_min))[0], np.inf)
    need = has_pair & ((f0 > hi) | (f0 < lo))
    target = np.where(f0 > hi, hi, lo)
    nu = np.zeros_like(k_min)
    if need.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(need, b_min / target - k_min, 0.0)
            right = np.where(need, b_all / target - k_min, 0.0)
        nu = left.copy()
        done = ~need
        for _ in range(100):
            # Only the rows still searching are evaluated (the others are fixed).
            rows = np.flatnonzero(~done)
            if not len(rows):
                break
            f, df = total(nu[rows], rows)
            t, lft, rgt, x = target[rows], left[rows], right[rows], nu[rows]
            resid = f - t
            finished = np.abs(resid) <= 1e-10 * t
            lft = np.where(resid > 0, np.maximum(lft, x), lft)
            rgt = np.where(resid < 0, np.minimum(rgt, x), rgt)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                step = x + (f - f * f / t) / df
            ok = np.isfinite(step) & (step >= lft) & (step <= rgt)
            new = np.where(finished, x, np.where(ok, step, 0.5 * (lft + rgt)))
            finished |= new == x  # no further progress in floating point
            left[rows], right[rows], nu[rows] = lft, rgt, new
            done[rows] = finished
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(live, weight / (price + nu[:, None]), 0.0)
    e = np.where(np.isfinite(e) & (e > 0), e, 0.0)
    return e, nu


def solve_oap(
    weight: np.ndarray,
    ask: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    supply_max: np.ndarray,
    rho: float,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
) -> OapSolution:
    """Solve the OAP of the module docstring.

    Args:
        weight: ``(I, J)`` EV bids ``b_ij`` (0 on pairs that may not trade).
        ask: ``(J,)`` SP bids ``p_j > 0`` (coins per kWh^2 generated).
        lo: ``(I,)`` least delivery per EV (kWh), feasible.
        hi: ``(I,)`` most delivery per EV (kWh).
        supply_max: ``(J,)`` generation capacity (kWh).
        rho: Transmission efficiency.
        start: Initial SP prices (e.g. the previous round's).
        tol: Gradient tolerance of the dual minimisation (relative).

    Returns:
        The allocation, the SP prices and the EV box multipliers.
    """
    n_ev, n_sp = weight.shape
    if n_ev == 0 or n_sp == 0:
        return OapSolution(np.zeros((n_ev, n_sp)), np.zeros(n_sp), np.zeros(n_ev))
    ask = np.maximum(np.asarray(ask, dtype=np.float64), 1e-300)

    def supply(y: np.ndarray) -> np.ndarray:
        return np.minimum(y / ask, supply_max)

    def dual(y: np.ndarray) -> tuple[float, np.ndarray]:
        e, _ = ev_responses(weight, np.broadcast_to(y / rho, weight.shape), lo, hi)
        with np.errstate(divide="ignore"):
            logs = np.where(e > 0, weight * np.log(np.where(e > 0, e, 1.0)), 0.0)
        s = supply(y)
        value = logs.sum() - (e.sum(axis=0) * y / rho).sum() + (y * s - 0.5 * ask * s * s).sum()
        return float(value), s - e.sum(axis=0) / rho

    scale = max(float(np.abs(weight).sum()), 1.0)

    def scaled(y: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = dual(y)
        return value / scale, grad / scale

    if start is None:
        # A price at which every SP would supply a fair share is a good start.
        start = ask * np.minimum(supply_max, max(float(hi.sum()), 1e-9) / n_sp / rho)
    y0 = np.maximum(np.asarray(start, dtype=np.float64), 1e-12)
    y = newton_dual(weight, ask, lo, hi, supply_max, rho, y0, tol * scale)
    if y is None:
        res = minimize(
            scaled,
            y0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * n_sp,
            options={"ftol": tol * 1e-3, "gtol": tol, "maxiter": 5000},
        )
        y = np.maximum(res.x, 0.0)
    e, nu = ev_responses(weight, np.broadcast_to(y / rho, weight.shape), lo, hi)
    load = e.sum(axis=0) / rho
    over = load > supply_max
    if over.any():  # rounding of the dual optimum; never more than the capacity
        e[:, over] *= supply_max[over] / load[over]
    return OapSolution(e, y, nu)


def newton_dual(
    weight: np.ndarray,
    ask: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    supply_max: np.ndarray,
    rho: float,
    start: np.ndarray,
    gtol: float,
    max_steps: int = 15,
) -> np.ndarray | None:
    """Minimise the OAP dual over ``y >= 0`` by projected Newton steps (module docstring).

    Each step solves the Newton system on the free prices (those not held at 0 by a
    positive gradient) with a tiny ridge, and backtracks along the projected path
    until the dual falls enough (Armijo).

    Args:
        weight: ``(I, J)`` EV bids (as for :func:`solve_oap`).
        ask: ``(J,)`` SP bids.
        lo: ``(I,)`` least delivery per EV.
        hi: ``(I,)`` most delivery per EV.
        supply_max: ``(J,)`` generation capacity.
        rho: Transmission efficiency.
        start: Initial prices (> 0).
        gtol: Stop when every projected gradient entry is at most this (kWh).
        max_steps: Newton steps before giving up.

    Returns:
        The prices, or ``None`` when the method did not reach ``gtol``.
    """
    live = weight > 0

    def evaluate(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        e, nu = ev_responses(weight, np.broadcast_to(y / rho, weight.shape), lo, hi)
        with np.errstate(divide="ignore"):
            logs = np.where(e > 0, weight * np.log(np.where(e > 0, e, 1.0)), 0.0)
        s = np.minimum(y / ask, supply_max)
        demand = e.sum(axis=0)
        value = logs.sum() - (demand * y / rho).sum() + (y * s - 0.5 * ask * s * s).sum()
        return float(value), s - demand / rho, e, nu

    y = start.copy()
    value, grad, e, nu = evaluate(y)
    for _ in range(max_steps):
        projected = np.where(y > 0, grad, np.minimum(grad, 0.0))
        if np.max(np.abs(projected)) <= gtol:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(live & (e > 0), e * e / np.where(live, weight, 1.0), 0.0)
        big_q = q.sum(axis=1)
        binds = (nu != 0) & (big_q > 0)
        hess = np.diag(np.where(y / ask < supply_max, 1.0 / ask, 0.0) + q.sum(axis=0) / rho**2)
        if binds.any():
            qb = q[binds] / np.sqrt(big_q[binds])[:, None]
            hess -= qb.T @ qb / rho**2
        free = ~((y <= 0) & (grad > 0))
        direction = np.zeros_like(y)
        h = hess[np.ix_(free, free)]
        ridge = 1e-12 * max(float(np.abs(np.diag(h)).max(initial=0.0)), 1e-300)
        try:
            direction[free] = -np.linalg.solve(h + ridge * np.eye(len(h)), grad[free])
        except np.linalg.LinAlgError:
            return None
        step = 1.0
        for _ in range(20):
            trial = np.maximum(y + step * direction, 0.0)
            t_value, t_grad, t_e, t_nu = evaluate(trial)
            if t_value <= value + 1e-4 * float(grad @ (trial - y)):
                break
            step *= 0.5
        else:
            return None
        if np.array_equal(trial, y):
            return None
        y, value, grad, e, nu = trial, t_value, t_grad, t_e, t_nu
    return None
