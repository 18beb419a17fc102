"""Power flow per market step: settings, the bound solver, and its result.

:class:`PowerFlow` is the configurable part (``grid.power_flow`` in the config): which
engine, the slack voltage, the statutory voltage band and how agents' reactive power
is modelled. :meth:`PowerFlow.bind` turns it and a feeder graph into a
:class:`GridPhysics`, which maps the world's per-agent net energies to bus injections
and solves the feeder once per step with the chosen engine:

- ``lindistflow``: :mod:`agents.powerflow.lindistflow` (numpy, microseconds per step).
- ``pandapower``: :mod:`agents.powerflow.ac`, the AC reference (milliseconds per step).
- ``none``: no physics (``bind`` returns ``None``).

Sign convention: an *injection* is power into the grid (generation positive); an
agent's *net energy* is what it draws from the grid over the step (consumption
positive), the convention of ``HouseholdState.net_kwh``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from agents.params import check, check_range, is_integer
from agents.powerflow import lindistflow
from agents.powerflow.network import FeederNetwork

ENGINES = ("lindistflow", "pandapower", "none")

METRIC_KEYS = (
    "pf_v_min_pu",
    "pf_v_max_pu",
    "pf_loss_kw",
    "pf_substation_kw",
    "pf_max_loading",
    "pf_voltage_violations",
    "pf_thermal_violations",
)


@dataclass(frozen=True)
class PowerFlow:
    """Power-flow settings.

    Attributes:
        engine: "lindistflow" (fast, linearised), "pandapower" (AC reference) or "none".
        slack_voltage_pu: Voltage magnitude held at the substation (the SCE 56 OPF
            studies fix it at 1.0 pu).
        v_min_pu: Lower edge of the voltage band (ANSI C84.1 range A: 0.95 pu; seed 003
            keeps every bus within [V_min, V_max]).
        v_max_pu: Upper edge of the voltage band (ANSI C84.1 range A: 1.05 pu).
        loss_iterations: LinDistFlow only: fixed-point passes that feed the estimated
            losses back into flows and voltage drops (0: pure LinDistFlow). One pass
            keeps SCE 56 within 0.25 % of the AC voltages up to twice its table
            loads, where pure LinDistFlow is off by 1.9 % (``docs/grid.md``).
        load_q_per_p: Reactive power drawn per unit of an agent's active consumption
            (0.3, i.e. power factor 0.958, the ratio of every load in the SCE 56 table);
            agents that export do so at unity power factor.
        base_kv: Base voltage for graphs that do not carry ``graph.graph["base_kv"]``
            (e.g. 0.4 for the low-voltage radial feeders).
        default_ampacity_a: Rating of lines without an ``ampacity_a`` attribute; ``None``
            leaves them unrated (no thermal check).
    """

    engine: str = "lindistflow"
    slack_voltage_pu: float = 1.0
    v_min_pu: float = 0.95
    v_max_pu: float = 1.05
    loss_iterations: int = 1
    load_q_per_p: float = 0.3
    base_kv: float | None = None
    default_ampacity_a: float | None = None

    def __post_init__(self) -> None:
        check(self.engine in ENGINES, "engine", f"one of {', '.join(ENGINES)}", self.engine)
        check_range(self.slack_voltage_pu, "slack_voltage_pu", 0.8, 1.2)
        check_range(self.v_min_pu, "v_min_pu", 0.5, 1.0)
        check_range(self.v_max_pu, "v_max_pu", 1.0, 1.5)
        check(
            is_integer(self.loss_iterations) and 0 <= self.loss_iterations <= 100,
            "loss_iterations",
            "an integer from 0 to 100",
            self.loss_iterations,
        )
        check_range(self.load_q_per_p, "load_q_per_p", 0.0, 2.0)
        if self.base_kv is not None:
            check_range(self.base_kv, "base_kv", 0.0, low_open=True)
        if self.default_ampacity_a is not None:
            check_range(self.default_ampacity_a, "default_ampacity_a", 0.0, low_open=True)

    def bind(self, graph: nx.Graph) -> GridPhysics | None:
        """The solver for ``graph`` with these settings (``None`` for ``engine=none``)."""
        if self.engine == "none":
            return None
        return GridPhysics(graph, self)


@dataclass(frozen=True, eq=False)
class PowerFlowResult:
    """One power-flow snapshot in physical units.

    Branch arrays follow ``network.branch_to`` (breadth-first order); bus arrays follow
    ``network.nodes``.

    Attributes:
        engine: Engine that produced it.
        v_pu: Voltage magnitude of every bus.
        branch_p_kw: Sending-end active flow of every line (away from the substation).
        branch_q_kvar: Sending-end reactive flow of every line.
        branch_loss_kw: Active loss of every line.
        branch_current_a: Current of every line (sending end).
        branch_loading: Current over rating (``nan`` for unrated lines).
        substation_p_kw: Active power drawn from the upstream grid.
        substation_q_kvar: Reactive power drawn from the upstream grid.
        v_min_pu: Lower edge of the voltage band used for the violation count.
        v_max_pu: Upper edge of the voltage band used for the violation count.
    """

    engine: str
    v_pu: np.ndarray
    branch_p_kw: np.ndarray
    branch_q_kvar: np.ndarray
    branch_loss_kw: np.ndarray
    branch_current_a: np.ndarray
    branch_loading: np.ndarray
    substation_p_kw: float
    substation_q_kvar: float
    v_min_pu: float
    v_max_pu: float

    @property
    def loss_kw(self) -> float:
        """Total active line losses."""
        return float(self.branch_loss_kw.sum())

    @property
    def voltage_violations(self) -> int:
        """Buses whose voltage lies outside ``[v_min_pu, v_max_pu]``."""
        v = self.v_pu
        return int(np.count_nonzero((v < self.v_min_pu - 1e-12) | (v > self.v_max_pu + 1e-12)))

    @property
    def thermal_violations(self) -> int:
        """Lines loaded above their rating."""
        loading = self.branch_loading
        return int(np.count_nonzero(np.isfinite(loading) & (loading > 1.0)))

    def metrics(self) -> dict[str, float]:
        """Scalar per-step metrics (keys :data:`METRIC_KEYS`) for the model's table."""
        loading = self.branch_loading[np.isfinite(self.branch_loading)]
        return {
            "pf_v_min_pu": float(self.v_pu.min()),
            "pf_v_max_pu": float(self.v_pu.max()),
            "pf_loss_kw": self.loss_kw,
            "pf_substation_kw": self.substation_p_kw,
            "pf_max_loading": float(loading.max()) if len(loading) else float("nan"),
            "pf_voltage_violations": float(self.voltage_violations),
            "pf_thermal_violations": float(self.thermal_violations),
        }

    @staticmethod
    def empty_metrics() -> dict[str, float]:
        """The metrics of a step without power flow (all ``nan``)."""
        return dict.fromkeys(METRIC_KEYS, float("nan"))


