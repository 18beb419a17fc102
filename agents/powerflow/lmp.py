"""Locational marginal prices from a linearised optimal power flow on a radial feeder.

Seed 003 caps local prices by the locational marginal price (Eq. 24) that its
second-order-cone OPF (Eqs. 17-23) yields. We solve a linear approximation of that
OPF with scipy's HiGHS and read the LMPs off the dual values:

- **Variables**: the output ``g_k`` of every generator (the substation's upstream
  supply at the grid operator's marginal price, providers' offer blocks, ...),
  the active flow ``f_j`` of the line feeding each bus ``j`` (positive away from
  the substation), load shed ``s_i`` at every bus, priced at the value of lost
  load, and spilled export ``u_i`` (free) where a bus exports, so the problem stays
  feasible.
- **Objective**: ``sum_k c_k g_k + VOLL sum_i s_i`` (coins per hour, with prices in
  coins/kWh and powers in kW).
- **Bus balance** (equalities): ``sum_{k at i} g_k + f_i - sum_{children j} f_j + s_i
  - u_i = d_i``, the DC (lossless) power balance. On a tree the flows follow from the
  injections, so no voltage angles are needed.
- **Line ratings**: ``|f_j| <= rating_j`` (kW at the base voltage, from the ampacity:
  ``sqrt(3) V I`` at unity power factor).
- **Voltage band** (optional): LinDistFlow (Baran and Wu 1989) with reactive flows
  held at their load values, ``W_j = W_0 - 2 sum_{l on path(j)} (r_l f_l + x_l q_l)``
  with ``W = V^2``, kept within ``[v_min^2, v_max^2]``.

The LMP of bus ``i`` is the dual value of its balance row: the cost of serving one
more kW there. Without binding limits every LMP equals the marginal generator's
price; a congested line or a binding voltage limit separates them. Losses are
ignored (a DC OPF): on SCE 56 they are 3-5 % of the load (docs/grid.md), which the
loss-factor term of a full AC LMP would add. That is the approximation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from agents.powerflow.network import FeederNetwork

#: Value of lost load (coins/kWh): the price of shedding; ours (European VOLL studies
#: put it at several EUR/kWh).
DEFAULT_VOLL = 10.0


class OpfFailed(RuntimeError):
    """HiGHS did not find an optimal solution."""


@dataclass(frozen=True, eq=False)
class LmpResult:
    """Outcome of one DC OPF.

    Attributes:
        lmp: Price per bus (coins/kWh), bus order of the network.
        dispatch_kw: Output of each generator.
        flow_kw: Active flow of the line feeding each bus (0 at the root).
        shed_kw: Load shed per bus.
        congested: Lines (receiving bus indices) at their rating.
        cost_per_h: Objective value (coins per hour).
    """

    lmp: np.ndarray
    dispatch_kw: np.ndarray
    flow_kw: np.ndarray
    shed_kw: np.ndarray
    congested: np.ndarray
    cost_per_h: float


def line_rating_kw(network: FeederNetwork) -> np.ndarray:
    """Thermal rating of the line feeding each bus in kW (``inf`` where unrated)."""
    return math.sqrt(3.0) * network.base_kv * network.ampacity_a


def dc_opf_lmp(
    network: FeederNetwork,
    demand_kw: np.ndarray,
    gen_bus: np.ndarray,
    gen_capacity_kw: np.ndarray,
    gen_price: np.ndarray,
    *,
    demand_kvar: np.ndarray | None = None,
    voltage_band_pu: tuple[float, float] | None = (0.95, 1.05),
    slack_voltage_pu: float = 1.0,
    voll: float = DEFAULT_VOLL,
) -> LmpResult:
    """Least-cost dispatch with line ratings (and voltage band); LMPs from its duals.

    Args:
        network: The feeder.
        demand_kw: Net demand per bus (negative where agents or plants export).
        gen_bus: Bus index of each generator (the upstream grid is a generator at
            ``network.root``).
        gen_capacity_kw: Capacity of each generator (``inf`` allowed).
        gen_price: Offer price of each generator (coins/kWh).
        demand_kvar: Reactive demand per bus for the voltage rows (default 0).
        voltage_band_pu: ``(v_min, v_max)``, or ``None`` for no voltage rows.
        slack_voltage_pu: Voltage at the substation.
        voll: Price of shed load.

    Raises:
        OpfFailed: The solver did not report an optimum.
    """
    n = network.n_bus
    demand = np.asarray(demand_kw, dtype=float)
    gen_bus = np.asarray(gen_bus, dtype=np.int64)
    n_gen = len(gen_bus)
    lines = network.branch_to  # one flow variable per non-root bus
    n_line = len(lines)
    line_var = np.full(n, -1, dtype=np.int64)
    line_var[lines] = np.arange(n_line)
    # Variable layout: [g (n_gen), f (n_line), s (n), u (n)].
    n_var = n_gen + n_line + 2 * n
    cost = np.concatenate(
        [np.asarray(gen_price, float), np.zeros(n_line), np.full(n, voll), np.zeros(n)]
    )
    rows, cols, vals = [], [], []
    rows += gen_bus.tolist()
    cols += list(range(n_gen))
    vals += [1.0] * n_gen
    for k, j in enumerate(lines.tolist()):
        rows += [j, int(network.parent[j])]
        cols += [n_gen + k, n_gen + k]
        vals += [1.0, -1.0]
    rows += list(range(n)) * 2
    cols += list(range(n_gen + n_line, n_var))
    vals += [1.0] * n + [-1.0] * n
    a_eq = coo_matrix((vals, (rows, cols)), shape=(n, n_var)).tocsr()
    rating = line_rating_kw(network)[lines]
    bounds = (
        [(0.0, None if not np.isfinite(c) else float(c)) for c in gen_capacity_kw]
        + [(None, None) if not np.isfinite(r) else (-float(r), float(r)) for r in rating]
        + [(0.0, max(float(d), 0.0)) for d in demand]
        + [(0.0, max(-float(d), 0.0)) for d in demand]
    )
    a_ub, b_ub = None, None
    if voltage_band_pu is not None and n_line:
        a_ub, b_ub = _voltage_rows(network, demand_kvar, voltage_band_pu, slack_voltage_pu, n_gen)
        a_ub = coo_matrix(a_ub, shape=(a_ub.shape[0], n_var)).tocsr() if a_ub.size else None
    result = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=demand, bounds=bounds, method="highs"
    )
    if result.status != 0:
        raise OpfFailed(f"DC OPF failed: {result.message}")
    x = result.x
    flow = np.zeros(n)
    flow[lines] = x[n_gen : n_gen + n_line]
    congested = lines[np.isfinite(rating) & (np.abs(flow[lines]) >= rating * (1 - 1e-7))]
    return LmpResult(
        lmp=np.asarray(result.eqlin.marginals, dtype=float),
        dispatch_kw=x[:n_gen],
        flow_kw=flow,
        shed_kw=x[n_gen + n_line : n_gen + n_line + n],
        congested=congested,
        cost_per_h=float(result.fun),
    )


def _voltage_rows(network, demand_kvar, band, slack_pu, n_gen):
    """LinDistFlow voltage rows ``v_min^2 <= W_j <= v_max^2`` as ``A_ub x <= b_ub``."""
    n = network.n_bus
    lines = network.branch_to
    n_line = len(lines)
    scale = 1000.0 * network.base_mva  # kW per unit
    q = np.zeros(n) if demand_kvar is None else np.asarray(demand_kvar, float)
    q_flow_pu = network.subtree_sum(q) / scale  # reactive flow into each bus
    line_index = {int(j): k for k, j in enumerate(lines.tolist())}
    coeff = np.zeros((n, n_line))  # dW_j / df_l (per kW)
    for j in lines.tolist():
        node = j
        while node != network.root:
            coeff[j, line_index[node]] = -2.0 * network.r_pu[node] / scale
            node = int(network.parent[node])
    w_q = slack_pu**2 - 2.0 * network.path_cumsum(network.x_pu * q_flow_pu)
    v_min, v_max = band
    buses = lines
    block = coeff[buses]
    # W = w_q + block f <= v_max^2  and  -W <= -v_min^2
    a = np.zeros((2 * len(buses), n_gen + n_line + 2 * n))
    a[: len(buses), n_gen : n_gen + n_line] = block
    a[len(buses) :, n_gen : n_gen + n_line] = -block
    b = np.concatenate([v_max**2 - w_q[buses], w_q[buses] - v_min**2])
    return a, b


def area_prices(lmp: np.ndarray, network: FeederNetwork, stations: np.ndarray) -> np.ndarray:
    """The LMP at each area's station bus (graph node ids in ``stations``)."""
    return lmp[network.bus_index(stations)]
