"""Miner selection: seed 000 (SSG) §3.1, Algorithm 1.

Seed 000 splits the smart grid's entities into miner nodes (which verify transactions
and mine blocks) and ordinary nodes. Algorithm 1 builds a list of candidates and
draws the miners from it at random:

- smart homes whose power capacity exceeds a home threshold,
- buildings whose power capacity exceeds a (larger) building threshold,
- the top 50 % of industrial facilities ranked by processing power,
- EVs whose utility, processing power x protocol time (the time the owner agrees to
  serve as a miner), exceeds an EV threshold;

then ``ratio x (number of nodes)`` of them (20 %), picked uniformly at random, become
miners. The thresholds change every period and the selection is repeated, so an
entity cannot count on staying (or becoming) a miner.

The paper's formulas are images; rebuilt from its text (our reading):

- *Power capacity* of a static entity is the power it can put behind the grid's
  services: its rooftop PV rating plus its battery's power limit plus its mean demand
  (a controllable-load proxy). Ours; the paper gives no definition.
- *Protocol time* of an EV is the time it is parked and plugged in per day (when it
  can serve), in hours. Ours.
- The number of miners is ``round(ratio * N)`` with ``N`` the ordinary nodes
  (households of every kind and EVs; charging stations are service providers, not
  nodes of Algorithm 1), at least 1 and at most the number of candidates. The issue
  reads the 20 % as a share of the ordinary nodes.
- Per period, each threshold is multiplied by a factor drawn uniformly from
  ``[1 - threshold_jitter, 1 + threshold_jitter]`` (the paper says only that they
  "change after periodic time intervals").

Every entity also has a processing power (its hash rate when mining, hashes per
simulated second) and a storage capacity (GB), drawn per entity by the area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.params import ParameterError, check, check_interval, check_range, is_integer

#: Entity kinds of Algorithm 1, as stored in :attr:`MinerCandidates.kind`.
HOME, BUILDING, INDUSTRY, EV = 0, 1, 2, 3
ENTITY_KINDS = ("home", "building", "industry", "ev")


@dataclass(frozen=True)
class MinerParams:
    """Settings of Algorithm 1 (``population.miners``).

    Attributes:
        enabled: Whether ``chain=pow`` takes its miners from this selection (otherwise
            the chain config's ``n_validators`` miners sit at the substation and
            stations, as for the other protocols).
        ratio: Miners as a share of the ordinary nodes (seed 000 §3.1: 20 %).
        home_threshold_kw: Power capacity a home needs to be a candidate (ours).
        building_threshold_kw: Same for buildings; larger, since buildings carry more
            load than dwellings (seed 000 §3.1 requires the two to differ; value ours).
        industry_top_share: Share of industry, by processing power, that become
            candidates (seed 000 §3.1: the top 50 %).
        ev_utility_threshold_hash_h: EV utility (processing power x protocol time,
            hashes/s x h) above which an EV is a candidate (ours: about an EV of
            50,000 H/s plugged in for 10 h).
        threshold_jitter: Per-period relative change of every threshold (ours).
        period_steps: Steps between re-selections (ours: a day of 15-minute steps).
        static_hash_rate_hps: Range of a home's, building's or industry's processing
            power (ours: a home gateway or building controller).
        ev_hash_rate_hps: Range of an EV's on-board processing power (ours).
        static_storage_gb: Range of a static entity's storage (ours).
        ev_storage_gb: Range of an EV's storage (ours).
    """

    enabled: bool = True
    ratio: float = 0.2
    home_threshold_kw: float = 5.0
    building_threshold_kw: float = 10.0
    industry_top_share: float = 0.5
    ev_utility_threshold_hash_h: float = 500_000.0
    threshold_jitter: float = 0.2
    period_steps: int = 96
    static_hash_rate_hps: tuple[float, float] = (50_000.0, 200_000.0)
    ev_hash_rate_hps: tuple[float, float] = (20_000.0, 100_000.0)
    static_storage_gb: tuple[float, float] = (16.0, 64.0)
    ev_storage_gb: tuple[float, float] = (8.0, 32.0)

    def __post_init__(self) -> None:
        for name in (
            "static_hash_rate_hps",
            "ev_hash_rate_hps",
            "static_storage_gb",
            "ev_storage_gb",
        ):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        check(isinstance(self.enabled, bool), "enabled", "true or false", self.enabled)
        check_range(self.ratio, "ratio", 0.0, 1.0, low_open=True)
        check_range(self.home_threshold_kw, "home_threshold_kw", 0.0)
        check_range(self.building_threshold_kw, "building_threshold_kw", 0.0)
        check_range(self.industry_top_share, "industry_top_share", 0.0, 1.0)
        check_range(self.ev_utility_threshold_hash_h, "ev_utility_threshold_hash_h", 0.0)
        check_range(self.threshold_jitter, "threshold_jitter", 0.0, 1.0)
        check(
            is_integer(self.period_steps) and self.period_steps >= 1,
            "period_steps",
            "an integer >= 1",
            self.period_steps,
        )
        for name in ("static_hash_rate_hps", "ev_hash_rate_hps"):
            low, _ = check_interval(getattr(self, name), name, low=1.0)
        check_interval(self.static_storage_gb, "static_storage_gb", low=0.0)
        check_interval(self.ev_storage_gb, "ev_storage_gb", low=0.0)


@dataclass(frozen=True, eq=False)
class MinerCandidates:
    """The entities Algorithm 1 looks at, one row each (any order; sorted by agent).

    Attributes:
        agent: Run-wide agent id.
        kind: :data:`HOME`, :data:`BUILDING`, :data:`INDUSTRY` or :data:`EV`.
        bus: Grid bus the entity is connected at (an EV's home bus).
        power_capacity_kw: Power capacity of static entities (0 for EVs).
        protocol_time_h: Hours per day an EV can serve (0 for static entities).
        hash_rate_hps: Processing power, whole hashes per simulated second.
        storage_gb: Storage capacity.
    """

    agent: np.ndarray
    kind: np.ndarray
    bus: np.ndarray
    power_capacity_kw: np.ndarray
    protocol_time_h: np.ndarray
    hash_rate_hps: np.ndarray
    storage_gb: np.ndarray

    def __len__(self) -> int:
        return len(self.agent)

    @classmethod
    def concat(cls, parts: list[MinerCandidates]) -> MinerCandidates:
        """Rows of several areas, sorted by agent id."""
        columns = {
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in cls.__dataclass_fields__
        }
        order = np.argsort(columns["agent"], kind="stable")
        return cls(**{name: values[order] for name, values in columns.items()})

    @property
    def ev_utility_hash_h(self) -> np.ndarray:
        """EV utility: processing power x protocol time (seed 000 §3.1)."""
        return self.hash_rate_hps * self.protocol_time_h


@dataclass(frozen=True, eq=False)
class MinerSelection:
    """One period's outcome of Algorithm 1.

    Attributes:
        period: Period index (0 for the first ``period_steps`` steps).
        thresholds: The period's thresholds (home and building kW, EV hash-hours).
        candidates: Row indices (into the :class:`MinerCandidates`) of the candidates.
        miners: Row indices of the selected miners, in ascending agent order.
    """

    period: int
    thresholds: dict[str, float]
    candidates: np.ndarray
    miners: np.ndarray


def candidate_rows(pool: MinerCandidates, params: MinerParams, thresholds: dict[str, float]):
    """Rows of ``pool`` that pass Algorithm 1's rules under ``thresholds``.

    Homes and buildings must have a power capacity strictly above their threshold;
    industry is ranked by processing power (descending, ties by agent id) and the top
    ``ceil(industry_top_share x count)`` pass; EVs need a utility strictly above the
    EV threshold.
    """
    kind = pool.kind
    homes = (kind == HOME) & (pool.power_capacity_kw > thresholds["home_kw"])
    buildings = (kind == BUILDING) & (pool.power_capacity_kw > thresholds["building_kw"])
    evs = (kind == EV) & (pool.ev_utility_hash_h > thresholds["ev_hash_h"])
    industry = np.zeros(len(pool), dtype=bool)
    rows = np.flatnonzero(kind == INDUSTRY)
    if len(rows):
        ranked = rows[np.lexsort((pool.agent[rows], -pool.hash_rate_hps[rows]))]
        industry[ranked[: int(np.ceil(params.industry_top_share * len(rows) - 1e-9))]] = True
    return np.flatnonzero(homes | buildings | industry | evs)


def period_thresholds(
    params: MinerParams, rng: np.random.Generator, period: int
) -> dict[str, float]:
    """The thresholds in force in ``period`` (period 0 uses the configured values)."""
    base = {
        "home_kw": params.home_threshold_kw,
        "building_kw": params.building_threshold_kw,
        "ev_hash_h": params.ev_utility_threshold_hash_h,
    }
    if period == 0:
        return base
    jitter = params.threshold_jitter
    factors = rng.uniform(1.0 - jitter, 1.0 + jitter, size=len(base))
    return {key: value * f for (key, value), f in zip(base.items(), factors, strict=True)}


def select_miners(
    pool: MinerCandidates, params: MinerParams, seed: int, period: int = 0
) -> MinerSelection:
    """Algorithm 1 for ``period``: thresholds, candidates, then a seeded random pick.

    The draw uses a generator seeded by ``(seed, period)`` only, so re-running a
    period gives the same miners and periods do not depend on each other.

    Raises:
        ParameterError: No entity passes the rules (no miner can be chosen).
    """
    rng = np.random.default_rng([seed, period])
    thresholds = period_thresholds(params, rng, period)
    candidates = candidate_rows(pool, params, thresholds)
    n_nodes = int(np.count_nonzero(pool.kind >= 0))
    wanted = max(1, int(round(params.ratio * n_nodes)))
    if not len(candidates):
        raise ParameterError(
            "miners.home_threshold_kw",
            "low enough that some entity qualifies as a miner candidate (seed 000 Alg. 1)",
            thresholds,
        )
    n_miners = min(wanted, len(candidates))
    picked = rng.choice(candidates, size=n_miners, replace=False)
    miners = np.sort(picked)
    return MinerSelection(period, thresholds, candidates, miners)


def draw_miner_attributes(
    kind: np.ndarray, params: MinerParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Processing power (whole H/s) and storage (GB) per entity, by kind."""
    n = len(kind)
    is_ev = kind == EV
    u_rate, u_storage = rng.random(n), rng.random(n)
    low = np.where(is_ev, params.ev_hash_rate_hps[0], params.static_hash_rate_hps[0])
    high = np.where(is_ev, params.ev_hash_rate_hps[1], params.static_hash_rate_hps[1])
    rate = np.floor(low + (high - low) * u_rate).astype(np.int64)
    s_low = np.where(is_ev, params.ev_storage_gb[0], params.static_storage_gb[0])
    s_high = np.where(is_ev, params.ev_storage_gb[1], params.static_storage_gb[1])
    return np.maximum(rate, 1), s_low + (s_high - s_low) * u_storage
