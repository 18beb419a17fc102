"""LinDistFlow: the linearised branch-flow equations of a radial feeder, vectorised.

The DistFlow equations of Baran and Wu (IEEE Trans. Power Delivery 4(2), 1989) relate,
for the line (i, j) that feeds bus j from its parent i, the sending-end flows P_j, Q_j,
the squared voltage magnitudes W = V^2 and the squared current l_j:

    P_j = sum over the subtree of j of (p_load + r l)      (active power balance)
    Q_j = sum over the subtree of j of (q_load + x l)      (reactive power balance)
    W_j = W_i - 2 (r_j P_j + x_j Q_j) + (r_j^2 + x_j^2) l_j
    l_j = (P_j^2 + Q_j^2) / W_i

Dropping the loss terms (l = 0) gives LinDistFlow (Baran and Wu, IEEE Trans. Power
Delivery 4(1), 1989): flows are subtree sums of the loads and W falls linearly along
each path, which is what :func:`solve` computes with zero ``loss_iterations``. Losses
are then *estimated* from the linear flows (r l with l from the linear P, Q, W). Each
further iteration puts the estimated losses back into the flows and the voltage drop
(a fixed-point "second-order correction"); iterated to convergence this is the exact
branch-flow solution of the radial feeder, i.e. the AC power flow.

Seed 003 writes the same branch-flow model as its OPF constraints (Eqs 18-22); this
module solves it for given injections rather than optimising them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from agents.powerflow.network import FeederNetwork


class BranchFlowSolution(NamedTuple):
    """Per-unit solution, indexed by receiving bus (root entries are zero).

    Attributes:
        v_pu: Voltage magnitude of every bus.
        p_pu: Sending-end active flow of the line feeding each bus.
        q_pu: Sending-end reactive flow of the line feeding each bus.
        current_sq_pu: Squared current of the line feeding each bus.
        loss_pu: Active loss of the line feeding each bus (r * current_sq).
    """

    v_pu: np.ndarray
    p_pu: np.ndarray
    q_pu: np.ndarray
    current_sq_pu: np.ndarray
    loss_pu: np.ndarray


def solve(
    network: FeederNetwork,
    p_injection_pu: np.ndarray,
    q_injection_pu: np.ndarray,
    *,
    slack_voltage_pu: float = 1.0,
    loss_iterations: int = 0,
) -> BranchFlowSolution:
    """Solve LinDistFlow (plus optional loss corrections) for given bus injections.

    Args:
        network: The feeder.
        p_injection_pu: Active injection per bus (generation positive, load negative),
            shape ``(n_bus,)`` or ``(n_bus, k)`` for ``k`` independent snapshots. The
            root's entry is ignored (the slack bus balances the feeder).
        q_injection_pu: Reactive injection per bus, same shape.
        slack_voltage_pu: Voltage magnitude held at the substation.
        loss_iterations: Fixed-point passes that add the estimated losses to flows and
            voltage drops (0: pure LinDistFlow).

    Returns:
        Voltages, flows, squared currents and losses (per unit).
    """
    p_load = -np.asarray(p_injection_pu, dtype=float)
    q_load = -np.asarray(q_injection_pu, dtype=float)
    if p_load.shape != q_load.shape or p_load.shape[0] != network.n_bus:
        raise ValueError(
            f"injections must have shape (n_bus={network.n_bus}, ...) "
            f"(got {p_load.shape} and {q_load.shape})"
        )
    p_load, q_load = p_load.copy(), q_load.copy()
    p_load[network.root] = 0.0
    q_load[network.root] = 0.0
    r, x = _column(network.r_pu, p_load), _column(network.x_pu, p_load)
    w0 = slack_voltage_pu**2

    current_sq = np.zeros_like(p_load)
    for iteration in range(loss_iterations + 1):
        p_flow = network.subtree_sum(p_load + r * current_sq)
        q_flow = network.subtree_sum(q_load + x * current_sq)
        drop = 2.0 * (r * p_flow + x * q_flow) - (r * r + x * x) * current_sq
        w = w0 - network.path_cumsum(drop)
        w_sending = _sending(network, w)
        current_sq = (p_flow**2 + q_flow**2) / w_sending
        current_sq[network.root] = 0.0
        if iteration == loss_iterations:
            break
    p_flow[network.root] = 0.0
    q_flow[network.root] = 0.0
    return BranchFlowSolution(
        v_pu=np.sqrt(np.maximum(w, 0.0)),
        p_pu=p_flow,
        q_pu=q_flow,
        current_sq_pu=current_sq,
        loss_pu=r * current_sq,
    )


def _column(per_bus: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Broadcast a per-bus vector against ``like`` (which may have snapshot columns)."""
    return per_bus.reshape((-1,) + (1,) * (like.ndim - 1))


def _sending(network: FeederNetwork, w: np.ndarray) -> np.ndarray:
    """Squared voltage at the sending end of the line feeding each bus (root: its own)."""
    parent = np.where(network.parent < 0, network.root, network.parent)
    return np.maximum(w[parent], 1e-9)
