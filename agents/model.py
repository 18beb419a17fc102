"""The driver: a Mesa model of the whole grid that steps areas, clears and settles.

``GridModel`` owns what is shared by all station areas: the feeder graph (as a Mesa
network space), the grid operator, the validators, the cross-area market and the
chain. The areas themselves run in a :mod:`runtime <agents.runtime>` (this process
or Ray actors); cross-area work is always ordered by area id, which is what makes a
run a pure function of its config and seed.
"""

from __future__ import annotations

import dataclasses
import math
import os
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Network

from agents.area import AreaSpec
from agents.driver_settlement import routing, settle_step
from agents.invariants import CheckedMarket, StepInvariants
from agents.kinds import GridOperator, Miner
from agents.market_adversary import MarketAdversaries
from agents.market_feedback import Transfers, feedback_of, transfers_of
from agents.market_metrics import MarketMetrics
from agents.market_security import MarketSecurity
from agents.miners import MinerCandidates, select_miners
from agents.netting import (
    NetWindow,
    SettlementConfig,
    clearing_identity,
)
from agents.operator import OperatorStep
from agents.params import check, is_integer
from agents.population import Population
from agents.powerflow import PowerFlowResult, PowerFlowSummary
from agents.powerflow.ac import PowerFlowDiverged
from agents.profiles import DayProfiles, Site, cloudiness_factors
from agents.run_log import RunLog, trade_tx_hashes
from agents.security import RunSecurity
from agents.settlement import (
    GRID_EXPORT,
    GRID_IMPORT,
    GRID_OPERATOR_ID,
    P2P_CROSS,
    P2P_LOCAL,
    TRADE_KINDS,
    payment_micro,
    price_micro,
)
from agents.step_metrics import add_to_totals, empty_metrics, step_metrics
from agents.tariff import TimeOfUseTariff
from agents.topology import SUBSTATION, area_buses, station_bus
from chain.keys import Identity
from chain.layouts import LayoutConfig, build_layout, home_chain_ids
from chain.miner_set import miner_set_transaction
from market import MarketContext, OrderBook, Trades, settle_with_grid

KIND_NAMES = ("grid_operator", "household", "ev", "provider")


