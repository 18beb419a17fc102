"""Power flow on radial feeders: a vectorised LinDistFlow and pandapower's AC reference.

See ``docs/grid.md`` for the equations, the engines' agreement on SCE 56 and timings.
"""

from agents.powerflow.engine import (
    ENGINES,
    METRIC_KEYS,
    GridPhysics,
    PowerFlow,
    PowerFlowResult,
    PowerFlowSummary,
)
from agents.powerflow.network import FeederError, FeederNetwork

__all__ = [
    "ENGINES",
    "METRIC_KEYS",
    "FeederError",
    "FeederNetwork",
    "GridPhysics",
    "PowerFlow",
    "PowerFlowResult",
    "PowerFlowSummary",
]
