"""``two_level``: demand-response trading by smart contract of seed 002, §5.

One settlement cycle runs the contract functions of §5.2 in order, each a
pure function under the paper's name:

``Initial`` (the grid company's demand-response signal) ->
``GetUsersInformation`` (buyers: demand, acceptable price, area; sellers:
load offered, price, area, credit) -> ``QualificationVerification`` (credit
at or above the cut-off, qualification flag) -> ``MaxUsersProfit`` (the upper
level, an LP) -> ``Confirmtransaction`` and ``Confirm`` (each side confirms
its contracts) -> delivery (sellers keep or break) -> ``SettlementCredit``
(+2 kept, -4 broken) -> ``SettlementAmount`` (the lower level: unplanned
load at the marginal price times ``beta``) -> ``PriceIncentives`` ->
``Punish`` (credit below 50 cuts the user off).

Upper level (§5.1.1; Eqs. 2-8 were images, reconstructed from the text as a
linear programme solved with scipy's HiGHS)::

    max  sum_ab (p_b - p_a - alpha - d_ab) W_ab
    s.t. sum_b W_ab <= q_a,  sum_a W_ab <= q_b,
         sum_ab (alpha + d_ab) W_ab <= B,  W_ab >= 0

``p_b`` is the buyer's acceptable price, ``p_a`` the seller's, ``alpha`` the
comfort coefficient (coins per kWh of response load), ``d_ab = 2X`` for a
same-station pair and ``2X + Y`` across stations (communication cost, per
kWh so that the problem stays linear), ``B`` the comfort budget.  Contracts
trade at the midpoint of the two prices (the group's profit split evenly).

Lower level (§5.1.2): the unplanned load ``dW = contracted - delivered`` of a
breaking seller is served by the grid at ``beta * p_m`` (``beta = 0`` when
``dW <= 0``, the grid delivered no more than planned); that cost is charged
to the breaking seller (order column ``penalty_coins``).  Whether a seller
keeps a contract is drawn deterministically from its ``reliability`` with
:mod:`market.counter_rng` keyed by (seed, step, agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.counter_rng import uniform
from market.diagnostics import clearing_diagnostics
from market.greedy import cap_group_totals
from market.result import ClearingResult, Trades
from market.two_level_flow import max_profit_by_flow

CREDIT_KEPT = 2.0
"""Credit gained per kept contract (seed 002, §5.2.4)."""

CREDIT_BROKEN = -4.0
"""Credit lost per broken contract (seed 002, §5.2.4)."""

CUT_OFF_CREDIT = 50.0
"""Below this credit the terminal is powered off (seed 002, §5.2.5)."""


@dataclass(frozen=True)
class TwoLevel:
    """Parameters of the two-level market (seed 002, §5); defaults say where they come from.

    Attributes:
        comfort_coefficient: ``alpha``, coins/kWh (not given; ours).
        single_comm_cost: ``X``, coins/kWh per message leg (not given; ours).
        cross_comm_cost: ``Y``, coins/kWh between cross-nodes (not given; ours).
        comfort_budget: ``B``, coins per cycle (not given; ours).
        beta: Real-time price adjustment coefficient (not given; ours).
        marginal_price: ``p_m`` coins/kWh; ``None`` uses the step's tariff.
        initial_credit: Credit of users without a ``credit`` column (ours).
        cut_off_credit: Punish threshold (50, §5.2.5).
        credit_kept: Credit for a kept contract (+2, §5.2.4).
        credit_broken: Credit for a broken one (-4, §5.2.4).
        breach_delivery_fraction: Share of a broken contract still delivered.
        incentive_rate: Price incentive per 100 credit points away from the initial credit.
        incentive_cap: Largest price incentive (fraction).
        points_per_kwh: Power incentive points per delivered kWh at the initial credit.
        dr_signal: ``Initial``'s flag: whether this cycle takes part in demand response.
        seed: Seed of the keep/break draws.
    """

    name: ClassVar[str] = "two_level"
    book_columns: ClassVar[tuple[str, ...]] = ("credit", "reliability", "qualified")
    comfort_coefficient: float = 0.005
    single_comm_cost: float = 0.001
    cross_comm_cost: float = 0.002
    comfort_budget: float = 1.0e6
    beta: float = 1.2
    marginal_price: float | None = None
    initial_credit: float = 100.0
    cut_off_credit: float = CUT_OFF_CREDIT
    credit_kept: float = CREDIT_KEPT
    credit_broken: float = CREDIT_BROKEN
    breach_delivery_fraction: float = 0.0
    incentive_rate: float = 0.1
    incentive_cap: float = 0.2
    points_per_kwh: float = 1.0
    dr_signal: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "comfort_coefficient", "single_comm_cost", "cross_comm_cost", "comfort_budget",
            "beta", "initial_credit", "incentive_rate", "points_per_kwh",
        ):  # fmt: skip
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if self.marginal_price is not None and not self.marginal_price >= 0:
            raise ValueError(f"marginal_price must be >= 0 or null (got {self.marginal_price})")
        if not 0 <= self.breach_delivery_fraction <= 1:
            raise ValueError(
                f"breach_delivery_fraction must lie in [0, 1] (got {self.breach_delivery_fraction})"
            )
        if not 0 <= self.incentive_cap < 1:
            raise ValueError(f"incentive_cap must lie in [0, 1) (got {self.incentive_cap})")

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """One settlement cycle on ``book`` (see the module docstring)."""
        return settlement_cycle(book, ctx, self)


# ---------------------------------------------------------------- §5.2.2 release
def Initial(params: TwoLevel) -> bool:  # noqa: N802 (the paper's name)
    """The grid company's demand-response signal: whether users may take part."""
    return bool(params.dr_signal)


