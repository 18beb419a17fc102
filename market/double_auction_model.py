"""The EV / service-provider energy market of seed 001, ch. 4: utilities, costs, welfare.

Seed 001 (PhD thesis), §4.3.  EV ``i`` receives ``e_ij`` kWh from service
provider (SP) ``j``; the SP generates ``s_ji = e_ij / rho`` (transmission
efficiency ``rho``, Eq. 4.4) and the battery stores ``eta * sum_j e_ij``
(charging efficiency ``eta``).

* EV satisfaction (Eq. 4.1, as restated by the issue; the thesis misplaces
  the parenthesis): ``U_i = w_i * ln(eta * sum_j e_ij - e_i_min + 1)`` with
  charging willingness ``w_i = sigma / SoC_i``.
* SP cost (Eq. 4.2 read as a generator cost of the SP's total supply
  ``S_j = sum_i s_ji``): ``L_j = c1 * S_j**2 + c2 * S_j``.  The thesis prints
  the sum of per-pair squares; with that form every EV-SP pair is a
  bilateral monopoly (its price depends on that pair alone) and an EV gains
  some 18 % of its payment by halving its bids, so no price-taking auction
  is sound on it.  With the total-supply cost each SP has one marginal cost
  for all its EVs, the usual generator model.
* Social welfare (SWM, Eq. 4.3): ``sum_i U_i - sum_j L_j`` subject to
  (Eq. 4.4) ``e_i_min <= eta * sum_j e_ij <= e_i_max``,
  ``sum_i s_ji <= S_j_max``, ``rho * s_ji = e_ij`` and ``e_ij >= 0``.
  It is concave, so :func:`solve_swm_direct` (scipy SLSQP) finds its optimum
  on small instances, as an independent reference for the auction.

Everything here works in kWh and coins; the allocation is an ``(I, J)``
matrix of delivered energy ``e``.  Pairs may be excluded (``eligible``),
e.g. when the EV's limit price is below the SP's (Algorithm 7, line 10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DoubleAuctionInstance:
    """One market of EVs (buyers) and service providers (sellers).

    Attributes:
        weight: ``(I,)`` charging willingness ``w_i`` (coins), ``> 0``.
        e_min_kwh: ``(I,)`` minimum energy into the battery, ``>= 0``.
        e_max_kwh: ``(I,)`` maximum energy into the battery, ``>= e_min_kwh``.
        supply_max_kwh: ``(J,)`` generation capacity ``S_j_max``, ``>= 0``.
        c1: ``(J,)`` quadratic cost coefficient (coins/kWh^2), ``>= 0``.
        c2: ``(J,)`` linear cost coefficient (coins/kWh), ``>= 0``.
        eta: Charging efficiency in ``(0, 1]``.
        rho: Transmission efficiency in ``(0, 1]``.
        eligible: ``(I, J)`` bool, pairs allowed to trade.
    """

    weight: np.ndarray
    e_min_kwh: np.ndarray
    e_max_kwh: np.ndarray
    supply_max_kwh: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    eta: float
    rho: float
    eligible: np.ndarray

    def __post_init__(self) -> None:
        for name in ("weight", "e_min_kwh", "e_max_kwh", "supply_max_kwh", "c1", "c2"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.ndim != 1 or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be a one-dimensional array of finite numbers")
            object.__setattr__(self, name, arr)
        n_ev, n_sp = self.n_ev, self.n_sp
        if len(self.e_min_kwh) != n_ev or len(self.e_max_kwh) != n_ev:
            raise ValueError("weight, e_min_kwh and e_max_kwh must have one entry per EV")
        if len(self.c1) != n_sp or len(self.c2) != n_sp:
            raise ValueError("supply_max_kwh, c1 and c2 must have one entry per SP")
        if np.any(self.weight <= 0):
            raise ValueError("weight must be > 0 for every EV")
        if np.any(self.e_min_kwh < 0) or np.any(self.e_max_kwh < self.e_min_kwh):
            raise ValueError("need 0 <= e_min_kwh <= e_max_kwh for every EV")
        if np.any(self.supply_max_kwh < 0) or np.any(self.c1 < 0) or np.any(self.c2 < 0):
            raise ValueError("supply_max_kwh, c1 and c2 must be >= 0")
        for name in ("eta", "rho"):
            value = float(getattr(self, name))
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must lie in (0, 1] (got {value})")
            object.__setattr__(self, name, value)
        eligible = np.asarray(self.eligible, dtype=bool)
        if eligible.shape != (n_ev, n_sp):
            raise ValueError(f"eligible must have shape {(n_ev, n_sp)} (got {eligible.shape})")
        object.__setattr__(self, "eligible", eligible)

    @property
    def n_ev(self) -> int:
        """Number of EVs ``I``."""
        return int(self.weight.shape[0])

    @property
    def n_sp(self) -> int:
        """Number of service providers ``J``."""
        return int(self.supply_max_kwh.shape[0])

    @property
    def min_delivery_kwh(self) -> np.ndarray:
        """Least energy each EV must receive, ``e_min / eta`` (kWh delivered)."""
        return self.e_min_kwh / self.eta

    @property
    def max_delivery_kwh(self) -> np.ndarray:
        """Most energy each EV may receive, ``e_max / eta`` (kWh delivered)."""
        return self.e_max_kwh / self.eta

    @property
    def capacity_delivered_kwh(self) -> np.ndarray:
        """Most energy each SP can deliver, ``rho * S_max`` (kWh delivered)."""
        return self.rho * self.supply_max_kwh


def utility(inst: DoubleAuctionInstance, received_kwh: np.ndarray) -> np.ndarray:
    """EV satisfaction ``U_i`` (seed 001, Eq. 4.1) for total deliveries ``received_kwh``."""
    slack = inst.eta * np.asarray(received_kwh, dtype=np.float64) - inst.e_min_kwh + 1.0
    return inst.weight * np.log(np.maximum(slack, 1e-300))


def marginal_utility(inst: DoubleAuctionInstance, received_kwh: np.ndarray) -> np.ndarray:
    """``dU_i / de_ij`` (coins per kWh delivered), the same for every SP ``j``."""
    slack = inst.eta * np.asarray(received_kwh, dtype=np.float64) - inst.e_min_kwh + 1.0
    return inst.eta * inst.weight / np.maximum(slack, 1e-12)


def generation_kwh(inst: DoubleAuctionInstance, allocation: np.ndarray) -> np.ndarray:
    """Each SP's total generation ``S_j = sum_i e_ij / rho`` (kWh), ``(J,)``."""
    return np.asarray(allocation, dtype=np.float64).sum(axis=0) / inst.rho