class GridPhysics:
    """A feeder bound to a power-flow engine, solved once per step.

    Background loads and plants come from the graph's bus attributes: ``p_load_mw`` and
    ``q_load_mvar`` (loads of the feeder that are not agents, e.g. the SCE 56 spot
    loads) and ``pv_plant_mw`` (rated PV plants, seed 003). Missing attributes are 0.

    Args:
        graph: A radial feeder.
        settings: Engine and limits.
    """

    def __init__(self, graph: nx.Graph, settings: PowerFlow):
        self.settings = settings
        self.network = FeederNetwork.from_graph(
            graph,
            base_kv=settings.base_kv if graph.graph.get("base_kv") is None else None,
            default_ampacity_a=(
                math.inf if settings.default_ampacity_a is None else settings.default_ampacity_a
            ),
        )
        nodes = self.network.nodes.tolist()
        attrs = graph.nodes
        self.base_p_load_kw = np.array([attrs[n].get("p_load_mw", 0.0) * 1000 for n in nodes])
        self.base_q_load_kvar = np.array([attrs[n].get("q_load_mvar", 0.0) * 1000 for n in nodes])
        self.pv_plant_kw = np.array([attrs[n].get("pv_plant_mw", 0.0) * 1000 for n in nodes])
        self._ac = None
        if settings.engine == "pandapower":
            from agents.powerflow.ac import AcPowerFlow

            self._ac = AcPowerFlow(self.network, settings.slack_voltage_pu)

    @property
    def engine(self) -> str:
        """The engine in use."""
        return self.settings.engine

    def agent_injections(
        self, bus_nodes: np.ndarray, net_kwh: np.ndarray, dt_h: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-bus injections (kW, kvar) of agents from their net energies over a step.

        Args:
            bus_nodes: Graph node id of each agent's bus.
            net_kwh: Energy each agent drew from the grid over the step (negative:
                exported). Its average power over the step is ``net_kwh / dt_h``.
            dt_h: Step length in hours.

        Returns:
            Active and reactive injection per bus (generation positive). Consumers draw
            ``load_q_per_p`` kvar per kW; exporters inject at unity power factor.
        """
        net_kwh = np.asarray(net_kwh, dtype=float)
        if net_kwh.shape != np.shape(bus_nodes):
            raise ValueError("bus_nodes and net_kwh must have the same length")
        check_range(dt_h, "dt_h", 0.0, low_open=True)
        rows = self.network.bus_index(bus_nodes)
        draw_kw = net_kwh / dt_h
        n = self.network.n_bus
        p_kw = -np.bincount(rows, weights=draw_kw, minlength=n)
        q_kvar = -np.bincount(
            rows, weights=np.maximum(draw_kw, 0.0) * self.settings.load_q_per_p, minlength=n
        )
        return p_kw, q_kvar

    def background_injections(
        self, load_factor: float = 1.0, plant_factor: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Injections (kW, kvar) of the feeder's own loads and PV plants.

        Args:
            load_factor: Multiplier on the base loads (e.g. the load profile's value
                relative to its daily peak).
            plant_factor: PV plant output per unit of rating (kW per kWp).
        """
        p_kw = -load_factor * self.base_p_load_kw + plant_factor * self.pv_plant_kw
        return p_kw, -load_factor * self.base_q_load_kvar

    def solve(self, p_injection_kw: np.ndarray, q_injection_kvar: np.ndarray) -> PowerFlowResult:
        """Solve one snapshot of per-bus injections with the configured engine."""
        network = self.network
        scale = 1000.0 * network.base_mva  # kW per unit
        p_pu = np.asarray(p_injection_kw, dtype=float) / scale
        q_pu = np.asarray(q_injection_kvar, dtype=float) / scale
        if self._ac is not None:
            solution = self._ac.solve(p_pu, q_pu)
        else:
            solution = lindistflow.solve(
                network,
                p_pu,
                q_pu,
                slack_voltage_pu=self.settings.slack_voltage_pu,
                loss_iterations=self.settings.loss_iterations,
            )
        to = network.branch_to
        current_a = np.sqrt(solution.current_sq_pu[to]) * network.current_base_a
        rating = network.ampacity_a[to]
        with np.errstate(invalid="ignore"):
            loading = np.where(np.isfinite(rating), current_a / rating, np.nan)
        top = to[network.parent[to] == network.root]
        return PowerFlowResult(
            engine=self.engine,
            v_pu=solution.v_pu,
            branch_p_kw=solution.p_pu[to] * scale,
            branch_q_kvar=solution.q_pu[to] * scale,
            branch_loss_kw=solution.loss_pu[to] * scale,
            branch_current_a=current_a,
            branch_loading=loading,
            substation_p_kw=float(solution.p_pu[top].sum() * scale),
            substation_q_kvar=float(solution.q_pu[top].sum() * scale),
            v_min_pu=self.settings.v_min_pu,
            v_max_pu=self.settings.v_max_pu,
        )

    def solve_step(
        self,
        bus_nodes: np.ndarray,
        net_kwh: np.ndarray,
        dt_h: float,
        *,
        load_factor: float = 1.0,
        plant_factor: float = 0.0,
    ) -> PowerFlowResult:
        """Agents plus background loads and plants, solved: one market step's physics."""
        p_agents, q_agents = self.agent_injections(bus_nodes, net_kwh, dt_h)
        p_background, q_background = self.background_injections(load_factor, plant_factor)
        return self.solve(p_agents + p_background, q_agents + q_background)


class PowerFlowSummary:
    """Day totals of the per-step power flows, for a run's ``summary.json``.

    Call :meth:`add` once per solved step; :meth:`as_dict` gives energy lost in the
    lines, the extreme voltages and loading, and violation counts (bus-steps and
    line-steps), under the key names documented in ``docs/grid.md``.
    """

    def __init__(self, engine: str):
        self.engine = engine
        self.steps = 0
        self.loss_kwh = 0.0
        self.substation_kwh = 0.0
        self.v_min_pu = math.inf
        self.v_max_pu = -math.inf
        self.max_loading = 0.0
        self.voltage_violation_bus_steps = 0
        self.thermal_violation_line_steps = 0
        self.steps_with_violations = 0

    def add(self, result: PowerFlowResult, dt_h: float) -> None:
        """Account for one step of ``dt_h`` hours."""
        metrics = result.metrics()
        self.steps += 1
        self.loss_kwh += result.loss_kw * dt_h
        self.substation_kwh += result.substation_p_kw * dt_h
        self.v_min_pu = min(self.v_min_pu, metrics["pf_v_min_pu"])
        self.v_max_pu = max(self.v_max_pu, metrics["pf_v_max_pu"])
        if math.isfinite(metrics["pf_max_loading"]):
            self.max_loading = max(self.max_loading, metrics["pf_max_loading"])
        voltage, thermal = result.voltage_violations, result.thermal_violations
        self.voltage_violation_bus_steps += voltage
        self.thermal_violation_line_steps += thermal
        self.steps_with_violations += int(voltage + thermal > 0)

    def as_dict(self) -> dict[str, float | int | str]:
        """The totals (``nan`` extremes when no step was solved)."""
        solved = self.steps > 0
        return {
            "engine": self.engine,
            "steps": self.steps,
            "loss_kwh": self.loss_kwh,
            "substation_kwh": self.substation_kwh,
            "v_min_pu": self.v_min_pu if solved else float("nan"),
            "v_max_pu": self.v_max_pu if solved else float("nan"),
            "max_loading": self.max_loading if solved else float("nan"),
            "voltage_violation_bus_steps": self.voltage_violation_bus_steps,
            "thermal_violation_line_steps": self.thermal_violation_line_steps,
            "steps_with_violations": self.steps_with_violations,
        }