@dataclass(frozen=True, eq=False)
class UsersInformation:
    """What ``GetUsersInformation`` collects (rows of the book, by side).

    Attributes:
        buyers: Book rows of the buy orders (demand > 0).
        sellers: Book rows of the sell orders (offer > 0).
        credit: Credit of every order of the book.
        reliability: Probability that each order's owner keeps a contract.
        qualified: Qualification flag of every order.
    """

    buyers: np.ndarray
    sellers: np.ndarray
    credit: np.ndarray
    reliability: np.ndarray
    qualified: np.ndarray


def GetUsersInformation(book: OrderBook, params: TwoLevel) -> UsersInformation:  # noqa: N802
    """Collect buyer and seller information from the book (optional columns default)."""
    credit = book.column_or("credit", params.initial_credit).astype(np.float64)
    reliability = book.column_or("reliability", 1.0).astype(np.float64)
    if np.any((reliability < 0) | (reliability > 1)):
        raise ValueError("column 'reliability' must lie in [0, 1]")
    return UsersInformation(
        buyers=np.flatnonzero((book.side == BUY) & (book.quantity_wh > 0)),
        sellers=np.flatnonzero((book.side == SELL) & (book.quantity_wh > 0)),
        credit=credit,
        reliability=reliability,
        qualified=book.column_or("qualified", True).astype(bool),
    )


def QualificationVerification(  # noqa: N802
    info: UsersInformation, params: TwoLevel
) -> tuple[np.ndarray, np.ndarray]:
    """Buyers and sellers allowed to trade: qualified and credit >= the cut-off."""
    ok = info.qualified & (info.credit >= params.cut_off_credit)
    return info.buyers[ok[info.buyers]], info.sellers[ok[info.sellers]]


# ---------------------------------------------------------------- §5.2.3 matching
@dataclass(frozen=True, eq=False)
class Matching:
    """The upper level's contracts.

    Attributes:
        buyer: Book rows of the buy side of each contract.
        seller: Book rows of the sell side.
        contract_wh: Contracted energy (whole Wh, > 0).
        price: Contract price (coins/kWh).
        group_profit: LP objective (coins).
        comfort_cost: ``alpha`` times contracted kWh.
        communication_cost: ``d_ab`` times contracted kWh.
    """

    buyer: np.ndarray
    seller: np.ndarray
    contract_wh: np.ndarray
    price: np.ndarray
    group_profit: float
    comfort_cost: float
    communication_cost: float


