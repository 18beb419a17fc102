"""Schemas of the ``market/`` config group.

One dataclass per ``conf/market/<name>.yaml``; defaults repeat the paper values
of the mechanism (each YAML says where every value comes from). Range checks live
in the mechanisms' constructors (``market/``), whose ``ValueError`` messages start
with the parameter name.
"""

from __future__ import annotations

from dataclasses import dataclass


# ---------------------------------------------------------------- market/
@dataclass
class SortedPairingSchema:
    """CE-SDT sorted pairing (seed 004 §3.3)."""

    _target_: str = "market.sorted_pairing.SortedPairing"
    price_rule: str = "midpoint"


@dataclass
class GridOnlySchema:
    """Baseline: no peer trading, everybody trades with the grid operator."""

    _target_: str = "market.grid_only.GridOnly"


@dataclass
class UniformPriceSchema:
    """Baseline: k-double auction, one price between the marginal bid and ask."""

    _target_: str = "market.uniform_price.UniformPrice"
    k: float = 0.5


@dataclass
class PayAsBidSchema:
    """Baseline: sorted pairing, each pair at the buyer's bid."""

    _target_: str = "market.uniform_price.PayAsBid"


@dataclass
class DoubleAuctionSchema:
    """Iterative EV / service-provider double auction (seed 001 ch. 4)."""

    _target_: str = "market.double_auction.DoubleAuction"
    sigma: float = 10.0
    eta: float = 0.8
    rho: float = 0.9
    c1: float = 0.01
    c2: float = 0.015
    xi: float = 0.001
    max_iterations: int = 200
    soc_floor: float = 0.05
    ledger_price: str = "buyer"


@dataclass
class StackelbergSchema:
    """PETS Stackelberg game with a GA leader (seed 001 ch. 3)."""

    _target_: str = "market.stackelberg.Stackelberg"
    p_min_cents: float = 8.0
    p_max_cents: float = 14.0
    resolution_cents: float = 0.01
    m_day: float = 5.5e-4
    m_night: float = 4.0e-4
    q: float = 0.0
    r: float = 0.0
    day_start_hour: int = 8
    day_end_hour: int = 24
    schedule_start_hour: int = 8
    population: int = 50
    max_generations: int = 200
    patience: int = 30
    crossover_rate: float = 0.25
    mutation_rate: float | None = None
    ga_seed: int = 0
    price_unit_coins: float = 0.01
    step_minutes: int = 15
    alpha_max_kwh: float = 7.0


@dataclass
class TwoLevelSchema:
    """Two-level demand-response bidding and settlement contract (seed 002 §5)."""

    _target_: str = "market.two_level.TwoLevel"
    comfort_coefficient: float = 0.005
    single_comm_cost: float = 0.001
    cross_comm_cost: float = 0.002
    comfort_budget: float = 1.0e6
    beta: float = 1.2
    marginal_price: float | None = None
    initial_credit: float = 100.0
    cut_off_credit: float = 50.0
    credit_kept: float = 2.0
    credit_broken: float = -4.0
    breach_delivery_fraction: float = 0.0
    incentive_rate: float = 0.1
    incentive_cap: float = 0.2
    points_per_kwh: float = 1.0
    dr_signal: bool = True
    seed: int = 0


@dataclass
class LocalRESchema:
    """Dual-chain local (LETB) and renewable (RETB) market (seed 003)."""

    _target_: str = "market.local_re.LocalRE"
    log_base: float = 10.0
    scale_ref_kw: float = 1000.0
    time_ref_h: float = 1000.0
    reputation_step: float = 0.05
    step_minutes: int = 15


@dataclass
class EvDemandResponseSchema:
    """EVs buying from and supplying static entities (seed 000 §3.3)."""

    _target_: str = "market.ev_dr.EvDemandResponse"
    default_soc_max: float = 1.0


SCHEMAS = {
    "sorted_pairing_schema": SortedPairingSchema,
    "grid_only_schema": GridOnlySchema,
    "uniform_price_schema": UniformPriceSchema,
    "pay_as_bid_schema": PayAsBidSchema,
    "double_auction_schema": DoubleAuctionSchema,
    "stackelberg_schema": StackelbergSchema,
    "two_level_schema": TwoLevelSchema,
    "local_re_schema": LocalRESchema,
    "ev_dr_schema": EvDemandResponseSchema,
}
