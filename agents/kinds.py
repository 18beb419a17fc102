"""The Mesa agents of gridledger.

Each agent object is a thin view on its row of the area's columnar state (see
:mod:`agents.state`): numbers live in numpy arrays so whole kinds can be stepped at
once, while ``step()`` runs the same kernels for this agent alone (the per-agent
path, for custom strategies; it must agree with the vectorised path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
from mesa.discrete_space import CellAgent, FixedAgent

if TYPE_CHECKING:
    from agents.area import Area
    from chain.keys import Identity


class WalletHolder:
    """Mixin for agents with a wallet on the chain (a row of the area's ``Wallets``)."""

    area: Area
    wallet_row: int
    identity: Identity

    @property
    def global_id(self) -> int:
        """Run-wide agent id (Mesa's ``unique_id`` restarts in every area)."""
        return self.area.spec.id_offset + self.wallet_row

    @property
    def wallet_coins(self) -> float:
        """Balance the agent believes it holds, in coins."""
        return self.area.wallets.wallet_micro[self.wallet_row] / 1_000_000


class Prosumer(WalletHolder, FixedAgent):
    """A household: load, optional rooftop PV and battery; sells surplus, buys deficit."""

    def __init__(self, model: mesa.Model, area: Area, row: int, cell, identity: Identity):
        super().__init__(model)
        self.area, self.row, self.wallet_row, self.identity = area, row, row, identity
        self.cell = cell

    @property
    def state_of_charge_kwh(self) -> float:
        """Energy in the household battery."""
        return float(self.area.households.soc_kwh[self.row])

    @property
    def net_load_kwh(self) -> float:
        """Energy bought (positive) or sold (negative) in the last step."""
        return float(self.area.households.net_kwh[self.row])

    def step(self) -> None:
        """Net load against PV and battery for this household (per-agent path)."""
        self.area.act_households(self.row)


class ElectricVehicle(WalletHolder, CellAgent):
    """An EV that drives to work and back and charges when plugged in at home."""

    def __init__(self, model: mesa.Model, area: Area, row: int, cell, identity: Identity):
        super().__init__(model)
        self.area, self.row, self.identity = area, row, identity
        self.wallet_row = area.counts.households + row
        self.cell = cell

    @property
    def state_of_charge_kwh(self) -> float:
        """Energy in the EV battery."""
        return float(self.area.evs.soc_kwh[self.row])

    @property
    def plugged_in(self) -> bool:
        """Whether the EV was plugged in during the last step."""
        return bool(self.area.evs.plugged[self.row])

    def step(self) -> None:
        """Drive or charge for this EV (per-agent path)."""
        self.area.act_evs(self.row)


class ServiceProvider(WalletHolder, FixedAgent):
    """A charging station with its own generator, selling at marginal cost."""

    def __init__(self, model: mesa.Model, area: Area, row: int, cell, identity: Identity):
        super().__init__(model)
        self.area, self.row, self.identity = area, row, identity
        self.wallet_row = area.counts.households + area.counts.evs + row
        self.cell = cell

    def step(self) -> None:
        """Providers offer their capacity each step; nothing else to update."""


class Aggregator(FixedAgent):
    """One per station area: the area's memory pool and market contract.

    Collects the area's signed orders, drops any whose signature does not verify, and
    runs the market mechanism on the area's book before leftovers go cross-area.
    """

    def __init__(self, model: mesa.Model, area: Area, cell):
        super().__init__(model)
        self.area = area
        self.cell = cell
        self.orders_received = 0
        self.orders_rejected = 0
        self.payments_dropped = 0


class Miner(FixedAgent):
    """A validator (PoA sealer) hosted at a grid bus; seals and checks blocks."""

    def __init__(self, model: mesa.Model, index: int, cell, identity: Identity):
        super().__init__(model)
        self.index, self.identity = index, identity
        self.cell = cell

    @property
    def blocks_sealed(self) -> int:
        """Blocks this validator proposed so far."""
        return self.model.blocks_by_proposer.get(self.identity.public_hex, 0)


class GridOperator(FixedAgent):
    """Sets tariffs and buys or sells whatever the peer market leaves over.

    Also holds the supply side (``supply``: fixed capacity, demand-response signal,
    marginal generation price; :class:`agents.tariff.GridSupply`) and the latest
    locational marginal prices per area (:meth:`update_lmps`,
    :mod:`agents.powerflow.lmp`), for mechanisms that cap prices by them (seed 003
    Eq. 24).
    """

    def __init__(self, model: mesa.Model, cell, identity: Identity, tariff, supply=None):
        super().__init__(model)
        from agents.tariff import GridSupply

        self.identity, self.tariff = identity, tariff
        self.supply = supply if supply is not None else GridSupply()
        self.cell = cell
        self.area_lmps = None

    def update_lmps(
        self,
        network,
        demand_kw,
        stations,
        *,
        gen_bus=(),
        gen_capacity_kw=(),
        gen_price=(),
        retail_price: float,
        voltage_band_pu=(0.95, 1.05),
        demand_kvar=None,
    ):
        """Solve the DC OPF for the step's demand and keep the LMP of each area's station.

        The upstream grid is a generator at the substation with the supply capacity,
        offered at ``retail_price``; other generators (providers) are passed in.
        """
        from agents.powerflow.lmp import area_prices, dc_opf_lmp

        result = dc_opf_lmp(
            network,
            demand_kw,
            [network.root, *gen_bus],
            [self.supply.capacity_kw, *gen_capacity_kw],
            [retail_price, *gen_price],
            voltage_band_pu=voltage_band_pu,
            demand_kvar=demand_kvar,
        )
        self.area_lmps = area_prices(result.lmp, network, stations)
        return result