def _empty_matching() -> Matching:
    z = np.zeros(0, dtype=np.int64)
    return Matching(z, z, z, np.zeros(0), 0.0, 0.0, 0.0)


PAIR_LP_LIMIT = 20_000
"""Above this many (buyer, seller) pairs the upper level is solved through area hubs."""


def MaxUsersProfit(  # noqa: N802
    book: OrderBook,
    buyers: np.ndarray,
    sellers: np.ndarray,
    params: TwoLevel,
    pair_limit: int = PAIR_LP_LIMIT,
) -> Matching:
    """Upper level: the LP of the module docstring, solved with HiGHS.

    Books with more than ``pair_limit`` (buyer, seller) pairs solve the same LP
    through one hub per area (:mod:`market.two_level_flow`: same optimum, far
    fewer variables); the contracts may then split differently.
    """
    if len(buyers) == 0 or len(sellers) == 0:
        return _empty_matching()
    if len(buyers) * len(sellers) > pair_limit:
        return _matching_by_flow(book, buyers, sellers, params)
    bb, ss = np.meshgrid(buyers, sellers, indexing="ij")
    bb, ss = bb.ravel(), ss.ravel()
    comm = np.where(
        book.area[bb] == book.area[ss],
        2 * params.single_comm_cost,
        2 * params.single_comm_cost + params.cross_comm_cost,
    )
    unit_cost = params.comfort_coefficient + comm
    margin = book.limit_price[bb] - book.limit_price[ss] - unit_cost
    keep = margin > 0
    if not keep.any():
        return _empty_matching()
    bb, ss, comm, unit_cost, margin = bb[keep], ss[keep], comm[keep], unit_cost[keep], margin[keep]
    n = len(bb)
    b_idx = np.searchsorted(buyers, bb)
    s_idx = np.searchsorted(sellers, ss)
    cols = np.arange(n)
    a_buy = coo_matrix((np.ones(n), (b_idx, cols)), shape=(len(buyers), n))
    a_sell = coo_matrix((np.ones(n), (s_idx, cols)), shape=(len(sellers), n))
    a_budget = coo_matrix((unit_cost, (np.zeros(n, int), cols)), shape=(1, n))
    a_ub = vstack([a_buy, a_sell, a_budget]).tocsr()
    kwh = book.quantity_wh / 1000.0
    b_ub = np.concatenate([kwh[buyers], kwh[sellers], [params.comfort_budget]])
    res = linprog(-margin, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible (W = 0) and bounded
        raise RuntimeError(f"MaxUsersProfit: HiGHS failed ({res.message})")
    wh = np.floor(res.x * 1000.0 + 1e-6).astype(np.int64)
    # Rounding must never let a buyer or a seller exceed its order.
    wh = cap_group_totals(bb, wh, book.quantity_wh)
    wh = cap_group_totals(ss, wh, book.quantity_wh)
    take = wh > 0
    wh, bb, ss = wh[take], bb[take], ss[take]
    order = np.lexsort((ss, bb))
    wh, bb, ss = wh[order], bb[order], ss[order]
    energy = wh / 1000.0
    price = 0.5 * (book.limit_price[bb] + book.limit_price[ss])
    comm_taken = comm[take][order]
    return Matching(
        buyer=bb,
        seller=ss,
        contract_wh=wh,
        price=np.clip(price, book.limit_price[ss], book.limit_price[bb]),
        group_profit=float(np.dot(margin[take][order], energy)),
        comfort_cost=float(params.comfort_coefficient * energy.sum()),
        communication_cost=float(np.dot(comm_taken, energy)),
    )


def _matching_by_flow(
    book: OrderBook, buyers: np.ndarray, sellers: np.ndarray, params: TwoLevel
) -> Matching:
    """:func:`MaxUsersProfit` through area hubs (see :mod:`market.two_level_flow`)."""
    bb, ss, wh, _ = max_profit_by_flow(book, buyers, sellers, params)
    take = wh > 0
    bb, ss, wh = bb[take], ss[take], wh[take]
    order = np.lexsort((ss, bb))
    bb, ss, wh = bb[order], ss[order], wh[order]
    energy = wh / 1000.0
    comm = np.where(
        book.area[bb] == book.area[ss],
        2 * params.single_comm_cost,
        2 * params.single_comm_cost + params.cross_comm_cost,
    )
    price = 0.5 * (book.limit_price[bb] + book.limit_price[ss])
    return Matching(
        buyer=bb,
        seller=ss,
        contract_wh=wh,
        price=np.clip(price, book.limit_price[ss], book.limit_price[bb]),
        # As on the pairwise path: the margins of the whole-Wh contracts.
        group_profit=float(
            np.dot(
                book.limit_price[bb] - book.limit_price[ss] - params.comfort_coefficient - comm,
                energy,
            )
        ),
        comfort_cost=float(params.comfort_coefficient * energy.sum()),
        communication_cost=float(np.dot(comm, energy)),
    )


def Confirmtransaction(matching: Matching) -> Matching:  # noqa: N802
    """Users submit the matched contracts (whole contracts only; nothing changes)."""
    return matching


def Confirm(book: OrderBook, matching: Matching) -> Matching:  # noqa: N802
    """Buyer and seller each confirm: the buyer if the price is within its limit, the seller too."""
    ok = (matching.price <= book.limit_price[matching.buyer]) & (
        matching.price >= book.limit_price[matching.seller]
    )
    if ok.all():
        return matching
    return Matching(
        matching.buyer[ok], matching.seller[ok], matching.contract_wh[ok], matching.price[ok],
        matching.group_profit, matching.comfort_cost, matching.communication_cost,
    )  # fmt: skip


# ---------------------------------------------------------------- delivery and §5.2.4 settlement
def deliver(
    book: OrderBook, matching: Matching, info: UsersInformation, step: int, params: TwoLevel
) -> tuple[np.ndarray, np.ndarray]:
    """Metered delivery: whether each seller kept its contracts, and the Wh delivered.

    A seller keeps all its contracts of the cycle when its draw
    ``uniform(seed, step, agent) < reliability``.
    """
    draws = uniform(params.seed, step, book.agent[matching.seller])
    kept = draws < info.reliability[matching.seller]
    partial = np.floor(matching.contract_wh * params.breach_delivery_fraction).astype(np.int64)
    return kept, np.where(kept, matching.contract_wh, partial)


def SettlementCredit(  # noqa: N802
    info: UsersInformation, matching: Matching, kept: np.ndarray, params: TwoLevel
) -> np.ndarray:
    """Credit after the cycle: +2 per kept contract, -4 per broken one, for both parties.

    Buyers are metered as performing (this model breaks contracts on the
    supply side only).
    """
    credit = info.credit.copy()
    np.add.at(credit, matching.seller, np.where(kept, params.credit_kept, params.credit_broken))
    np.add.at(credit, matching.buyer, params.credit_kept)
    return credit


def SettlementAmount(  # noqa: N802
    matching: Matching, delivered_wh: np.ndarray, marginal_price: float, beta: float
) -> tuple[np.ndarray, float]:
    """Lower level: unplanned load and the grid's cost of serving it.

    Returns:
        The penalty per contract (coins, charged to its seller) and the
        grid's total cost ``beta * p_m * dW`` (``beta = 0`` when ``dW <= 0``).
    """
    unplanned_wh = matching.contract_wh - delivered_wh
    effective_beta = np.where(unplanned_wh > 0, beta, 0.0)
    penalty = effective_beta * marginal_price * np.maximum(unplanned_wh, 0) / 1000.0
    return penalty, float(penalty.sum())


def PriceIncentives(credit: np.ndarray, params: TwoLevel) -> np.ndarray:  # noqa: N802
    """Price factor for the user's later trades from its credit (reconstructed RP model).

    ``1 + incentive_rate * (credit - initial_credit) / 100`` within
    ``1 +/- incentive_cap``: good credit earns better prices, bad credit worse.
    """
    factor = 1.0 + params.incentive_rate * (credit - params.initial_credit) / 100.0
    return np.clip(factor, 1.0 - params.incentive_cap, 1.0 + params.incentive_cap)


def Punish(credit: np.ndarray, params: TwoLevel) -> np.ndarray:  # noqa: N802
    """Users whose credit fell below the cut-off: their terminals are powered off."""
    return credit < params.cut_off_credit


def incentive_points(
    book: OrderBook,
    matching: Matching,
    delivered_wh: np.ndarray,
    credit: np.ndarray,
    params: TwoLevel,
) -> np.ndarray:
    """Power incentive points per order (§3.3, §4.1): by response strength and credit.

    A seller earns ``points_per_kwh`` per delivered kWh (its demand-response
    strength), scaled by ``credit / initial_credit``.
    """
    points = np.zeros(len(book))
    np.add.at(points, matching.seller, params.points_per_kwh * delivered_wh / 1000.0)
    scale = credit / params.initial_credit if params.initial_credit > 0 else np.ones_like(credit)
    return points * np.maximum(scale, 0.0)


def settlement_cycle(book: OrderBook, ctx: MarketContext, params: TwoLevel) -> ClearingResult:
    """All contract functions of §5.2 for one cycle (see the module docstring).

    Returns:
        Delivered trades at the contract prices; residuals; diagnostics
        ``group_profit``, ``comfort_cost``, ``communication_cost``,
        ``n_contracts``, ``n_broken``, ``unplanned_load_wh``,
        ``grid_cost_coins``, ``n_cut_off``, ``mean_credit``,
        ``incentive_points``; order columns ``credit_after``, ``cut_off``,
        ``penalty_coins``, ``price_incentive_factor``, ``incentive_points``.
    """
    info = GetUsersInformation(book, params)
    matching = _empty_matching()
    if Initial(params):
        buyers, sellers = QualificationVerification(info, params)
        matching = Confirm(book, Confirmtransaction(MaxUsersProfit(book, buyers, sellers, params)))
    kept, delivered = deliver(book, matching, info, ctx.step, params)
    credit = SettlementCredit(info, matching, kept, params)
    p_m = ctx.tariff if params.marginal_price is None else params.marginal_price
    penalty, grid_cost = SettlementAmount(matching, delivered, p_m, params.beta)
    cut_off = Punish(credit, params)
    penalty_per_order = np.zeros(len(book))
    np.add.at(penalty_per_order, matching.seller, penalty)
    points = incentive_points(book, matching, delivered, credit, params)
    go = delivered > 0
    buyer, seller = matching.buyer[go], matching.seller[go]
    trades = Trades._trusted(
        buyer=book.agent[buyer],
        seller=book.agent[seller],
        buyer_order=buyer.astype(np.int64),
        seller_order=seller.astype(np.int64),
        buyer_area=book.area[buyer],
        seller_area=book.area[seller],
        quantity_wh=delivered[go].astype(np.int64),
        price=matching.price[go].astype(np.float64),
    )
    residual = book.quantity_wh.copy()
    np.subtract.at(residual, buyer, delivered[go])
    np.subtract.at(residual, seller, delivered[go])
    diagnostics = clearing_diagnostics(book, trades)
    diagnostics.update(
        group_profit=matching.group_profit,
        comfort_cost=matching.comfort_cost,
        communication_cost=matching.communication_cost,
        n_contracts=float(len(matching.contract_wh)),
        n_broken=float(np.count_nonzero(~kept)),
        unplanned_load_wh=float((matching.contract_wh - delivered).sum()),
        grid_cost_coins=grid_cost,
        n_cut_off=float(np.count_nonzero(cut_off)),
        mean_credit=float(credit.mean()) if len(credit) else 0.0,
        incentive_points=float(points.sum()),
    )
    return ClearingResult(
        trades,
        residual,
        diagnostics,
        order_columns={
            "credit_after": credit,
            "cut_off": cut_off,
            "penalty_coins": penalty_per_order,
            "price_incentive_factor": PriceIncentives(credit, params),
            "incentive_points": points,
        },
    )
