"""Physical limits on trades: curtail or price what would overload a line or a voltage.

Which trades change the physics? A household's or EV's meter reading is decided
before the market (the market only prices it), so a peer trade between them moves
no electrons that the grid-only settlement would not. A *dispatchable* sale (a
provider's generator, which produces only what it sells) does: ``q`` kW sold by a
unit at bus ``s`` is ``q`` kW injected at ``s`` and ``q`` kW less drawn at the
substation. On a radial feeder that lowers the flow on every line of the path from
the substation to ``s`` by ``q`` and raises ``W = V^2`` at every bus ``j`` by
``2 q R_js`` (LinDistFlow, with ``R_js`` the resistance the paths to ``j`` and ``s``
share, per unit).

:func:`dispatchable_headroom_kw` takes the step's operating point (flows and voltages
without the dispatchable sales) and the sales in trade order, and gives each sale
the largest injection that keeps every line within its rating and every voltage
within ``[v_min, v_max]`` (greedy, first trade first, deterministic). The rules:

- ``none``: trades stand as cleared.
- ``curtail``: each sale is cut to its headroom; the buyer gets the rest from the grid.
- ``price``: trades stand, and the part above the headroom carries a network charge
  of ``penalty_coins_per_kwh`` (paid by the seller).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.params import check, check_range
from agents.powerflow.lmp import line_rating_kw
from agents.powerflow.network import FeederNetwork
from market import Trades

LIMIT_RULES = ("none", "curtail", "price")


@dataclass(frozen=True)
class GridLimits:
    """How physical limits feed back on trades (``grid.limits``).

    Attributes:
        rule: ``none``, ``curtail`` or ``price``.
        penalty_coins_per_kwh: Network charge on energy above the headroom (``price``;
            ours: the peak tariff's order of magnitude).
    """

    rule: str = "none"
    penalty_coins_per_kwh: float = 0.3

    def __post_init__(self) -> None:
        check(self.rule in LIMIT_RULES, "rule", f"one of {LIMIT_RULES}", self.rule)
        check_range(self.penalty_coins_per_kwh, "penalty_coins_per_kwh", 0.0)


@dataclass(frozen=True, eq=False)
class LimitOutcome:
    """Per trade: the kW allowed, the kW above it, and the charge (coins/h) under ``price``."""

    allowed_kw: np.ndarray
    excess_kw: np.ndarray
    charge_coins_per_h: np.ndarray


def dispatchable_headroom_kw(
    network: FeederNetwork,
    flow_kw: np.ndarray,
    v_pu: np.ndarray,
    seller_bus: np.ndarray,
    quantity_kw: np.ndarray,
    v_band_pu: tuple[float, float] = (0.95, 1.05),
) -> np.ndarray:
    """Largest injection each sale may add, in order (see the module docstring).

    Args:
        network: The feeder.
        flow_kw: Active flow of the line feeding each bus at the operating point.
        v_pu: Bus voltages at the operating point.
        seller_bus: Bus index of each sale's generator.
        quantity_kw: Power each sale asks to inject.
        v_band_pu: Voltage band.

    Returns:
        Allowed kW per sale, ``0 <= allowed <= quantity``.
    """
    flow = np.asarray(flow_kw, dtype=float).copy()
    w = np.asarray(v_pu, dtype=float) ** 2
    rating = line_rating_kw(network)
    scale = 1000.0 * network.base_mva
    v_max2 = v_band_pu[1] ** 2
    path_sets = {}
    allowed = np.zeros(len(seller_bus))
    for k, (s, q) in enumerate(zip(np.asarray(seller_bus).tolist(), quantity_kw, strict=True)):
        path = path_sets.get(s)
        if path is None:
            path = _path_to_root(network, s)
            path_sets[s] = path
        # Lines on the path: flow f - d must stay >= -rating.
        line_room = flow[path] + rating[path] if len(path) else np.array([np.inf])
        room = max(float(np.min(line_room)), 0.0)
        shared_r = _shared_resistance(network, path)  # per bus, pu
        rising = shared_r > 0
        if rising.any():
            v_room = (v_max2 - w[rising]) / (2.0 * shared_r[rising]) * scale
            room = min(room, max(float(np.min(v_room)), 0.0))
        take = min(float(q), room)
        allowed[k] = take
        flow[path] -= take
        w += 2.0 * shared_r * take / scale
    return allowed


def apply_limits(
    limits: GridLimits,
    network: FeederNetwork,
    flow_kw: np.ndarray,
    v_pu: np.ndarray,
    seller_bus: np.ndarray,
    quantity_kw: np.ndarray,
    v_band_pu: tuple[float, float] = (0.95, 1.05),
) -> LimitOutcome:
    """The rule's outcome for the step's dispatchable sales."""
    quantity = np.asarray(quantity_kw, dtype=float)
    if limits.rule == "none":
        zero = np.zeros(len(quantity))
        return LimitOutcome(quantity.copy(), zero, zero.copy())
    headroom = dispatchable_headroom_kw(network, flow_kw, v_pu, seller_bus, quantity, v_band_pu)
    excess = quantity - headroom
    if limits.rule == "curtail":
        return LimitOutcome(headroom, excess, np.zeros(len(quantity)))
    return LimitOutcome(quantity.copy(), excess, excess * limits.penalty_coins_per_kwh)


def _path_to_root(network: FeederNetwork, bus: int) -> np.ndarray:
    path = []
    node = int(bus)
    while node != network.root:
        path.append(node)
        node = int(network.parent[node])
    return np.array(path, dtype=np.int64)


def _shared_resistance(network: FeederNetwork, path: np.ndarray) -> np.ndarray:
    """For every bus j, the resistance its root path shares with ``path`` (pu)."""
    on_path = np.zeros(network.n_bus)
    on_path[path] = network.r_pu[path]
    return network.path_cumsum(on_path)


@dataclass(frozen=True, eq=False)
class TradeLimitResult:
    """Trades after the limit rule, their kinds, and the step's counts.

    Attributes:
        trades: The trades, limited sales cut, with the added grid trades at the end.
        kind: Trade kind codes, same order.
        limited_wh: Energy of dispatchable sales above their headroom.
        network_charge_coins: What the grid operator kept under ``price``.
    """

    trades: Trades
    kind: np.ndarray
    limited_wh: int
    network_charge_coins: float


def limit_trades(
    limits: GridLimits,
    physics,
    trades: Trades,
    kind: np.ndarray,
    dispatchable_sale: np.ndarray,
    seller_bus: np.ndarray,
    operating_point,
    dt_h: float,
    tariff: float,
    grid_agent: int,
    import_kind: int,
    export_kind: int,
) -> TradeLimitResult:
    """Apply the rule to the step's dispatchable peer sales (in trade order).

    ``curtail``: a sale is cut to its headroom (whole Wh) and its buyer gets the cut
    part from the grid at ``tariff``. ``price``: the cut part is wheeled through the
    grid operator instead, who buys it from the seller at the trade price minus
    ``penalty_coins_per_kwh`` (at least 0) and sells it to the buyer at the trade
    price, keeping the difference as the network charge. Energy flows are unchanged
    under ``price`` and reduced under ``curtail``.

    Args:
        limits: The rule.
        physics: The bound :class:`~agents.powerflow.engine.GridPhysics`.
        trades: The step's trades.
        kind: Their kind codes.
        dispatchable_sale: Which trades are peer sales of a dispatchable unit.
        seller_bus: Graph node of each trade's seller (read where ``dispatchable_sale``).
        operating_point: The step's power flow without the dispatchable sales.
        dt_h: Step length in hours.
        tariff: The step's retail price.
        grid_agent: Agent id of the grid operator.
        import_kind: Kind code of grid -> buyer trades.
        export_kind: Kind code of seller -> grid trades.
    """
    rows = np.flatnonzero(dispatchable_sale)
    if limits.rule == "none" or not len(rows):
        return TradeLimitResult(trades, kind, 0, 0.0)
    network = physics.network
    flow = np.zeros(network.n_bus)
    flow[network.branch_to] = operating_point.branch_p_kw
    settings = physics.settings
    quantity_kw = trades.quantity_wh[rows] / 1000.0 / dt_h
    headroom = dispatchable_headroom_kw(
        network,
        flow,
        operating_point.v_pu,
        network.bus_index(seller_bus[rows]),
        quantity_kw,
        (settings.v_min_pu, settings.v_max_pu),
    )
    allowed_wh = np.minimum(np.floor(headroom * dt_h * 1000.0 + 1e-9), trades.quantity_wh[rows])
    allowed_wh = allowed_wh.astype(np.int64)
    excess_wh = trades.quantity_wh[rows] - allowed_wh
    cut = excess_wh > 0
    if not cut.any():
        return TradeLimitResult(trades, kind, 0, 0.0)
    rows, allowed_wh, excess_wh = rows[cut], allowed_wh[cut], excess_wh[cut]
    columns = {name: getattr(trades, name).copy() for name in Trades.__dataclass_fields__}
    columns["quantity_wh"][rows] = allowed_wh
    keep = columns["quantity_wh"] > 0
    kept = Trades(**{name: values[keep] for name, values in columns.items()})
    buyer, seller, price = trades.buyer[rows], trades.seller[rows], trades.price[rows]
    n = len(rows)
    grid_col = np.full(n, grid_agent, dtype=np.int64)
    none = np.full(n, -1, dtype=np.int64)
    sell_price = price if limits.rule == "price" else np.full(n, float(tariff))
    to_buyer = Trades(
        buyer=buyer,
        seller=grid_col,
        buyer_order=trades.buyer_order[rows],
        seller_order=none,
        buyer_area=trades.buyer_area[rows],
        seller_area=none.astype(np.int32),
        quantity_wh=excess_wh,
        price=sell_price,
    )
    parts, kinds = [kept, to_buyer], [kind[keep], np.full(n, import_kind, dtype=kind.dtype)]
    charge = 0.0
    if limits.rule == "price":
        paid = np.maximum(price - limits.penalty_coins_per_kwh, 0.0)
        parts.append(
            Trades(
                buyer=grid_col,
                seller=seller,
                buyer_order=none,
                seller_order=trades.seller_order[rows],
                buyer_area=none.astype(np.int32),
                seller_area=trades.seller_area[rows],
                quantity_wh=excess_wh,
                price=paid,
            )
        )
        kinds.append(np.full(n, export_kind, dtype=kind.dtype))
        charge = float(np.sum((price - paid) * excess_wh / 1000.0))
    return TradeLimitResult(
        Trades.concat(parts), np.concatenate(kinds), int(excess_wh.sum()), charge
    )
