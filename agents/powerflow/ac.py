"""The reference engine: pandapower's Newton-Raphson AC power flow on the same feeder.

pandapower is imported lazily (it is heavy, and an optional dependency): building an
:class:`AcPowerFlow` is the first time it is needed. The net mirrors the
:class:`~agents.powerflow.network.FeederNetwork` exactly: one bus per feeder bus at the
base voltage, an external grid (slack) at the substation, one line per branch with the
series impedance of the feeder and no shunt capacitance (the published SCE 56 data
have none), and one load per bus whose value is set before every solve. Loads are
constant power (no voltage dependence), as in the LinDistFlow engine. After the first
solve, Newton-Raphson starts from the previous step's solution (about 3x faster).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from agents.powerflow.lindistflow import BranchFlowSolution
from agents.powerflow.network import FeederNetwork


class PandapowerUnavailable(ImportError):
    """pandapower is not installed but ``engine=pandapower`` was asked for."""


class PowerFlowDiverged(RuntimeError):
    """The AC power flow did not converge (e.g. an infeasible loading)."""


def _import_pandapower():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pandapower
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise PandapowerUnavailable(
            "engine=pandapower needs the pandapower package (pip install pandapower)"
        ) from error
    return pandapower


class AcPowerFlow:
    """A pandapower net of a feeder, re-solved for new injections on every call.

    Args:
        network: The feeder.
        slack_voltage_pu: Voltage magnitude held at the substation.
        tolerance_mva: Newton-Raphson mismatch tolerance.
    """

    def __init__(
        self, network: FeederNetwork, slack_voltage_pu: float = 1.0, tolerance_mva: float = 1e-9
    ):
        pp = _import_pandapower()
        self._pp = pp
        self.network = network
        self.tolerance_mva = tolerance_mva
        net = pp.create_empty_network(sn_mva=network.base_mva, f_hz=60.0)
        buses = pp.create_buses(net, network.n_bus, vn_kv=network.base_kv)
        self._bus = np.asarray(buses, dtype=np.int64)
        pp.create_ext_grid(net, int(self._bus[network.root]), vm_pu=slack_voltage_pu)
        z_base = network.impedance_base_ohm
        for j in network.branch_to.tolist():
            # pandapower wants a positive length; per-km values times length give the
            # branch impedance whatever the length, so a missing length becomes 1 km.
            length = network.length_km[j] if network.length_km[j] > 0 else 1.0
            rating_ka = network.ampacity_a[j] / 1000.0
            pp.create_line_from_parameters(
                net,
                from_bus=int(self._bus[network.parent[j]]),
                to_bus=int(self._bus[j]),
                length_km=float(length),
                r_ohm_per_km=float(network.r_pu[j] * z_base / length),
                x_ohm_per_km=float(network.x_pu[j] * z_base / length),
                c_nf_per_km=0.0,
                max_i_ka=float(rating_ka) if math.isfinite(rating_ka) else 1e6,
            )
        pp.create_loads(net, buses, p_mw=0.0, q_mvar=0.0)
        self.net = net
        self._line_to = network.branch_to.copy()
        self._warm = False  # start Newton-Raphson from the last solution once there is one

    def solve(self, p_injection_pu: np.ndarray, q_injection_pu: np.ndarray) -> BranchFlowSolution:
        """Run the AC power flow for one snapshot of per-unit bus injections.

        Returns:
            The same per-bus arrays as :func:`agents.powerflow.lindistflow.solve`.

        Raises:
            PowerFlowDiverged: Newton-Raphson did not converge.
        """
        network, base = self.network, self.network.base_mva
        p_load = -np.asarray(p_injection_pu, dtype=float) * base
        q_load = -np.asarray(q_injection_pu, dtype=float) * base
        p_load[network.root] = q_load[network.root] = 0.0
        self.net.load["p_mw"] = p_load
        self.net.load["q_mvar"] = q_load
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._pp.runpp(
                    self.net,
                    algorithm="nr",
                    init="results" if self._warm else "auto",
                    tolerance_mva=self.tolerance_mva,
                    voltage_depend_loads=False,
                    numba=False,
                    check_connectivity=False,
                )
        except self._pp.LoadflowNotConverged as error:
            self._warm = False
            raise PowerFlowDiverged(f"AC power flow did not converge: {error}") from None
        self._warm = True
        res_bus, res_line = self.net.res_bus, self.net.res_line
        n = network.n_bus
        v = res_bus["vm_pu"].loc[self._bus].to_numpy()
        p_flow, q_flow, loss, i_sq = (np.zeros(n) for _ in range(4))
        p_flow[self._line_to] = res_line["p_from_mw"].to_numpy() / base
        q_flow[self._line_to] = res_line["q_from_mvar"].to_numpy() / base
        loss[self._line_to] = res_line["pl_mw"].to_numpy() / base
        current_a = res_line["i_from_ka"].to_numpy() * 1000.0
        i_sq[self._line_to] = (current_a / network.current_base_a) ** 2
        return BranchFlowSolution(
            v_pu=v, p_pu=p_flow, q_pu=q_flow, current_sq_pu=i_sq, loss_pu=loss
        )