def sp_cost(inst: DoubleAuctionInstance, allocation: np.ndarray) -> np.ndarray:
    """Each SP's cost ``c1 S_j**2 + c2 S_j`` (seed 001, Eq. 4.2), ``(J,)`` coins."""
    s = generation_kwh(inst, allocation)
    return inst.c1 * s * s + inst.c2 * s


def marginal_cost(inst: DoubleAuctionInstance, allocation: np.ndarray) -> np.ndarray:
    """``dL_j / dS_j = 2 c1 S_j + c2`` (coins per kWh generated), ``(J,)``."""
    return 2.0 * inst.c1 * generation_kwh(inst, allocation) + inst.c2


def welfare(inst: DoubleAuctionInstance, allocation: np.ndarray) -> float:
    """Social welfare ``sum U_i - sum L_j`` of an allocation (seed 001, Eq. 4.3)."""
    e = np.asarray(allocation, dtype=np.float64)
    return float(utility(inst, e.sum(axis=1)).sum() - sp_cost(inst, e).sum())


def feasibility_violation(inst: DoubleAuctionInstance, allocation: np.ndarray) -> float:
    """Largest violation (kWh) of the constraints of Eq. 4.4 by ``allocation``."""
    e = np.asarray(allocation, dtype=np.float64)
    stored = inst.eta * e.sum(axis=1)
    violations = [
        np.max(inst.e_min_kwh - stored, initial=0.0),
        np.max(stored - inst.e_max_kwh, initial=0.0),
        np.max(generation_kwh(inst, e) - inst.supply_max_kwh, initial=0.0),
        np.max(-e, initial=0.0),
        np.max(np.abs(e[~inst.eligible]), initial=0.0),
    ]
    return float(max(violations))


