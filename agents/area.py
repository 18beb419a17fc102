"""A station area: the unit of work that a runtime steps in one process or a Ray actor.

An :class:`Area` owns its Mesa world (the area's feeder as a network space with its
agents), the agents' columnar state, their keys, and the local order book. Each step
the driver asks it to :meth:`Area.decide` (physics, bidding, signed orders, local
clearing by the aggregator) and later to :meth:`Area.settle` (sign the payments its
agents owe for the step's trades).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from agents.behaviour import (
    battery_dispatch,
    charging_willingness,
    ev_step,
    generator_offer_blocks,
    limit_price,
)
from agents.cell_moves import move_agents
from agents.kinds import Aggregator, ElectricVehicle, Prosumer, ServiceProvider
from agents.market_columns import OrderRows, build_columns, check_columns
from agents.market_feedback import Transfers, apply_feedback, feedback_of, transfers_of
from agents.miners import EV as MINER_EV
from agents.miners import MinerCandidates, draw_miner_attributes
from agents.netting import ClearingAccount, sign_area_legs
from agents.orders import order_messages, sign_orders, verify_orders
from agents.population import AreaCounts, Population
from agents.profiles import (
    KIND_PROFILES,
    DayProfiles,
    clear_sky_pv_shape,
    commercial_load_shape,
    draw_profile_types,
    industrial_load_shape,
    residential_load_shape,
    step_mid_hours,
)
from agents.settlement import GRID_OPERATOR_ID, SettlementBatch, payment_micro, price_micro
from agents.signing import gc_paused
from agents.state import (
    COMMERCIAL,
    INDUSTRIAL,
    EVState,
    HouseholdState,
    MarketState,
    ProviderState,
    Wallets,
)
from agents.tariff import TimeOfUseTariff
from agents.trips import EVRoutes, away_mask, step_trip_km
from chain.keyring import KeyRing
from chain.transaction import SignedTransaction, Transaction
from market import BUY, SELL, MarketContext, OrderBook, Trades, book_columns_of, residual_book

AGENT_PATHS = ("vectorized", "per_agent")


@dataclass(frozen=True)
class AreaSpec:
    """Everything needed to build an area in any process (picklable).

    Attributes:
        area_id: Station area id (areas are ordered by it everywhere).
        counts: Agents per kind in this area.
        population: Parameter distributions.
        tariff: The grid operator's tariff (sets the bidding band).
        market: The market mechanism the aggregator runs locally.
        graph: The area's buses and lines.
        seed: This area's child of the run's ``SeedSequence``.
        run_seed: The run's seed (identities are derived from it and the agent id).
        id_offset: Global id of the area's first wallet holder.
        chain_id: Chain the area's payments go to.
        step_minutes: Length of a step.
        agent_path: "vectorized" (kernels over arrays) or "per_agent" (Mesa ``step()``).
        sign_orders: Whether orders are signed and verified by the aggregator.
        sample_size: How many of the area's agents are reported each step.
    """

    area_id: int
    counts: AreaCounts
    population: Population
    tariff: TimeOfUseTariff
    market: Any
    graph: nx.Graph
    seed: np.random.SeedSequence
    run_seed: int
    id_offset: int
    chain_id: str
    step_minutes: int
    agent_path: str = "vectorized"
    sign_orders: bool = True
    sample_size: int = 100
    profiles: DayProfiles | None = None


@dataclass(frozen=True)
class AreaDecision:
    """An area's output for one step, before cross-area clearing.

    Attributes:
        area_id: The area.
        local_trades: Trades the aggregator cleared inside the area.
        residual: Orders (or parts) left after local clearing, for the cross-area round.
        energy_kwh: Area totals of the step's physical quantities.
        orders: Orders received by the aggregator.
        orders_rejected: Orders dropped because their signature did not verify.
        market_diagnostics: The local clearing's diagnostics.
        transfers: Penalties and incentives of the local clearing (not yet paid).
        local_chain_tag: Chain tag of each local trade from the mechanism's
            ``trade_columns['chain']`` (0 = LETB, 1 = RETB for ``local_re``; all 0
            when the mechanism gives none); the ``dual`` layout routes by it.
    """

    area_id: int
    local_trades: Trades
    residual: OrderBook
    energy_kwh: dict[str, float]
    orders: int
    orders_rejected: int
    bus_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bus_net_kwh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    market_diagnostics: dict[str, float] = field(default_factory=dict)
    transfers: Transfers = field(default_factory=Transfers.empty)
    local_chain_tag: np.ndarray | None = None


class AreaWorld(mesa.Model):
    """The Mesa model of one station area: its feeder as a network space."""

    def __init__(self, graph: nx.Graph, seed: np.random.SeedSequence):
        super().__init__(rng=np.random.default_rng(seed))
        self.space = Network(graph, random=self.random)


class Area:
    """One station area: agents, their state arrays and keys, and the aggregator."""

    def __init__(self, spec: AreaSpec):
        if spec.agent_path not in AGENT_PATHS:
            raise ValueError(f"agent_path must be one of {AGENT_PATHS} (got {spec.agent_path!r})")
        self.spec = spec
        self.counts = spec.counts
        self.world = AreaWorld(spec.graph, spec.seed)
        self.dt_h = spec.step_minutes / 60.0
        self.steps_per_day = 24 * 60 // spec.step_minutes
        rng = self.world.rng
        pop = spec.population
        stations = [n for n, d in spec.graph.nodes(data=True) if d["kind"] == "station"]
        self.station = stations[0]
        all_buses = np.array(sorted(spec.graph.nodes), dtype=np.int64)
        homes = all_buses[all_buses != self.station]
        homes = homes if len(homes) else all_buses
        self.households = HouseholdState.draw(self.counts, pop.households, homes, rng)
        self.evs = EVState.draw(
            self.counts.evs,
            pop.evs,
            self.households.bus,
            homes,
            spec.step_minutes,
            rng,
            graph=spec.graph,
            trip_rng=_child_rng(spec.seed, 0x54524950),  # "TRIP"
        )
        self.ev_routes = EVRoutes(spec.graph, self.evs.home_bus, self.evs.work_bus)
        self.profile_type = None
        if spec.profiles is not None:
            # Own stream (a child key of the area's seed) so the other draws stay unchanged.
            types_seed = np.random.SeedSequence(
                spec.seed.entropy, spawn_key=(*spec.seed.spawn_key, 0x50524F46)
            )
            self.profile_type = draw_profile_types(
                np.random.default_rng(types_seed),
                self.counts.households,
                len(spec.profiles.load_types),
            )
        self.providers = ProviderState.create(
            self.counts.providers,
            pop.providers,
            self.station,
            self.counts.renewable_providers,
            pop.renewables,
        )
        self._other_chain_nonces: dict[str, np.ndarray] = {}
        self.clearing = ClearingAccount(spec.run_seed, spec.area_id)  # net settlement only
        self.wallets = Wallets.create(
            np.concatenate(
                [
                    np.full(self.counts.households, pop.households.wallet_coins),
                    np.full(self.counts.evs, pop.evs.wallet_coins),
                    np.where(
                        self.providers.renewable,
                        pop.renewables.wallet_coins,
                        pop.providers.wallet_coins,
                    ),
                ]
            ),
            generates=np.concatenate(
                [
                    self.households.pv_peak_kw > 0,
                    np.zeros(self.counts.evs + self.counts.providers, dtype=bool),
                ]
            ),
        )
        # The market's memory of each agent; its own stream leaves the other draws unchanged.
        market_seed = np.random.SeedSequence(
            spec.seed.entropy, spawn_key=(*spec.seed.spawn_key, 0x4D4B5453)
        )
        self.market_state = MarketState.draw(self.counts, pop, np.random.default_rng(market_seed))
        self.book_columns = book_columns_of(spec.market)
        check_columns(self.book_columns)
        self.bus_position_km = {
            int(node): tuple(data.get("pos", (0.0, 0.0)))
            for node, data in spec.graph.nodes(data=True)
        }
        self._pv_shape = 0.0
        self._cloud_factor = 1.0
        self.lmp_coins_per_kwh: float | None = None
        self.tariff_now = spec.tariff.retail_price(0.0)
        # The agents' keys ("agent/<global id>", as Identity.derive) in two byte columns;
        # ``identities[row]`` signs like an Identity without a key object per agent.
        self.identities = KeyRing(spec.run_seed, spec.id_offset, self.counts.total)
        self.public_keys = self.identities.public_hexes
        # Mesa agent objects are views on the state arrays: the per-agent path steps
        # them, the vectorised path needs them only when someone looks (browser view,
        # tests), so there they are created on first access (see place_agents).
        self._agents_placed = False
        if spec.agent_path == "per_agent":
            self.place_agents()
        else:
            self.aggregator = Aggregator(self.world, self, self.world.space[self.station])
        self._step = -1
        self._hour = 0.0
        n = self.counts.total
        self.sample_rows = (
            np.unique(np.linspace(0, n - 1, min(spec.sample_size, n)).astype(np.int64))
            if n and spec.sample_size > 0
            else np.zeros(0, dtype=np.int64)
        )

    # ------------------------------------------------------------------ setup
    def place_agents(self) -> None:
        """Create the Mesa agents (households, EVs, providers) once, at their current buses.

        Called at construction on the per-agent path and on first access of
        :attr:`prosumers`, :attr:`vehicles` or :attr:`service_providers` on the
        vectorised path, where a large run never pays for a Python object per agent.
        EVs are placed where their trip has taken them (``EVState.position_bus``) and
        follow it from then on.
        """
        if self._agents_placed:
            return
        self._agents_placed = True
        space, ids = self.world.space, self.identities
        h, e = self.counts.households, self.counts.evs
        self._prosumers = [
            Prosumer(self.world, self, i, space[int(bus)], ids[i])
            for i, bus in enumerate(self.households.bus)
        ]
        self._vehicles = [
            ElectricVehicle(self.world, self, j, space[int(bus)], ids[h + j])
            for j, bus in enumerate(self.evs.position_bus)
        ]
        self._service_providers = [
            ServiceProvider(self.world, self, k, space[int(bus)], ids[h + e + k])
            for k, bus in enumerate(self.providers.bus)
        ]
        if not hasattr(self, "aggregator"):
            self.aggregator = Aggregator(self.world, self, space[self.station])

    @property
    def prosumers(self) -> list[Prosumer]:
        """The households' Mesa agents (created on first access on the vectorised path)."""
        self.place_agents()
        return self._prosumers

    @property
    def vehicles(self) -> list[ElectricVehicle]:
        """The EVs' Mesa agents (created on first access on the vectorised path)."""
        self.place_agents()
        return self._vehicles

    @property
    def service_providers(self) -> list[ServiceProvider]:
        """The providers' Mesa agents (created on first access on the vectorised path)."""
        self.place_agents()
        return self._service_providers

    @property
    def genesis_balances_micro(self) -> dict[str, int]:
        """Public key -> genesis balance of every wallet holder of the area."""
        return dict(zip(self.public_keys, self.wallets.wallet_micro.tolist(), strict=True))

    # ------------------------------------------------------------------ acting
    def act_households(self, rows: int | slice) -> None:
        """Net load against PV and battery, self-consumption first (one row or all)."""
        hh, params = self.households, self.spec.population.households
        net = hh.load_kwh[rows] - hh.pv_kwh[rows]
        low, high = params.battery_soc_bounds
        charge, discharge, soc = battery_dispatch(
            net,
            hh.soc_kwh[rows],
            hh.battery_capacity_kwh[rows],
            params.battery_power_kw,
            self.dt_h,
            params.battery_efficiency,
            low,
            high,
        )
        hh.charge_kwh[rows], hh.discharge_kwh[rows], hh.soc_kwh[rows] = charge, discharge, soc
        hh.net_kwh[rows] = net + charge - discharge

    def act_evs(self, rows: int | slice) -> None:
        """Drive along the path, charge or sell (V2G), and move on the graph (one row or all).

        The single place for EV behaviour: the away window and the trip's progress along
        its shortest path come from :mod:`agents.trips` (seed 000 Eq. 4, advanced at
        ``speed_kmh``; the step's energy is the km driven in it times ``leg_kwh /
        leg_km``), the energy from :func:`agents.behaviour.ev_step`; V2G EVs sell above
        their reserve and next trip during the tariff's peak band (seed 000 §3.3.2), and
        charge otherwise. ``position_bus`` is the bus reached at the end of the step.
        """
        ev, params = self.evs, self.spec.population.evs
        step_of_day = self._step % self.steps_per_day
        depart, arrive = ev.depart_step[rows], ev.arrive_step[rows]
        plugged = ~away_mask(step_of_day, depart, arrive)
        leg_km, leg_kwh = ev.leg_km[rows], ev.leg_kwh[rows]
        driven_km, at_km = step_trip_km(
            step_of_day, depart, arrive, leg_km, params.speed_kmh * self.dt_h, self.steps_per_day
        )
        kwh_per_km = np.divide(leg_kwh, leg_km, out=np.zeros_like(leg_kwh), where=leg_km > 0)
        drive = driven_km * kwh_per_km
        tariff = self.spec.tariff
        peak = tariff.retail_price(self._hour) >= tariff.peak_coins_per_kwh
        charge_wh, discharge_wh, driven, soc = ev_step(
            plugged,
            ev.v2g[rows] & peak,
            drive,
            ev.soc_kwh[rows],
            ev.capacity_kwh[rows],
            params.charge_power_kw,
            self.dt_h,
            params.charge_efficiency,
            params.target_soc,
            ev.reserve_kwh[rows] + 2.0 * leg_kwh,
        )
        ev.plugged[rows], ev.charge_wh[rows], ev.driven_kwh[rows], ev.soc_kwh[rows] = (
            plugged,
            charge_wh,
            driven,
            soc,
        )
        ev.discharge_wh[rows] = discharge_wh
        ev.utility_weight[rows] = charging_willingness(
            params.utility_sigma, soc, ev.capacity_kwh[rows]
        )
        indices = np.atleast_1d(np.arange(len(ev.soc_kwh))[rows])
        position = self.ev_routes.bus_at(indices, at_km)
        moved = np.flatnonzero(position != ev.position_bus[indices])
        ev.position_bus[indices] = position
        if self._agents_placed:  # Mesa agents exist only once someone asked for them
            space, vehicles = self.world.space, self._vehicles
            movers = indices[moved].tolist()
            move_agents(
                [vehicles[j] for j in movers],
                [space[int(bus)] for bus in position[moved].tolist()],
            )

    # ------------------------------------------------------------------ one step
    def decide(self, step: int, lmp: float | None = None) -> AreaDecision:
        """Physics, bidding, signed orders and local clearing for ``step``.

        ``lmp``: the grid operator's last locational marginal price at the area's
        station (seed 003 Eq. 24's cap, the ``lmp`` column); None uses the tariff.
        """
        self._step = step
        self.lmp_coins_per_kwh = lmp
        self._hour = float(step_mid_hours(step % self.steps_per_day, self.spec.step_minutes))
        ctx = self.market_context(step)
        self.tariff_now = ctx.tariff
        self._draw_exogenous()
        if self.spec.agent_path == "vectorized":
            self.act_households(slice(None))
            self.act_evs(slice(None))
        else:
            for kind in (Prosumer, ElectricVehicle, ServiceProvider):
                if kind in self.world.agent_types:
                    self.world.agents_by_type[kind].shuffle_do("step")
        book, rejected = self._collect_orders(step, ctx)
        self._charge_grid_only_cost(book, ctx)
        result = self.spec.market.clear(book, ctx)
        apply_feedback(self.market_state, feedback_of(book, result), self.spec.id_offset)
        return AreaDecision(
            area_id=self.spec.area_id,
            local_trades=result.trades,
            residual=residual_book(book, result),
            energy_kwh=self._energy_totals(),
            orders=len(book) + rejected,
            orders_rejected=rejected,
            **self._bus_energies(),
            market_diagnostics=dict(result.diagnostics),
            transfers=transfers_of(book, result, GRID_OPERATOR_ID),
            local_chain_tag=_chain_tag(result.trade_columns, len(result.trades)),
        )

    def _bus_energies(self) -> dict[str, np.ndarray]:
        """Energy each household and charging EV draws at its bus this step (kWh)."""
        hh, ev = self.households, self.evs
        active = (ev.charge_wh > 0) | (ev.discharge_wh > 0)
        return {
            "bus_ids": np.concatenate([hh.bus, ev.home_bus[active]]),
            "bus_net_kwh": np.concatenate(
                [hh.net_kwh, (ev.charge_wh[active] - ev.discharge_wh[active]) / 1000.0]
            ),
        }

    def miner_candidates(self) -> MinerCandidates:
        """This area's entities for miner selection (seed 000 Algorithm 1)."""
        return area_miner_candidates(self)

    def market_context(self, step: int) -> MarketContext:
        """Tariffs in force during ``step``."""
        return self.spec.tariff.market_context(step, self.spec.step_minutes)

    def _draw_exogenous(self) -> None:
        """This step's weather and demand noise, drawn in a fixed order from the area rng."""
        rng, hh, params = self.world.rng, self.households, self.spec.population.households
        cloud_factor = rng.uniform(0.7, 1.0)
        sigma = params.load_noise_sigma
        noise = rng.lognormal(-0.5 * sigma**2, sigma, size=len(hh.mean_load_kw))
        kind = hh.kind
        if self.spec.profiles is None:
            load_shape = residential_load_shape(self._hour)
            if kind.any():
                shapes = np.array(
                    [
                        load_shape,
                        commercial_load_shape(self._hour),
                        industrial_load_shape(self._hour),
                    ]
                )
                load_shape = shapes[kind]
            pv_shape = clear_sky_pv_shape(self._hour)
        else:
            day, s = self.spec.profiles, self._step % self.steps_per_day
            load_shape = day.load_types[self.profile_type, s]
            if kind.any():
                load_shape = load_shape.copy()
                for code, name in ((COMMERCIAL, "commercial"), (INDUSTRIAL, "industrial")):
                    load_shape[kind == code] = day.load[KIND_PROFILES[name]][s]
            pv_shape = day.pv_kw_per_kwp[s]
        hh.load_kwh[:] = hh.mean_load_kw * load_shape * noise * self.dt_h
        hh.pv_kwh[:] = hh.pv_peak_kw * pv_shape * cloud_factor * self.dt_h
        self._pv_shape, self._cloud_factor = float(pv_shape), float(cloud_factor)

    def _collect_orders(self, step: int, ctx: MarketContext) -> tuple[OrderBook, int]:
        """Every agent's order for the step, signed, verified by the aggregator."""
        hh, ev = self.households, self.evs
        params = self.spec.population.providers
        net_wh = np.rint(hh.net_kwh * 1000.0).astype(np.int64)
        h_rows = np.flatnonzero(net_wh != 0)
        h_buy = net_wh[h_rows] > 0
        h_price = limit_price(
            np.where(h_buy, hh.bid_markup[h_rows], hh.ask_markup[h_rows]),
            ctx.tariff,
            ctx.feed_in_tariff,
        )
        # EVs buy what they charge; V2G EVs sell what they discharge (seed 000 §3.3).
        e_rows = np.flatnonzero((ev.charge_wh > 0) | (ev.discharge_wh > 0))
        e_buy = ev.charge_wh[e_rows] > 0
        e_price = limit_price(
            np.where(e_buy, ev.bid_markup[e_rows], ev.ask_markup[e_rows]),
            ctx.tariff,
            ctx.feed_in_tariff,
        )
        block_wh, block_price = generator_offer_blocks(
            params.capacity_kw,
            self.dt_h,
            params.cost_quadratic_coins_per_kwh2,
            params.cost_linear_coins_per_kwh,
            params.offer_blocks,
        )
        n_blocks = params.offer_blocks if block_wh > 0 else 0
        generators = np.flatnonzero(~self.providers.renewable)
        rep_rows, rep_wh = self._renewable_offers()
        p_rows = np.concatenate([np.repeat(generators, n_blocks), rep_rows])
        p_block = np.concatenate([np.tile(np.arange(n_blocks), len(generators)), 0 * rep_rows])
        p_block_wh = np.concatenate([np.full(n_blocks * len(generators), block_wh), rep_wh])
        h_count, e_count = self.counts.households, self.counts.evs
        wallet_row = np.concatenate([h_rows, h_count + e_rows, h_count + e_count + p_rows])
        side = np.concatenate(
            [np.where(h_buy, BUY, SELL), np.where(e_buy, BUY, SELL), np.full(len(p_rows), SELL)]
        ).astype(np.int8)
        quantity = np.concatenate(
            [
                np.abs(net_wh[h_rows]),
                np.where(e_buy, ev.charge_wh[e_rows], ev.discharge_wh[e_rows]),
                p_block_wh,
            ]
        ).astype(np.int64)
        price = np.concatenate(
            [
                h_price,
                e_price,
                np.tile(block_price, len(generators)) if n_blocks else np.zeros(0),
                np.full(len(rep_rows), self.spec.population.renewables.price_coins_per_kwh),
            ]
        )
        # A generator produces only what it sells; a REP's unsold output is exported.
        dispatchable = np.concatenate(
            [
                np.zeros(len(h_rows) + len(e_rows), dtype=bool),
                ~self.providers.renewable[p_rows],
            ]
        )
        agent = self.spec.id_offset + wallet_row
        valid = np.ones(len(agent), dtype=bool)
        if self.spec.sign_orders and len(agent):
            messages = order_messages(
                self.spec.area_id, step, agent, side, quantity, price_micro(price)
            )
            signatures = sign_orders([self.identities[r] for r in wallet_row], messages)
            valid = verify_orders([self.public_keys[r] for r in wallet_row], messages, signatures)
        book = OrderBook.from_columns(
            agent=agent,
            side=side,
            quantity_wh=quantity,
            limit_price=price,
            area=np.full(len(agent), self.spec.area_id),
            dispatchable=dispatchable,
            extra=build_columns(
                self,
                self.book_columns,
                OrderRows(h_rows, e_rows, p_rows, p_block, p_block_wh.astype(float)),
            ),
        )
        rejected = int((~valid).sum())
        self.aggregator.orders_received += len(agent)
        self.aggregator.orders_rejected += rejected
        return (book.take(valid) if rejected else book), rejected

    def _renewable_offers(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the REPs with output this step and that output (whole Wh).

        A REP's plant follows the households' PV shape and the step's cloudiness.
        """
        rep = np.flatnonzero(self.providers.renewable)
        output_wh = np.floor(
            self.providers.capacity_kw[rep] * self._pv_shape * self._cloud_factor * self.dt_h * 1000
        )
        live = output_wh > 0
        return rep[live], output_wh[live].astype(np.int64)

    def _charge_grid_only_cost(self, book: OrderBook, ctx: MarketContext) -> None:
        """Add what this step's energy would cost with the grid operator alone."""
        rows = book.agent - self.spec.id_offset
        buy = book.side == BUY
        exported = (~buy) & (~book.dispatchable)
        cost = np.zeros(len(rows), dtype=np.int64)
        cost[buy] = payment_micro(book.quantity_wh[buy], price_micro(ctx.tariff))
        cost[exported] = -payment_micro(book.quantity_wh[exported], price_micro(ctx.feed_in_tariff))
        np.add.at(self.wallets.grid_only_cost_micro, rows, cost)
        # Seed 004's "traditional power system": every household's whole load bought
        # from the grid (no PV, no storage, no market).
        load_wh = np.rint(self.households.load_kwh * 1000.0).astype(np.int64)
        self.wallets.load_cost_micro[: len(load_wh)] += payment_micro(
            load_wh, price_micro(ctx.tariff)
        )

    def _energy_totals(self) -> dict[str, float]:
        hh, ev = self.households, self.evs
        eta = self.spec.population.households.battery_efficiency
        return {
            "load_kwh": float(hh.load_kwh.sum()),
            "pv_kwh": float(hh.pv_kwh.sum()),
            "battery_charge_kwh": float(hh.charge_kwh.sum()),
            "battery_discharge_kwh": float(hh.discharge_kwh.sum()),
            "battery_loss_kwh": float(
                (hh.charge_kwh * (1 - eta)).sum() + (hh.discharge_kwh * (1 / eta - 1)).sum()
            ),
            "battery_stored_kwh": float(hh.soc_kwh.sum()),
            "ev_charge_kwh": float(ev.charge_wh.sum() / 1000.0),
            "ev_discharge_kwh": float(ev.discharge_wh.sum() / 1000.0),
            "ev_drive_kwh": float(ev.driven_kwh.sum()),
            "ev_stored_kwh": float(ev.soc_kwh.sum()),
            "evs_plugged": float(ev.plugged.sum()),
            "household_net_kwh": float(hh.net_kwh.sum()),
        }

    # ------------------------------------------------------------------ settlement
    def settle(self, batch: SettlementBatch) -> tuple[list[SignedTransaction], dict]:
        """Sign the area's payments for a step and book payments and receipts.

        The cyclic garbage collector is paused meanwhile (:func:`agents.signing.gc_paused`).

        Returns:
            The signed transactions in trade-id order, and this step's sample of agent
            state (columns of equal length) for ``agents.parquet``.
        """
        with gc_paused():
            return self._settle_batch(batch)

    def _settle_batch(self, batch: SettlementBatch) -> tuple[list[SignedTransaction], dict]:
        """:meth:`settle`'s work."""
        offset, wallets = self.spec.id_offset, self.wallets
        payer_rows = batch.payer - offset
        signed = []
        if batch.sign_trades:
            signed = self._sign_payments(
                payer_rows,
                batch.chain_id,
                batch.receiver_key,
                batch.amount_micro,
                batch.kind,
                [
                    {"trade_id": t, "step": batch.step, "energy_wh": e, "price_micro_per_kwh": p}
                    for t, e, p in zip(
                        batch.trade_id.tolist(),
                        batch.energy_wh.tolist(),
                        batch.price_micro.tolist(),
                        strict=True,
                    )
                ],
                batch.timestamp_ms,
            )
        signed.extend(self._sign_transfers(batch))
        if batch.net is not None:
            # Net settlement (agents.netting): the window's legs of this area.
            signed.extend(sign_area_legs(self, batch.net, batch.timestamp_ms))
        np.subtract.at(wallets.wallet_micro, payer_rows, batch.amount_micro)
        np.add.at(wallets.paid_micro, payer_rows, batch.amount_micro)
        receipt_rows = batch.receipt_agent - offset
        np.add.at(wallets.wallet_micro, receipt_rows, batch.receipt_micro)
        np.add.at(wallets.received_micro, receipt_rows, batch.receipt_micro)
        first_provider = self.counts.households + self.counts.evs
        self.providers.sold_wh[:] = 0
        is_provider = receipt_rows >= first_provider
        np.add.at(
            self.providers.sold_wh,
            receipt_rows[is_provider] - first_provider,
            batch.receipt_energy_wh[is_provider],
        )
        apply_feedback(self.market_state, batch.feedback, offset)
        return signed, self.sample()

    def _sign_transfers(self, batch: SettlementBatch) -> list[SignedTransaction]:
        """Sign the market transfers the area's agents pay and book both sides."""
        offset, wallets, market = self.spec.id_offset, self.wallets, self.market_state
        payer_rows = batch.transfer_payer - offset
        signed = self._sign_payments(
            payer_rows,
            batch.transfer_chain_id,
            batch.transfer_receiver_key,
            batch.transfer_amount_micro,
            batch.transfer_kind,
            [
                {"transfer_id": int(batch.transfer_id[i]), "step": batch.step}
                for i in range(len(payer_rows))
            ],
            batch.timestamp_ms,
        )
        for rows, amounts, sign, ledger in (
            (payer_rows, batch.transfer_amount_micro, -1, market.penalty_micro),
            (
                batch.transfer_receipt_agent - offset,
                batch.transfer_receipt_micro,
                1,
                market.incentive_micro,
            ),
        ):
            np.add.at(wallets.wallet_micro, rows, sign * amounts)
            np.add.at(wallets.paid_micro if sign < 0 else wallets.received_micro, rows, amounts)
            np.add.at(ledger, rows, amounts)
        return signed

    def _sign_payments(
        self, payer_rows, chain_ids, receivers, amounts, kinds, payloads, timestamp_ms
    ) -> list[SignedTransaction]:
        """Sign one transaction per payer row, each on its chain with the next nonce.

        Every signature is verified right after signing, in the area's process (on the
        Ray worker under ``runtime=ray``): the aggregator is the first validator of its
        users' payments, so the driver's chain can admit the returned transactions with
        ``Chain.submit(..., verified=True)`` without verifying them again (the trust
        boundary is described in ``docs/consensus.md``). A payment whose signature
        does not verify is left out and counted in ``aggregator.payments_dropped``.

        ``chain_ids`` is None on a single-chain layout (everything on the home chain).
        """
        home = self.spec.chain_id
        keys, wallet_nonces = self.public_keys, self.wallets.nonce
        trusted, sign, verify = Transaction.trusted, self._sign, self.identities.verify
        signed = []
        amounts = np.asarray(amounts).tolist()
        for i, row in enumerate(payer_rows.tolist()):
            chain_id = chain_ids[i] if chain_ids is not None else home
            # One nonce sequence per chain: the wallet's own for the home chain.
            nonces = wallet_nonces if chain_id == home else self._chain_nonces(chain_id)
            nonce = int(nonces[row])
            nonces[row] = nonce + 1
            # Every field is the simulator's own (ring keys, ints from tolist(), the run's
            # chain ids and kinds): the unchecked constructor (Transaction.trusted).
            sender = keys[row]
            tx = trusted(
                chain_id,
                sender,
                receivers[i],
                amounts[i],
                nonce,
                kinds[i],
                payloads[i],
                timestamp_ms,
            )
            canonical = tx.canonical()
            signature = sign(row, canonical)
            # The aggregator checks the signature against the payer's registered key,
            # as every validator would; a payment that fails is dropped and counted,
            # and its nonce goes to the payer's next payment.
            if not verify(row, signature, canonical):
                nonces[row] = nonce
                self.aggregator.payments_dropped += 1
                continue
            signed.append(SignedTransaction(tx, tx.tx_hash, signature.hex()))
        return signed

    def _sign(self, row: int, message: bytes) -> bytes:
        """The payer's raw Ed25519 signature of ``message`` (one place, so tests can tamper)."""
        return self.identities.sign(row, message)

    def _chain_nonces(self, chain_id: str) -> np.ndarray:
        """Next nonce of every wallet on a chain other than the home chain (dual layout)."""
        nonces = self._other_chain_nonces
        if chain_id not in nonces:
            nonces[chain_id] = np.zeros(len(self.public_keys), dtype=np.int64)
        return nonces[chain_id]

    def sample(self) -> dict[str, np.ndarray]:
        """State of the sampled agents after the current step."""
        rows = self.sample_rows
        h = self.counts.households
        net = np.concatenate(
            [
                self.households.net_kwh,
                (self.evs.charge_wh - self.evs.discharge_wh) / 1000.0,
                -self.providers.sold_wh / 1000.0,
            ]
        )
        soc = np.concatenate(
            [self.households.soc_kwh, self.evs.soc_kwh, np.zeros(self.counts.providers)]
        )
        return {
            "step": np.full(len(rows), self._step, dtype=np.int64),
            "agent": self.spec.id_offset + rows,
            "net_kwh": net[rows],
            "soc_kwh": soc[rows],
            "wallet_coins": self.wallets.wallet_micro[rows] / 1_000_000,
            # Households and stations at their bus, EVs where their trip has taken them.
            "bus": np.concatenate([self.households.bus, self.evs.position_bus, self.providers.bus])[
                rows
            ],
            "plugged_in": np.concatenate(
                [np.zeros(h, bool), self.evs.plugged, np.zeros(self.counts.providers, bool)]
            )[rows],
            # The market's memory of the agent (seed 002 credit and points, seed 003).
            "credit": self.market_state.credit[rows].copy(),
            "reputation": self.market_state.reputation[rows].copy(),
            "incentive_points": self.market_state.incentive_points[rows].copy(),
        }


def _chain_tag(trade_columns, n_trades: int) -> np.ndarray:
    """The mechanism's per-trade chain tag, or zeros (LETB) when it gives none."""
    tag = trade_columns.get("chain") if trade_columns else None
    if tag is None:
        return np.zeros(n_trades, dtype=np.int8)
    return np.asarray(tag, dtype=np.int8)


# ---- agents-real: seeded side streams and miner candidates
def _child_rng(seed: np.random.SeedSequence, tag: int) -> np.random.Generator:
    """A generator on a child key of the area's seed, independent of the main stream."""
    return np.random.default_rng(
        np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, tag))
    )


