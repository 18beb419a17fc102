"""The CE-SDT trading contract workflow of seed 004, §2, steps (1)-(9), one request at a time.

The community market of :mod:`market.sorted_pairing` clears a whole book at
once; this module spells out the contract's per-request workflow (Fig. 2),
each step a pure function, composed by :func:`serve_request`:

1. :func:`make_request` -- a user asks for energy and says whether it bids.
2. :func:`market.ce_sdt_pricing.suggested_price` -- the contract quotes the
   grid price and a suggested price from recent trades.
3. :func:`route` -- no bidding: straight to the grid (step 9); else step 4.
4. :func:`broadcast` -- the request goes to every user able to generate.
5. :func:`make_offers` -- each of them offers what it can spare, priced from
   the suggested price (its own ask if higher).
6. :func:`collect_offers` -- offers are accepted until the window closes.
7. :func:`sort_offers` -- by price, low to high (ties: earlier, then lower id).
8. :func:`accept_in_order` -- offers are taken in order until the demand is
   met (6.1) or the offers run out; (6.2) the rest comes from the grid.
9. :func:`bill` -- the contract bills the user for peer and grid energy.

Offers and accepted quantities are numpy columns; quantities are whole Wh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from market.ce_sdt_pricing import suggested_price
from market.priority import ask_priority

GRID = "grid"
BIDDING = "bidding"


@dataclass(frozen=True)
class EnergyRequest:
    """Step (1): a user's request to the contract.

    Attributes:
        agent: Requesting user.
        demand_wh: Energy required, whole Wh ``>= 0``.
        bidding: Whether the user asks for bidding (else grid supply only).
        max_price: The most the user pays per kWh in the community market
            (``None``: up to the grid tariff).
    """

    agent: int
    demand_wh: int
    bidding: bool = True
    max_price: float | None = None


def make_request(
    agent: int, demand_wh: int, bidding: bool = True, max_price: float | None = None
) -> EnergyRequest:
    """Step (1): build a validated request.

    Raises:
        ValueError: If ``demand_wh`` is negative or ``max_price`` negative.
    """
    if int(demand_wh) < 0:
        raise ValueError(f"demand_wh must be >= 0 (got {demand_wh})")
    if max_price is not None and max_price < 0:
        raise ValueError(f"max_price must be >= 0 (got {max_price})")
    return EnergyRequest(int(agent), int(demand_wh), bool(bidding), max_price)


def route(request: EnergyRequest) -> str:
    """Step (3): ``"grid"`` without bidding (3.1) or an empty demand, else ``"bidding"`` (3.2)."""
    return BIDDING if request.bidding and request.demand_wh > 0 else GRID


@dataclass(frozen=True, eq=False)
class Offers:
    """Offers of supply nodes as columns.

    Attributes:
        agent: int64 offering user.
        quantity_wh: int64 energy offered, ``> 0``.
        price: float64 coins/kWh.
        submitted_s: float64 submission time (seconds since the broadcast).
    """

    agent: np.ndarray
    quantity_wh: np.ndarray
    price: np.ndarray
    submitted_s: np.ndarray

    def take(self, rows: np.ndarray) -> Offers:
        """The selected rows, in the given order."""
        return Offers(
            self.agent[rows], self.quantity_wh[rows], self.price[rows], self.submitted_s[rows]
        )

    def __len__(self) -> int:
        return int(self.agent.shape[0])


def broadcast(
    request: EnergyRequest, agents: npt.ArrayLike, surplus_wh: npt.ArrayLike
) -> np.ndarray:
    """Step (4): positions of the users able to supply (surplus > 0, not the requester)."""
    agents, surplus = np.asarray(agents), np.asarray(surplus_wh)
    return np.flatnonzero((surplus > 0) & (agents != request.agent))


def make_offers(
    request: EnergyRequest,
    agents: npt.ArrayLike,
    surplus_wh: npt.ArrayLike,
    own_ask: npt.ArrayLike,
    suggested: float,
    submitted_s: npt.ArrayLike,
) -> Offers:
    """Step (5): every reached supplier offers ``min(surplus, demand)`` at ``max(suggested, ask)``.

    Args:
        request: The request being served.
        agents: Ids of the users reached by :func:`broadcast`.
        surplus_wh: What each can spare (whole Wh).
        own_ask: The least each accepts (coins/kWh).
        suggested: The contract's suggested price (step 2).
        submitted_s: When each offer reaches the contract.
    """
    q = np.minimum(np.asarray(surplus_wh, dtype=np.int64), request.demand_wh)
    keep = q > 0
    return Offers(
        agent=np.asarray(agents, dtype=np.int64)[keep],
        quantity_wh=q[keep],
        price=np.maximum(np.asarray(own_ask, dtype=np.float64), suggested)[keep],
        submitted_s=np.asarray(submitted_s, dtype=np.float64)[keep],
    )


def collect_offers(offers: Offers, window_s: float) -> Offers:
    """Step (6): keep the offers that arrived before the order window closed."""
    return offers.take(np.flatnonzero(offers.submitted_s <= window_s))


def sort_offers(offers: Offers) -> Offers:
    """Step (7): prices low to high; ties by submission time, then agent id."""
    by_agent = np.argsort(offers.agent, kind="stable")
    by_time = by_agent[np.argsort(offers.submitted_s[by_agent], kind="stable")]
    order = by_time[ask_priority(offers.price[by_time])]
    return offers.take(order)


def accept_in_order(offers: Offers, demand_wh: int, max_price: float) -> tuple[np.ndarray, int]:
    """Step (8): accept sorted offers in order while they are affordable.

    Returns:
        Accepted Wh per offer (same order) and the remainder for the grid (6.2).
    """
    affordable = offers.price <= max_price
    q = np.where(affordable, offers.quantity_wh, 0)
    before = np.cumsum(q) - q
    accepted = np.clip(demand_wh - before, 0, q).astype(np.int64)
    return accepted, int(demand_wh - accepted.sum())


@dataclass(frozen=True, eq=False)
class Bill:
    """Step (9): what the user pays.

    Attributes:
        peer_wh: Energy bought from peers.
        grid_wh: Energy bought from the grid.
        peer_coins: Paid to peers.
        grid_coins: Paid to the grid.
        sellers: Agent ids paid, one per accepted offer.
        seller_wh: Energy bought from each.
        seller_coins: Paid to each.
    """

    peer_wh: int
    grid_wh: int
    peer_coins: float
    grid_coins: float
    sellers: np.ndarray
    seller_wh: np.ndarray
    seller_coins: np.ndarray

    @property
    def total_coins(self) -> float:
        """Total cost of the request."""
        return self.peer_coins + self.grid_coins


def bill(offers: Offers, accepted_wh: np.ndarray, grid_wh: int, tariff: float) -> Bill:
    """Step (9): bill the accepted offers at their prices and the rest at the tariff."""
    took = accepted_wh > 0
    coins = accepted_wh[took] / 1000.0 * offers.price[took]
    return Bill(
        peer_wh=int(accepted_wh.sum()),
        grid_wh=int(grid_wh),
        peer_coins=float(coins.sum()),
        grid_coins=grid_wh / 1000.0 * tariff,
        sellers=offers.agent[took],
        seller_wh=accepted_wh[took],
        seller_coins=coins,
    )


def serve_request(
    request: EnergyRequest,
    suppliers: npt.ArrayLike,
    surplus_wh: npt.ArrayLike,
    own_ask: npt.ArrayLike,
    submitted_s: npt.ArrayLike,
    *,
    tariff: float,
    feed_in: float,
    recent_prices: npt.ArrayLike = (),
    recent_quantities_wh: npt.ArrayLike = (),
    window_s: float = 60.0,
) -> Bill:
    """Steps (1)-(9) for one request.

    Args:
        request: Step (1).
        suppliers: Ids of all users (the contract broadcasts to those able to supply).
        surplus_wh: Each one's spare energy (whole Wh; <= 0 when it has none).
        own_ask: Each one's least acceptable price (coins/kWh).
        submitted_s: When each one's offer would reach the contract.
        tariff: Grid retail price (coins/kWh).
        feed_in: Grid feed-in price (coins/kWh).
        recent_prices: Prices of recent community trades (for step 2).
        recent_quantities_wh: Their quantities.
        window_s: Order window of step (6), seconds.

    Returns:
        The bill of step (9).
    """
    suggested = suggested_price(recent_prices, recent_quantities_wh, tariff, feed_in)
    empty = Offers(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if route(request) == GRID:
        return bill(empty, np.zeros(0, np.int64), request.demand_wh, tariff)
    reached = broadcast(request, suppliers, surplus_wh)
    offers = make_offers(
        request,
        np.asarray(suppliers)[reached],
        np.asarray(surplus_wh)[reached],
        np.asarray(own_ask, dtype=np.float64)[reached],
        suggested,
        np.asarray(submitted_s, dtype=np.float64)[reached],
    )
    ranked = sort_offers(collect_offers(offers, window_s))
    limit = tariff if request.max_price is None else min(request.max_price, tariff)
    accepted, to_grid = accept_in_order(ranked, request.demand_wh, limit)
    return bill(ranked, accepted, to_grid, tariff)