class GridModel(mesa.Model):
    """A day (or more) of peer-to-peer energy trading on a blockchain.

    Args:
        market: Market mechanism (``clear(book, ctx)``), used in every area and across.
        consensus: Consensus plug-in for the chain (e.g. proof-of-authority).
        grid: Topology builder (``build(rng) -> networkx.Graph``, ``n_areas``).
        population: Agent counts and parameter distributions.
        tariff: The grid operator's tariffs.
        runtime: Where the areas run (local or Ray).
        seed: The run's seed; everything random derives from it.
        step_minutes: Length of one market step.
        steps: Number of steps to run.
        chain_id: Identifier of the chain (multi-chain layouts derive theirs from it).
        layout: Chain layout (``single`` when None): one chain, shards per area,
            alliance chains under a beacon, or LETB + RETB.
        agent_path: "vectorized" or "per_agent" (must give identical results).
        sign_orders: Whether orders are signed and verified by the aggregators.
        agents_sample: How many agents are reported per step in total.
        check_invariants: Check coins, energy, blocks and trades after every step
            (:mod:`agents.invariants`; debug mode, slower).
        adversary: Attacks the run suffers (:class:`agents.adversary.AdversaryConfig`).
        dr_protocol: ``auto`` (on for the double auction), ``on`` or ``off``: seed
            001's demand-response protocol in front of peer-to-peer payments.
        settlement: How trades are paid on the chain (per trade, or net positions
            every ``period_steps`` through clearing accounts: :mod:`agents.netting`).
    """

    def __init__(
        self,
        *,
        market: Any,
        consensus: Any,
        grid: Any,
        population: Population,
        tariff: TimeOfUseTariff,
        runtime: Any,
        seed: int = 42,
        step_minutes: int = 15,
        steps: int = 96,
        chain_id: str = "main",
        agent_path: str = "vectorized",
        sign_orders: bool = True,
        agents_sample: int = 1000,
        layout: LayoutConfig | None = None,
        check_invariants: bool = False,
        adversary: Any = None,
        dr_protocol: str = "auto",
        settlement: SettlementConfig | None = None,
    ):
        check(
            is_integer(step_minutes) and 1 <= step_minutes <= 1440 and 1440 % step_minutes == 0,
            "step_minutes",
            "a whole number of minutes that divides a day (1, 5, 15, 30, 60, ...)",
            step_minutes,
        )
        check(is_integer(steps) and steps >= 1, "steps", "an integer >= 1", steps)
        check(is_integer(seed) and seed >= 0, "seed", "an integer >= 0", seed)
        root = np.random.SeedSequence(seed)
        # A fourth child for the feeder's weather leaves the first three unchanged.
        topology_seed, driver_seed, areas_seed, weather_seed = root.spawn(4)
        super().__init__(rng=np.random.default_rng(driver_seed))
        market = self._invariant_market(market, check_invariants)
        self.market, self.consensus, self.tariff = market, consensus, tariff
        self.runtime, self.population = runtime, population
        self.adversary, self.dr_protocol = adversary, dr_protocol
        self.settlement = settlement or SettlementConfig()
        self.netting = (
            NetWindow(self.settlement.period_steps, steps) if self.settlement.net else None
        )
        self.signed_transactions = 0  # payments and market transfers signed by the run
        self.seed, self.step_minutes, self.n_steps = seed, step_minutes, steps
        self.step_ms = step_minutes * 60_000
        self.graph = grid.build(np.random.default_rng(topology_seed))
        self.space = Network(self.graph, random=self.random)
        self.n_areas = grid.n_areas
        self._build_physics(grid, weather_seed)
        self.validator_buses = _validator_buses(self.graph)
        check(
            consensus.n_validators <= len(self.validator_buses),
            "n_validators",
            f"at most the number of grid buses ({len(self.validator_buses)})",
            consensus.n_validators,
        )
        counts = population.area_counts(self.n_areas)
        self._build_registry(counts)
        n_holders = len(self.agent_kind) - 1
        adversaries = MarketAdversaries.choose(adversary, seed, n_holders)
        self.market = market = adversaries.wrap(market)
        self.market_security = MarketSecurity(
            adversaries, n_holders, getattr(market, "cut_off_credit", None)
        )
        self.layout_config = layout or LayoutConfig()
        area_chain_ids = home_chain_ids(self.layout_config, chain_id, self.n_areas)
        specs = [
            AreaSpec(
                area_id=a,
                counts=counts[a],
                population=population,
                tariff=tariff,
                market=market,
                graph=self.graph.subgraph(area_buses(self.graph, a)).copy(),
                seed=seed_a,
                run_seed=seed,
                id_offset=int(self.area_offsets[a]),
                chain_id=area_chain_ids[a],
                step_minutes=step_minutes,
                agent_path=agent_path,
                sign_orders=sign_orders,
                sample_size=math.ceil(agents_sample / self.n_areas) if agents_sample else 0,
                profiles=self.day_profiles if population.profiles == "standard" else None,
            )
            for a, seed_a in enumerate(areas_seed.spawn(self.n_areas))
        ]
        self.runtime.start(specs)
        self._build_chain(chain_id)
        self._check_settlement()
        self.invariants = (
            StepInvariants(list(self.ledger_layout.chains.values())) if check_invariants else None
        )
        self.spill_dir: Path | None = None  # see spill_to
        # One entry per step; on disk once spill_to is called (agents.run_log).
        self.trade_log = RunLog("trades", categories={"kind": TRADE_KINDS})
        self.agent_log = RunLog("agents")
        self.metrics: dict[str, float] = {
            **empty_metrics(),
            **dict.fromkeys(self.security.metric_keys(), 0.0),
        }
        self.totals: dict[str, float] = {}
        self.provider_cost_coins = 0.0
        self._next_trade_id = 0
        self._next_transfer_id = 0
        self.market_metrics = MarketMetrics()
        self.market_values: dict[str, float] = {}
        self.market_transfer_totals = {"count": 0, "coins": 0.0}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self.metrics}
        )
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ construction
    def _build_registry(self, counts) -> None:
        """Global agent ids: 0 is the grid operator, then each area's wallet holders."""
        kinds, areas = [np.zeros(1, np.int8)], [np.full(1, -1, np.int32)]
        renewable = [np.zeros(1, bool)]
        offsets = []
        next_id = 1
        for a, c in enumerate(counts):
            offsets.append(next_id)
            kinds.append(
                np.repeat(np.array([1, 2, 3], np.int8), [c.households, c.evs, c.providers])
            )
            areas.append(np.full(c.total, a, np.int32))
            renewable.append(np.arange(c.total) >= c.total - c.renewable_providers)
            next_id += c.total
        self.area_offsets = np.array(offsets, dtype=np.int64)
        self.agent_kind = np.concatenate(kinds)
        self.agent_area = np.concatenate(areas)
        self.agent_renewable = np.concatenate(renewable)

    def _build_physics(self, grid: Any, weather_seed: np.random.SeedSequence) -> None:
        """Bind the grid's power-flow engine, if any, and precompute the day's factors."""
        power_flow = getattr(grid, "power_flow", None)
        self.physics = power_flow.bind(self.graph) if power_flow is not None else None
        self.operator_step = OperatorStep(self, grid)
        self.power_flow = None  # the last step's PowerFlowResult (drawn by the browser view)
        self.power_flow_summary = PowerFlowSummary(
            self.physics.engine if self.physics is not None else "none"
        )
        self.station_of_area = np.array(
            [station_bus(self.graph, a) for a in range(self.n_areas)], dtype=np.int64
        )
        self.day_profiles = None
        if self.physics is None and self.population.profiles != "standard":
            return
        # Standard profiles on every grid: grids without a site use the default Site().
        day = DayProfiles.build(getattr(grid, "site", None) or Site(), self.step_minutes)
        self.day_profiles = day
        if self.physics is None:
            return
        self.background_factor = day.peak_normalised(getattr(grid, "background_profile", "h0_dyn"))
        clouds = cloudiness_factors(np.random.default_rng(weather_seed), day.steps_per_day)
        self.plant_factor = day.pv_kw_per_kwp * clouds

    def _solve_power_flow(self, step: int, decisions, trades: Trades) -> dict[str, float]:
        """The step's power flow: agents at their buses, providers at their stations."""
        self.power_flow = None
        if self.physics is None:
            return PowerFlowResult.empty_metrics()
        sold = self.agent_kind[trades.seller] == 3
        bus = np.concatenate(
            [
                *(d.bus_ids for d in decisions),
                self.station_of_area[self.agent_area[trades.seller[sold]]],
            ]
        )
        net_kwh = np.concatenate(
            [*(d.bus_net_kwh for d in decisions), -trades.quantity_wh[sold] / 1000.0]
        )
        s = step % (1440 // self.step_minutes)
        dt_h = self.step_minutes / 60.0
        try:
            result = self.physics.solve_step(
                bus,
                net_kwh,
                dt_h,
                load_factor=float(self.background_factor[s]),
                plant_factor=float(self.plant_factor[s]),
            )
        except PowerFlowDiverged:
            return PowerFlowResult.empty_metrics()
        self.power_flow = result
        self.power_flow_summary.add(result, dt_h)
        return result.metrics()

    def _build_chain(self, chain_id: str) -> None:
        """Build the chain layout: its chains, validators (Mesa agents) and genesis split."""
        grid_identity = Identity.derive(self.seed, f"agent/{GRID_OPERATOR_ID}")
        self.grid_operator = GridOperator(
            self,
            self.space[SUBSTATION],
            grid_identity,
            self.tariff,
            supply=self.operator_step.supply,
        )
        single = self.layout_config.layout == "single"
        if single:
            hosts, identities = self._select_validators(grid_identity)
        else:
            # Multi-chain layouts place n_validators per chain themselves (docs/consensus.md).
            self.miner_pool, self.miner_selections = None, []
            self._standby_miners = {}
            hosts, identities = self.validator_buses, None
        self._single_hosts = hosts
        areas = [
            int(self.graph.nodes[hosts[k]]["area"]) for k in range(self.consensus.n_validators)
        ]
        if single and getattr(self.consensus, "needs_validator_areas", False):
            # Hybrid consensus (seed 002): bookkeepers are chosen per station area.
            check(
                set(range(self.n_areas)) <= set(areas),
                "n_validators",
                f"large enough to place a validator in each of the {self.n_areas} station areas "
                f"(at least {self.n_areas + 1}: the substation comes first)",
                self.consensus.n_validators,
            )
        self.public_keys = [grid_identity.public_hex]
        for keys in self.runtime.public_keys():
            self.public_keys.extend(keys)
        self.ledger_layout = build_layout(
            self.layout_config,
            self.consensus,
            chain_id=chain_id,
            seed=self.seed,
            area_balances=list(self.runtime.genesis_balances()),
            operator_key=grid_identity.public_hex,
            operator_micro=round(self.population.grid_operator_wallet_coins * 1_000_000),
            validator_areas=areas,
            validator_identities=identities,
        )
        self.clearing_keys = self._clearing_keys()
        self.security = RunSecurity(
            run_seed=self.seed,
            chain_id=chain_id,
            public_keys=self.public_keys,
            validators=self.ledger_layout.signers(),
            standby_validators=list(self._standby_miners.values()),
            adversary=self.adversary,
            dr_protocol=self.dr_protocol,
            market_name=getattr(self.market, "name", ""),
            market=self.market_security,
            clearing_keys=self.clearing_keys,
        )
        check(
            single or (self.security.dr is None and not self.security.injector.attackers),
            "layout",
            "single when adversary attacks or the demand-response protocol are on "
            "(they settle on one chain)",
            self.layout_config.layout,
        )
        self.ledger_layout.secure(self.security.registry, self.security.genesis_params())
        self.miners = [
            Miner(self, k, self.space[host], seat.identity)
            for k, (seat, host) in enumerate(
                zip(self.ledger_layout.seats, self._seat_hosts(), strict=True)
            )
        ]
        # The first chain (the only one of ``single``); multi-chain code uses ledger_layout.
        self.chain = self.ledger_layout.primary
        if single:
            self.consensus = self.chain.consensus  # hybrid: with its validator areas
        # Miners of later periods (seed 000 Algorithm 1): the chain seals with their keys
        # once a miner_set record brings them in.
        self.chain.enroll(self._standby_miners.values())
        self._grid_nonces: dict[str, int] = {}
        self.blocks_by_proposer: dict[str, int] = {}

    def _clearing_keys(self) -> list[str]:
        """Public keys of the areas' clearing accounts (net settlement only)."""
        if self.netting is None:
            return []
        return [clearing_identity(self.seed, a).public_hex for a in range(self.n_areas)]

    def _check_settlement(self) -> None:
        """Refuse net settlement where it is not supported (one chain, no DR, no attacks)."""
        if self.netting is None:
            return
        allowed = "per_trade (net settlement needs chain.layout=single, the DR protocol off "
        allowed += "and adversary=none)"
        kinds = getattr(self.adversary, "kinds", ()) if self.adversary is not None else ()
        check(
            self.layout_config.layout == "single" and self.security.dr is None and not kinds,
            "settlement.mode",
            allowed,
            self.settlement.mode,
        )

    def _seat_hosts(self) -> list[int]:
        """Bus of every validator of the layout.

        A station area's validators sit on its own buses (station first), the others
        in the order of :func:`_validator_buses`; buses are reused when too few.
        """
        ranked = self.validator_buses
        by_area: dict[int, list[int]] = {}
        for bus in ranked:
            by_area.setdefault(int(self.graph.nodes[bus].get("area", -1)), []).append(bus)
        hosts, used = [], {}
        for seat in self.ledger_layout.seats:
            if self.layout_config.layout == "single":
                hosts.append(self._single_hosts[seat.index])
                continue
            pool = by_area.get(seat.area, ranked) if seat.area >= 0 else ranked
            key = seat.area if seat.area >= 0 else -1
            hosts.append(pool[used.get(key, 0) % len(pool)])
            used[key] = used.get(key, 0) + 1
        return hosts

    def _select_validators(self, grid_identity: Identity) -> tuple[list[int], list[Identity]]:
        """Validator buses and identities; for ``chain=pow``, seed 000 Algorithm 1.

        With proof of work and ``population.miners.enabled``, the miners are chosen
        from the population's homes, buildings, industry and EVs by
        :func:`agents.miners.select_miners` (period 0); the consensus is rebuilt with
        their number and hash rates, each miner sits at its entity's bus and signs with
        a key of its own (``miner/<agent id>``; the wallet key stays in its area). The
        grid operator, which runs Algorithm 1, is the chain's miner-set authority:
        every later period's selection reaches the chain as a ``miner_set`` record
        (:meth:`reselect_miners`, :mod:`chain.miner_set`). The miners of every period
        of the run are registered with the certificate authority at genesis (the
        registry root is fixed there) and their keys are enrolled with the chain.
        """
        params = self.population.miners
        self.miner_pool = None
        self.miner_selections: list = []
        self._standby_miners: dict[str, Identity] = {}
        if getattr(self.consensus, "name", "") != "pow" or not params.enabled:
            hosts = self.validator_buses
            ids = [
                Identity.derive(self.seed, f"validator/{k}")
                for k in range(self.consensus.n_validators)
            ]
            return hosts, ids
        self.miner_pool = MinerCandidates.concat(self.runtime.miner_candidates())
        selection = select_miners(self.miner_pool, params, self.seed, period=0)
        self.miner_selections.append(selection)
        rows = selection.miners
        self.consensus = dataclasses.replace(
            self.consensus,
            n_validators=len(rows),
            hash_rates_hps=[int(r) for r in self.miner_pool.hash_rate_hps[rows]],
            miner_set_authority=grid_identity.public_hex,
        )
        hosts = [int(b) for b in self.miner_pool.bus[rows]]
        ids = [self._miner_identity(int(a)) for a in self.miner_pool.agent[rows]]
        genesis_keys = {identity.public_hex for identity in ids}
        n_periods = -(-self.n_steps // params.period_steps)
        for period in range(1, n_periods):
            later = select_miners(self.miner_pool, params, self.seed, period)
            for agent in self.miner_pool.agent[later.miners]:
                identity = self._miner_identity(int(agent))
                if identity.public_hex not in genesis_keys:
                    self._standby_miners[identity.public_hex] = identity
        return hosts, ids

    def _miner_identity(self, agent: int) -> Identity:
        return Identity.derive(self.seed, f"miner/{agent}")

    def reselect_miners(self, period: int):
        """Seed 000 Algorithm 1 for ``period`` (changed thresholds, new random pick).

        The new set is recorded on the chain by a ``miner_set`` record of the grid
        operator (:func:`chain.miner_set.miner_set_transaction`), stamped at the
        period's start; it takes effect at the block after the one that carries it.
        New miners join the Mesa validators at their entity's bus.
        """
        if self.miner_pool is None:
            return None
        selection = select_miners(self.miner_pool, self.population.miners, self.seed, period)
        self.miner_selections.append(selection)
        rows = selection.miners
        identities = [self._miner_identity(int(a)) for a in self.miner_pool.agent[rows]]
        keys = [identity.public_hex for identity in identities]
        if keys == list(self.chain.ledger.miner_schedule.latest.miners):
            return selection
        chain_id = self.chain.chain_id
        nonce = self._grid_nonces.get(chain_id, 0)
        self._grid_nonces[chain_id] = nonce + 1
        record = miner_set_transaction(
            self.grid_operator.identity,
            chain_id,
            nonce,
            period * self.population.miners.period_steps * self.step_ms,
            keys,
            [int(r) for r in self.miner_pool.hash_rate_hps[rows]],
            period,
        )
        rejected = self.chain.submit([record])
        if rejected:
            raise RuntimeError(f"miner_set record of period {period} refused: {rejected[0][1]}")
        known = {m.identity.public_hex for m in self.miners}
        for identity, bus in zip(identities, self.miner_pool.bus[rows], strict=True):
            if identity.public_hex not in known:
                cell = self.space[int(bus)]
                self.miners.append(Miner(self, len(self.miners), cell, identity))
        return selection

    # ------------------------------------------------------------------ stepping
    def market_context(self, step: int) -> MarketContext:
        """Tariffs in force during ``step`` (the same function every area uses)."""
        return self.tariff.market_context(step, self.step_minutes)

    def step(self) -> None:
        """One market step: decide, clear locally and across areas, pay, seal blocks."""
        step = self.steps - 1
        period_steps = self.population.miners.period_steps
        if self.miner_pool is not None and step and step % period_steps == 0:
            self.reselect_miners(step // period_steps)
        ctx = self.market_context(step)
        lmps = self.grid_operator.area_lmps  # last step's, for local_re's lmp column
        decisions = self.runtime.decide(step) if lmps is None else self.runtime.decide(step, lmps)
        residual = OrderBook.concat([d.residual for d in decisions])
        cross = self.market.clear(residual, ctx)
        transfers = Transfers.concat(
            [*(d.transfers for d in decisions), transfers_of(residual, cross, GRID_OPERATOR_ID)]
        )
        feedback = feedback_of(residual, cross)
        to_grid = settle_with_grid(residual, cross.residual_wh, ctx, GRID_OPERATOR_ID)
        local = Trades.concat([d.local_trades for d in decisions])
        trades = Trades.concat([local, cross.trades, to_grid])
        kind = np.concatenate(
            [
                np.full(len(local), P2P_LOCAL),
                np.full(len(cross.trades), P2P_CROSS),
                np.where(to_grid.seller == GRID_OPERATOR_ID, GRID_IMPORT, GRID_EXPORT),
            ]
        ).astype(np.int8)
        chain_tag = np.concatenate(
            [
                *(_local_chain_tag(d) for d in decisions),
                _chain_tag_of(cross.trade_columns, len(cross.trades)),
                np.zeros(len(to_grid), np.int8),  # grid trades: LETB under the dual layout
            ]
        )
        limited, kind = self.operator_step.apply_limits(step, decisions, trades, kind, ctx)
        chain_tag = _carry_chain_tags(trades, limited, chain_tag)
        trades = limited
        trade_id = self._next_trade_id + np.arange(len(trades), dtype=np.int64)
        self._next_trade_id += len(trades)
        prices = price_micro(trades.price)
        amounts = payment_micro(trades.quantity_wh, prices)
        timestamp_ms = step * self.step_ms
        signed, samples = settle_step(
            self,
            step,
            timestamp_ms,
            trades,
            kind,
            trade_id,
            prices,
            amounts,
            chain_tag,
            transfers,
            feedback,
        )
        if self.layout_config.layout == "single":
            # Identities, the DR protocol and the attacks act on the one chain.
            # Every signature in ``signed`` was verified where it was made (areas,
            # grid_tx + BatchSigner): the chain admits them without a second Ed25519 check.
            rejected = self.security.submit(self.chain, signed, timestamp_ms, verified=True)
        else:
            payer, payee = routing(self, signed, trades, trade_id, transfers)
            rejected = self.ledger_layout.submit(
                signed,
                self.agent_area[payer],
                self.agent_area[payee],
                [self.public_keys[s] for s in payee.tolist()],
                verified=True,
            )
        self._observe_market(step, decisions, cross, trades, amounts, transfers)
        blocks = self.ledger_layout.advance_to((step + 1) * self.step_ms)
        for block in blocks:
            proposer = block.header.proposer
            self.blocks_by_proposer[proposer] = self.blocks_by_proposer.get(proposer, 0) + 1
        self.signed_transactions += len(signed)
        self._log_step(step, trades, kind, trade_id, prices, amounts, signed, samples)
        physics = self._solve_power_flow(step, decisions, trades)
        physics.update(self.operator_step.signals(step, decisions, ctx))
        self._record(step, ctx, decisions, trades, kind, len(signed), rejected, blocks)
        self._record_market(decisions, cross.diagnostics, transfers)
        self.metrics.update(physics)
        self._check_invariants(step, ctx, residual, Trades.concat([cross.trades, to_grid]))
        self.metrics.update(self.security.metrics())
        self.datacollector.collect(self)

    def _observe_market(self, step, decisions, cross, trades, amounts, transfers) -> None:
        """Market adversaries' tallies; feed the users' credit to the chain layout.

        The areas' credit after this step's feedback (columnar, one array per area,
        read through the runtime so Ray areas answer too) goes to the layout's
        ``set_credit`` (sharded: the next cross-node selection follows it) and to
        :class:`agents.market_security.MarketSecurity`.
        """
        security = self.market_security
        set_credit = getattr(self.ledger_layout, "set_credit", None)
        credit = cut_off = None
        if set_credit is not None or len(security.adversaries.agents):
            states = self.runtime.market_states()
            credit = np.concatenate([[np.nan], *(s.credit for s in states)])
            cut_off = np.concatenate([[False], *(s.cut_off for s in states)])
            if set_credit is not None:
                for area, state in enumerate(states):
                    set_credit(area, state.credit)
        diagnostics = [*(d.market_diagnostics for d in decisions), cross.diagnostics]
        security.observe(step, diagnostics, trades, amounts, transfers, credit, cut_off)

    # ------------------------------------------------------------------ debug mode
    @staticmethod
    def _invariant_market(market: Any, check_invariants: bool) -> Any:
        """In debug mode, the market whose every clearing is checked (areas and across)."""
        return CheckedMarket(market) if check_invariants else market

    def _check_invariants(self, step: int, ctx, residual: OrderBook, settled: Trades) -> None:
        """In debug mode, check the step's invariants (:mod:`agents.invariants`)."""
        if self.invariants is not None:
            self.invariants.check_step(step, self.metrics, residual, settled, GRID_OPERATOR_ID, ctx)

    def _record(self, step, ctx, decisions, trades, kind, n_tx, rejected, blocks) -> None:
        """This step's model-level metrics (one row of model.parquet) and day totals."""
        chains = list(self.ledger_layout.chains.values())
        self.metrics, fuel_cost = step_metrics(
            self, step, ctx, decisions, trades, kind, n_tx, rejected, blocks, chains
        )
        self.provider_cost_coins += fuel_cost
        add_to_totals(self.totals, self.metrics)

    def _record_market(self, decisions, cross_diagnostics, transfers) -> None:
        """The mechanism's diagnostics of this step as ``market_*`` columns of model.parquet."""
        self.market_values = self.market_metrics.step(
            [d.market_diagnostics for d in decisions], cross_diagnostics
        )
        self.market_values["market_transfers"] = float(len(transfers))
        self.market_values["market_transfers_coins"] = float(transfers.amount_micro.sum()) / 1e6
        self.market_transfer_totals["count"] += len(transfers)
        self.market_transfer_totals["coins"] += float(transfers.amount_micro.sum()) / 1e6
        collector = self.datacollector
        for name in self.market_values:
            if name not in collector.model_reporters:
                # A diagnostic seen for the first time: earlier rows hold NaN.
                collected = len(next(iter(collector.model_vars.values())))
                collector._new_model_reporter(name, _market_reporter(name))
                collector.model_vars[name] = [float("nan")] * collected

    def spill_to(self, directory: str | os.PathLike[str]) -> None:
        """Keep what the run has logged so far, and logs from now on, in ``directory``.

        Large runs cannot hold a day's trade log, agent samples and sealed blocks in
        memory (issue 6: about 1.6 KB per payment). After this call those are written
        to files under ``directory`` as the run goes and only bounded buffers stay in
        memory; the result writers (``experiments.run.write_results``) read them back
        from there. Without a call everything stays in memory (library use, tests).
        ``experiments.run.run_simulation`` passes ``<run_dir>/.spill``.
        """
        self.spill_dir = Path(directory)
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        self.trade_log.spill_to(self.spill_dir / "logs")
        self.agent_log.spill_to(self.spill_dir / "logs")
        self.ledger_layout.spill_to(self.spill_dir / "ledger")  # sealed blocks, certificates

    def _log_step(self, step, trades, kind, trade_id, prices, amounts, signed, samples) -> None:
        """Append the step's trades and agent samples to the logs (spilled when due).

        A trade's ``tx_hash`` is its signed payment's; under net settlement it is
        filled in when the window closes, so the window's entries stay in memory
        until then.
        """
        entry = {
            "trade_id": trade_id,
            "step": np.full(len(trades), step, np.int64),
            "kind": kind,
            **trades.to_columns(),
            "price_micro_per_kwh": prices,
            "amount_micro": amounts,
            "tx_hash": trade_tx_hashes(signed, trade_id),
        }
        self.trade_log.append(entry)
        if self.netting is not None:
            self.netting.record(entry, signed)
        self.trade_log.maybe_flush(self.netting.open_entries if self.netting is not None else 0)
        if samples:
            self.agent_log.append(samples[0] if len(samples) == 1 else _concat_columns(samples))
            self.agent_log.maybe_flush()

    def run(self, progress=None, after_step=None) -> None:
        """Run every step not yet run, then seal what is left in the mempool.

        Args:
            progress: Optional tqdm-like bar, advanced once per step.
            after_step: Optional ``after_step(model)`` called after each step (the
                checkpoint writer); a model restored from a checkpoint goes on from
                the step after the last one it ran.
        """
        while self.steps < self.n_steps:
            self.step()
            if after_step is not None:
                after_step(self)
            if progress is not None:
                progress.update(1)
        self.finish()

    def finish(self) -> None:
        """Seal blocks until nothing is pending (mempools, cross-shard exchanges, checkpoints).

        Bounded: every round seals at least one pending item unless a chain is
        halted, and a two-phase exchange needs a few rounds per payment.
        """
        layout = self.ledger_layout
        period_ms = layout.drain_period_ms
        now = self.n_steps * self.step_ms
        rounds = layout.pending + 1 if len(layout.chains) == 1 else 4 * layout.pending + 8
        for _ in range(rounds):
            if not layout.pending:
                break
            now += period_ms
            for block in layout.advance_to(now):
                proposer = block.header.proposer
                self.blocks_by_proposer[proposer] = self.blocks_by_proposer.get(proposer, 0) + 1


def _local_chain_tag(decision) -> np.ndarray:
    tag = getattr(decision, "local_chain_tag", None)
    return np.zeros(len(decision.local_trades), np.int8) if tag is None else tag


def _chain_tag_of(trade_columns, n_trades: int) -> np.ndarray:
    """The mechanism's per-trade ``chain`` column, or zeros (LETB)."""
    tag = trade_columns.get("chain") if trade_columns else None
    return np.zeros(n_trades, np.int8) if tag is None else np.asarray(tag, np.int8)


def _carry_chain_tags(before: Trades, after: Trades, tag: np.ndarray) -> np.ndarray:
    """Chain tags of the trades left by the grid's limit rule.

    The rule keeps a subsequence of the trades (quantities may shrink) and appends
    grid trades; kept trades keep their tag, appended ones go to LETB (0).
    """
    if after is before:
        return tag
    keys_before = list(
        zip(before.buyer.tolist(), before.seller.tolist(), before.buyer_order.tolist(),
            before.seller_order.tolist(), strict=True)
    )  # fmt: skip
    keys_after = zip(after.buyer.tolist(), after.seller.tolist(), after.buyer_order.tolist(),
                     after.seller_order.tolist(), strict=True)  # fmt: skip
    out = np.zeros(len(after), np.int8)
    i = 0
    for j, key in enumerate(keys_after):
        while i < len(keys_before) and keys_before[i] != key:
            i += 1
        if i == len(keys_before):
            break
        out[j] = tag[i]
        i += 1
    return out


def _metric(model: GridModel, name: str) -> float:
    return model.metrics[name]


def _reporter(name: str) -> partial:
    # A partial of a module-level function, not a lambda, so that a model pickles
    # (checkpoints); Mesa's DataCollector calls partials with the model.
    return partial(_metric, name=name)


def _market_value(model: GridModel, name: str) -> float:
    return model.market_values.get(name, float("nan"))


def _market_reporter(name: str) -> partial:
    # A partial, not a lambda: the model must pickle (checkpoints).
    return partial(_market_value, name=name)


def _concat_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Row-wise concatenation of equal-keyed column dicts (the areas' agent samples)."""
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _validator_buses(graph) -> list[int]:
    """Buses that host validators: the substation, then area stations, then other buses."""
    rank = {"substation": 0, "station": 1, "bus": 2}
    return sorted(graph.nodes, key=lambda n: (rank[graph.nodes[n]["kind"]], n))
