"""The grid operator's per-step work on the driver: physical limits, LMPs, supply signals.

:class:`OperatorStep` reads the grid's ``limits``, ``supply`` and ``lmp`` settings
(:mod:`agents.grid_settings`) and, each step,

- :meth:`OperatorStep.apply_limits`: before settlement, cuts or charges providers'
  peer sales that would overload a line or lift a voltage above the band
  (:func:`agents.powerflow.limits.limit_trades`), from the step's power flow without
  those sales;
- :meth:`OperatorStep.signals`: after the step, the feeder's demand against the
  supply capacity (shortfall, seed 002's demand-response signal) and, with
  ``grid.lmp``, the DC-OPF LMPs per area (:mod:`agents.powerflow.lmp`), kept on the
  :class:`~agents.kinds.GridOperator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.behaviour import generator_offer_blocks
from agents.params import check
from agents.powerflow.ac import PowerFlowDiverged
from agents.powerflow.limits import GridLimits, limit_trades
from agents.powerflow.lmp import OpfFailed
from agents.settlement import GRID_EXPORT, GRID_IMPORT, P2P_CROSS

#: Per-step grid-operator metrics (nan where the grid has no power flow).
OPERATOR_KEYS = (
    "grid_demand_kw",
    "grid_shortfall_kw",
    "dr_signal",
    "lmp_min_coins_per_kwh",
    "lmp_max_coins_per_kwh",
)

PROVIDER_KIND = 3
GRID_OPERATOR_ID = 0


class OperatorStep:
    """Limits, LMPs and supply signals for one model (see the module docstring).

    Attributes:
        limits: The limit rule.
        supply: The supply side (``None``: the grid operator's default).
        lmp_enabled: Whether LMPs are computed each step.
        limited_wh: Energy of providers' sales above their headroom so far.
        network_charge_coins: Network charges kept under the ``price`` rule so far.
    """

    def __init__(self, model: Any, grid: Any):
        self.model = model
        self.limits = getattr(grid, "limits", None) or GridLimits()
        self.supply = getattr(grid, "supply", None)
        self.lmp_enabled = bool(getattr(grid, "lmp", False))
        self.limited_wh = 0
        self.network_charge_coins = 0.0
        needs = "a grid with a power flow (grid=sce56 or grid=city, power_flow.engine != none)"
        if model.physics is None:
            check(
                self.limits.rule == "none",
                "limits.rule",
                f"none without {needs}",
                self.limits.rule,
            )
            check(not self.lmp_enabled, "lmp", f"false without {needs}", self.lmp_enabled)

    def _factors(self, step: int) -> tuple[float, float, float]:
        model = self.model
        s = step % (1440 // model.step_minutes)
        return (
            model.step_minutes / 60.0,
            float(model.background_factor[s]),
            float(model.plant_factor[s]),
        )

    @staticmethod
    def _agent_energies(decisions) -> tuple[np.ndarray, np.ndarray]:
        """Households' and EVs' bus energies of the step (providers excluded)."""
        bus = np.concatenate([d.bus_ids for d in decisions])
        return bus, np.concatenate([d.bus_net_kwh for d in decisions])

    def apply_limits(self, step, decisions, trades, kind, ctx):
        """The step's trades and kinds after the limit rule."""
        model = self.model
        if self.limits.rule == "none" or model.physics is None:
            return trades, kind
        dt_h, load_factor, plant_factor = self._factors(step)
        bus, net_kwh = self._agent_energies(decisions)
        try:
            base = model.physics.solve_step(
                bus, net_kwh, dt_h, load_factor=load_factor, plant_factor=plant_factor
            )
        except PowerFlowDiverged:
            return trades, kind
        sale = (model.agent_kind[trades.seller] == PROVIDER_KIND) & (kind <= P2P_CROSS)
        seller_bus = model.station_of_area[np.maximum(model.agent_area[trades.seller], 0)]
        result = limit_trades(
            self.limits,
            model.physics,
            trades,
            kind,
            sale,
            seller_bus,
            base,
            dt_h,
            ctx.tariff,
            GRID_OPERATOR_ID,
            GRID_IMPORT,
            GRID_EXPORT,
        )
        self.limited_wh += result.limited_wh
        self.network_charge_coins += result.network_charge_coins
        model.totals["grid_limited_kwh"] = self.limited_wh / 1000.0
        return result.trades, result.kind

    def signals(self, step, decisions, ctx) -> dict[str, float]:
        """Demand against supply capacity, the DR signal and (with ``lmp``) area LMPs."""
        model = self.model
        out = dict.fromkeys(OPERATOR_KEYS, float("nan"))
        if model.physics is None:
            return out
        dt_h, load_factor, plant_factor = self._factors(step)
        bus, net_kwh = self._agent_energies(decisions)
        p_agents, q_agents = model.physics.agent_injections(bus, net_kwh, dt_h)
        p_back, q_back = model.physics.background_injections(load_factor, plant_factor)
        demand_kw = -(p_agents + p_back)
        supply = model.grid_operator.supply
        total_kw = float(demand_kw.sum())
        out["grid_demand_kw"] = total_kw
        out["grid_shortfall_kw"] = float(supply.shortfall_kw(total_kw))
        out["dr_signal"] = float(supply.demand_response_signal(total_kw))
        model.totals["grid_shortfall_kwh"] = (
            model.totals.get("grid_shortfall_kwh", 0.0) + out["grid_shortfall_kw"] * dt_h
        )
        if not self.lmp_enabled:
            return out
        params = model.population.providers
        block_wh, block_price = generator_offer_blocks(
            params.capacity_kw,
            dt_h,
            params.cost_quadratic_coins_per_kwh2,
            params.cost_linear_coins_per_kwh,
            params.offer_blocks,
        )
        n_providers = model.population.providers_per_area if block_wh > 0 else 0
        network = model.physics.network
        stations = network.bus_index(model.station_of_area)
        gen_bus = np.repeat(stations, n_providers * params.offer_blocks)
        settings = model.physics.settings
        try:
            model.grid_operator.update_lmps(
                network,
                demand_kw,
                model.station_of_area,
                gen_bus=gen_bus,
                gen_capacity_kw=np.full(len(gen_bus), block_wh / 1000.0 / dt_h),
                gen_price=np.tile(block_price, len(stations) * n_providers),
                retail_price=ctx.tariff,
                voltage_band_pu=(settings.v_min_pu, settings.v_max_pu),
                demand_kvar=-(q_agents + q_back),
            )
        except OpfFailed:
            return out
        lmps = model.grid_operator.area_lmps
        out["lmp_min_coins_per_kwh"] = float(lmps.min())
        out["lmp_max_coins_per_kwh"] = float(lmps.max())
        return out