def random_instance(
    seed: int,
    n_ev: int,
    n_sp: int,
    *,
    demand_kwh: tuple[float, float] = (10.0, 60.0),
    supply_kwh: tuple[float, float] = (50.0, 250.0),
    min_demand_fraction: float = 0.2,
    soc: tuple[float, float] = (0.2, 0.8),
    sigma: float = 10.0,
    c1: float = 0.01,
    c2: float = 0.015,
    eta: float = 0.8,
    rho: float = 0.9,
) -> DoubleAuctionInstance:
    """Draw an instance with the settings of seed 001, §4.5 (defaults of the thesis).

    EV demand (``e_max``) 10-60 kWh, SP supply 50-250 kWh, ``c1 = 0.01``,
    ``c2 = 0.015``, ``eta = 0.8``, ``rho = 0.9`` are the thesis' settings;
    the minimum demand fraction, the SoC range and ``sigma`` are not given
    there and are our choices.  Only for experiments and tests: the draw uses
    :mod:`market.counter_rng`, so it is a pure function of ``seed``.
    """
    from market.counter_rng import CounterRandom

    rng = CounterRandom(seed, stream=4001)
    demand = demand_kwh[0] + (demand_kwh[1] - demand_kwh[0]) * rng.random(n_ev)
    state = soc[0] + (soc[1] - soc[0]) * rng.random(n_ev)
    supply = supply_kwh[0] + (supply_kwh[1] - supply_kwh[0]) * rng.random(n_sp)
    return DoubleAuctionInstance(
        weight=sigma / state,
        e_min_kwh=min_demand_fraction * demand,
        e_max_kwh=demand,
        supply_max_kwh=supply,
        c1=np.full(n_sp, c1),
        c2=np.full(n_sp, c2),
        eta=eta,
        rho=rho,
        eligible=np.ones((n_ev, n_sp), dtype=bool),
    )


def solve_swm_direct(inst: DoubleAuctionInstance) -> np.ndarray:
    """Solve SWM (Eqs. 4.3-4.4) directly with scipy's SLSQP (small instances).

    An independent reference for the auction: no bids, no iteration, just the
    concave programme over the ``(I, J)`` allocation.

    Returns:
        The welfare-maximising allocation ``e`` (kWh delivered).
    """
    from scipy.optimize import minimize

    n_ev, n_sp = inst.n_ev, inst.n_sp
    pairs = np.argwhere(inst.eligible)
    if n_ev == 0 or n_sp == 0 or len(pairs) == 0:
        return np.zeros((n_ev, n_sp))

    def full(x: np.ndarray) -> np.ndarray:
        e = np.zeros((n_ev, n_sp))
        e[pairs[:, 0], pairs[:, 1]] = x
        return e

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        e = full(x)
        mu = marginal_utility(inst, e.sum(axis=1))
        grad = mu[pairs[:, 0]] - marginal_cost(inst, e)[pairs[:, 1]] / inst.rho
        return -welfare(inst, e), -grad

    stored_rows = [np.flatnonzero(pairs[:, 0] == i) for i in range(n_ev)]
    gen_rows = [np.flatnonzero(pairs[:, 1] == j) for j in range(n_sp)]
    constraints = []
    for i, rows in enumerate(stored_rows):
        if len(rows):
            constraints.append(
                {
                    "type": "ineq",
                    "fun": lambda x, r=rows, i=i: inst.eta * x[r].sum() - inst.e_min_kwh[i],
                }
            )
            constraints.append(
                {
                    "type": "ineq",
                    "fun": lambda x, r=rows, i=i: inst.e_max_kwh[i] - inst.eta * x[r].sum(),
                }
            )
    for j, rows in enumerate(gen_rows):
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda x, r=rows, j=j: inst.supply_max_kwh[j] - x[r].sum() / inst.rho,
            }
        )
    share = inst.min_delivery_kwh[pairs[:, 0]] / np.maximum(
        inst.eligible.sum(axis=1)[pairs[:, 0]], 1
    )
    res = minimize(
        objective,
        share * 1.001 + 1e-3,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, None)] * len(pairs),
        constraints=constraints,
        options={"maxiter": 2000, "ftol": 1e-12},
    )
    return full(np.maximum(res.x, 0.0))