def area_miner_candidates(area: Area) -> MinerCandidates:
    """The area's households and EVs as rows for seed 000 Algorithm 1 (:mod:`agents.miners`).

    Homes, buildings and industry are the residential, commercial and industrial
    households; power capacity = PV rating + battery power limit + mean demand; an
    EV's protocol time is the hours per day it is plugged in. Processing power and
    storage are drawn on their own stream of the area's seed.
    """
    hh, ev, spec = area.households, area.evs, area.spec
    params = spec.population.households
    n_h, n_e = len(hh.bus), len(ev.home_bus)
    kind = np.concatenate([hh.kind.astype(np.int64), np.full(n_e, MINER_EV)])
    battery_kw = np.where(hh.battery_capacity_kwh > 0, params.battery_power_kw, 0.0)
    away_steps = (ev.arrive_step - ev.depart_step) % area.steps_per_day
    rates, storage = draw_miner_attributes(
        kind,
        spec.population.miners,
        _child_rng(spec.seed, 0x4D494E45),  # "MINE"
    )
    return MinerCandidates(
        agent=spec.id_offset + np.arange(n_h + n_e, dtype=np.int64),
        kind=kind,
        bus=np.concatenate([hh.bus, ev.home_bus]).astype(np.int64),
        power_capacity_kw=np.concatenate(
            [hh.pv_peak_kw + battery_kw + hh.mean_load_kw, np.zeros(n_e)]
        ),
        protocol_time_h=np.concatenate([np.zeros(n_h), 24.0 - away_steps * area.dt_h]),
        hash_rate_hps=rates,
        storage_gb=storage,
    )


# ---- end agents-real
