"""The upper level of ``two_level`` for large books: the same LP through area hubs.

``MaxUsersProfit`` (seed 002 §5.1.1, reconstructed) has one variable per
(buyer, seller) pair, ``n_buy x n_sell`` of them: a quarter of a million for a
book of a thousand orders.  Its costs depend on the pair only through the two
areas (``alpha + 2X`` within a station, ``alpha + 2X + Y`` across), so the LP
is a transportation problem through one hub per area::

    max  sum_b p_b r_b - sum_a p_a s_a - sum_gh c_gh f_gh
    s.t. sum_{a in g} s_a = sum_h f_gh,   sum_{b in h} r_b = sum_g f_gh,
         sum_gh c_gh f_gh <= B,   0 <= s_a <= q_a,   0 <= r_b <= q_b,   f >= 0

with ``n_buy + n_sell + A^2`` variables.  Any pairwise solution gives a flow
of the same value and every flow splits into pairs, so both have the same
optimum.  The split: for each hub pair ``(g, h)`` the sellers of ``g`` in
ask order meet the buyers of ``h`` in bid order.  At the optimum a used
seller of ``g`` asks at most ``pi_g`` (the dual price of hub ``g``) and a
used buyer of ``h`` bids at least ``pi_h = pi_g + c_gh``, so every pair of
the split has a margin ``>= 0`` whatever the order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from market.book import OrderBook
from market.greedy import cap_group_totals
from market.priority import ask_priority, bid_priority

if TYPE_CHECKING:
    from market.two_level import TwoLevel


def hub_costs(areas: np.ndarray, params: TwoLevel) -> np.ndarray:
    """``(A, A)`` cost per kWh from a seller hub (row) to a buyer hub (column)."""
    same = areas[:, None] == areas[None, :]
    comm = np.where(
        same, 2 * params.single_comm_cost, 2 * params.single_comm_cost + params.cross_comm_cost
    )
    return params.comfort_coefficient + comm


def max_profit_by_flow(
    book: OrderBook, buyers: np.ndarray, sellers: np.ndarray, params: TwoLevel
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Solve the hub LP and split it into contracts.

    Returns:
        Buyer rows, seller rows, contracted Wh (> 0) of each contract, and the
        LP's group profit (coins).
    """
    areas = np.unique(np.concatenate([book.area[buyers], book.area[sellers]]))
    n_a, n_s, n_b = len(areas), len(sellers), len(buyers)
    cost = hub_costs(areas, params).ravel()
    g_of_s = np.searchsorted(areas, book.area[sellers])
    h_of_b = np.searchsorted(areas, book.area[buyers])
    kwh = book.quantity_wh / 1000.0
    # Variables: s (sellers), r (buyers), f (hub pairs, row-major g, h).
    c = np.concatenate([book.limit_price[sellers], -book.limit_price[buyers], cost])
    f_cols = n_s + n_b + np.arange(n_a * n_a)
    g_of_f, h_of_f = np.divmod(np.arange(n_a * n_a), n_a)
    rows = np.concatenate([g_of_s, n_a + h_of_b, g_of_f, n_a + h_of_f])
    cols = np.concatenate([np.arange(n_s), n_s + np.arange(n_b), f_cols, f_cols])
    vals = np.concatenate([np.ones(n_s + n_b), -np.ones(2 * n_a * n_a)])
    a_eq = coo_matrix((vals, (rows, cols)), shape=(2 * n_a, n_s + n_b + n_a * n_a))
    a_budget = coo_matrix(
        (cost, (np.zeros(n_a * n_a, int), f_cols)), shape=(1, n_s + n_b + n_a * n_a)
    )
    bounds = np.array(
        [(0.0, q) for q in kwh[sellers]] + [(0.0, q) for q in kwh[buyers]] + [(0.0, None)] * n_a**2,
        dtype=object,
    )
    res = linprog(
        c,
        A_ub=vstack([a_budget]).tocsr(),
        b_ub=[params.comfort_budget],
        A_eq=a_eq.tocsr(),
        b_eq=np.zeros(2 * n_a),
        bounds=bounds.tolist(),
        method="highs",
    )
    if res.status != 0:  # pragma: no cover - feasible (all zero) and bounded
        raise RuntimeError(f"MaxUsersProfit (hub LP): HiGHS failed ({res.message})")
    to_wh = lambda x: np.floor(x * 1000.0 + 1e-6).astype(np.int64)  # noqa: E731
    s_wh, r_wh, f_wh = to_wh(res.x[:n_s]), to_wh(res.x[n_s : n_s + n_b]), to_wh(res.x[n_s + n_b :])
    s_order = ask_priority(book.limit_price[sellers])
    b_order = bid_priority(book.limit_price[buyers])
    left_s, left_b = s_wh.copy(), r_wh.copy()
    out_b, out_s, out_q = [], [], []
    for k in np.flatnonzero(f_wh > 0):
        g, h = divmod(int(k), n_a)
        need = int(f_wh[k])
        s_queue = [i for i in s_order if g_of_s[i] == g and left_s[i] > 0]
        b_queue = [j for j in b_order if h_of_b[j] == h and left_b[j] > 0]
        si = bi = 0
        while need > 0 and si < len(s_queue) and bi < len(b_queue):
            i, j = s_queue[si], b_queue[bi]
            q = min(need, int(left_s[i]), int(left_b[j]))
            out_b.append(buyers[j])
            out_s.append(sellers[i])
            out_q.append(q)
            left_s[i] -= q
            left_b[j] -= q
            need -= q
            si += left_s[i] == 0
            bi += left_b[j] == 0
    bb = np.array(out_b, dtype=np.int64)
    ss = np.array(out_s, dtype=np.int64)
    wh = cap_group_totals(bb, np.array(out_q, dtype=np.int64), book.quantity_wh)
    wh = cap_group_totals(ss, wh, book.quantity_wh)
    return bb, ss, wh, float(-res.fun)
