"""Power-flow overlay of the feeder map: lines by loading, buses by voltage.

Drawn only when the model runs a power flow: it must expose ``physics.network`` (an
:class:`agents.powerflow.network.FeederNetwork`: ``nodes``, ``branch_from``,
``branch_to``) and a ``power_flow`` attribute holding the last step's
:class:`agents.powerflow.engine.PowerFlowResult` (``v_pu`` per bus, ``branch_loading``
per line, ``v_min_pu``/``v_max_pu``), or ``None`` before the first step or when the
step's power flow did not converge. Read duck-typed, so this module imports nothing
from ``agents``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection

from experiments.viz import style


@dataclass(frozen=True)
class FlowGeometry:
    """Where the power-flow arrays are drawn.

    Attributes:
        segments: One (from, to) pair of points per line, in the engine's line order.
        bus_xy: One point per bus, in the engine's bus order.
    """

    segments: np.ndarray
    bus_xy: np.ndarray


def flow_geometry(sim, pos: dict) -> FlowGeometry | None:
    """The overlay's geometry, or None when ``sim`` runs no power flow."""
    network = getattr(getattr(sim, "physics", None), "network", None)
    if network is None or not hasattr(sim, "power_flow"):
        return None
    nodes = np.asarray(network.nodes).tolist()
    if any(node not in pos for node in nodes):
        return None
    bus_xy = np.array([pos[node] for node in nodes], dtype=float).reshape(-1, 2)
    start = bus_xy[np.asarray(network.branch_from, dtype=np.int64)]
    end = bus_xy[np.asarray(network.branch_to, dtype=np.int64)]
    return FlowGeometry(segments=np.stack([start, end], axis=1), bus_xy=bus_xy)


def flow_artists(ax, geometry: FlowGeometry, result) -> list:
    """Lines coloured by loading (grey where unrated) and buses by voltage."""
    loading = np.asarray(result.branch_loading, dtype=float)
    colours = style.LOADING_CMAP(style.LOADING_NORM(np.nan_to_num(loading, nan=0.0)))
    colours[~np.isfinite(loading)] = (0.6, 0.63, 0.66, 1.0)
    lines = ax.add_collection(
        LineCollection(geometry.segments, colors=colours, linewidths=2.6, zorder=1.5)
    )
    buses = ax.scatter(
        geometry.bus_xy[:, 0],
        geometry.bus_xy[:, 1],
        s=18,
        c=np.asarray(result.v_pu, dtype=float),
        cmap=style.VOLTAGE_CMAP,
        norm=style.voltage_norm(result),
        edgecolors="#333333",
        linewidths=0.3,
        zorder=2.5,
    )
    return [lines, buses]
