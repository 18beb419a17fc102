"""Clearing output: columnar trades, per-order residuals and diagnostics.

A trade moves ``quantity_wh`` from a seller to a buyer at ``price`` coins/kWh.
The grid operator appears as an ordinary agent id with order index ``-1`` and
area ``-1`` (seed 004, CE-SDT, §3.3: residual demand and surplus are settled
with the grid).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from market._columns import (
    as_extra_column,
    as_float_column,
    as_int_column,
    check_equal_lengths,
    frozen,
    selection_indices,
)
from market.book import OrderBook

GRID_ORDER: int = -1
"""Order index used for the grid side of a trade."""

GRID_AREA: int = -1
"""Area id used for the grid side of a trade."""

_TRADE_FIELDS = (
    "buyer",
    "seller",
    "buyer_order",
    "seller_order",
    "buyer_area",
    "seller_area",
    "quantity_wh",
    "price",
)
_TRADE_DTYPES: dict[str, type[np.integer]] = {
    "buyer": np.int64,
    "seller": np.int64,
    "buyer_order": np.int64,
    "seller_order": np.int64,
    "buyer_area": np.int32,
    "seller_area": np.int32,
    "quantity_wh": np.int64,
}


@dataclass(frozen=True, eq=False)
class Trades:
    """Executed trades as equal-length read-only numpy columns (one row per trade).

    Attributes:
        buyer: int64 agent id of the buyer (the grid agent id for feed-in).
        seller: int64 agent id of the seller (the grid agent id for grid supply).
        buyer_order: int64 row of the buy order in the cleared book, ``-1`` for the grid.
        seller_order: int64 row of the sell order in the cleared book, ``-1`` for the grid.
        buyer_area: int32 area of the buy order, ``-1`` for the grid.
        seller_area: int32 area of the sell order, ``-1`` for the grid.
        quantity_wh: int64 energy traded, ``> 0``.
        price: float64 coins/kWh, finite.
    """

    buyer: np.ndarray
    seller: np.ndarray
    buyer_order: np.ndarray
    seller_order: np.ndarray
    buyer_area: np.ndarray
    seller_area: np.ndarray
    quantity_wh: np.ndarray
    price: np.ndarray

    def __post_init__(self) -> None:
        cols: dict[str, np.ndarray] = {
            name: as_int_column(name, getattr(self, name), dtype)
            for name, dtype in _TRADE_DTYPES.items()
        }
        cols["price"] = as_float_column("price", self.price)
        check_equal_lengths(cols)
        if cols["quantity_wh"].size and cols["quantity_wh"].min() <= 0:
            raise ValueError("column 'quantity_wh' must be > 0 for every trade")
        for name in ("buyer_order", "seller_order", "buyer_area", "seller_area"):
            if cols[name].size and cols[name].min() < -1:
                raise ValueError(f"column {name!r} must be >= -1")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    @classmethod
    def _trusted(cls, **cols: np.ndarray) -> Trades:
        """Wrap columns already known to be valid (fresh arrays of the right dtype)."""
        trades = object.__new__(cls)
        for name in _TRADE_FIELDS:
            object.__setattr__(trades, name, frozen(cols[name]))
        return trades

    @classmethod
    def empty(cls) -> Trades:
        """Return a table with no trades."""
        return cls._trusted(
            **{name: np.zeros(0, dtype=dtype) for name, dtype in _TRADE_DTYPES.items()},
            price=np.zeros(0, dtype=np.float64),
        )

    @classmethod
    def concat(cls, parts: Sequence[Trades]) -> Trades:
        """Alias of :func:`concat_trades`."""
        return concat_trades(parts)

    def __len__(self) -> int:
        return int(self.quantity_wh.shape[0])

    def take(self, indices_or_mask: npt.ArrayLike) -> Trades:
        """Return the selected rows (boolean mask or integer indices), in selection order."""
        idx = selection_indices(indices_or_mask, len(self))
        return Trades._trusted(**{name: getattr(self, name)[idx] for name in _TRADE_FIELDS})

    def value_coins(self) -> np.ndarray:
        """Return the value of each trade in coins: ``quantity_wh / 1000 * price``."""
        return self.quantity_wh / 1000.0 * self.price

    def to_columns(self) -> dict[str, np.ndarray]:
        """Return the columns by name (read-only arrays, e.g. for ``pandas.DataFrame``)."""
        return {name: getattr(self, name) for name in _TRADE_FIELDS}


def concat_trades(parts: Sequence[Trades]) -> Trades:
    """Concatenate trade tables row-wise, preserving order.

    Args:
        parts: Tables to join; may be empty.

    Returns:
        A new table with the rows of ``parts[0]``, then ``parts[1]``, ...
    """
    if len(parts) == 0:
        return Trades.empty()
    return Trades._trusted(
        **{name: np.concatenate([getattr(t, name) for t in parts]) for name in _TRADE_FIELDS}
    )


def remap_orders(trades: Trades, order_ids: npt.ArrayLike) -> Trades:
    """Translate order indices of ``trades`` through ``order_ids`` (grid ``-1`` kept).

    Use it after clearing a sub-book (e.g. a :func:`residual_book`) to refer
    trades back to rows of the parent book: ``order_ids[i]`` is the parent row
    of sub-book row ``i`` (see :func:`residual_order_ids`).

    Args:
        trades: Trades whose ``buyer_order``/``seller_order`` index the sub-book.
        order_ids: int64 parent row of every sub-book row.

    Returns:
        A new table with translated order indices.
    """
    ids = as_int_column("order_ids", order_ids, np.int64)
    cols = trades.to_columns()
    for name in ("buyer_order", "seller_order"):
        rows = cols[name]
        peer = rows != GRID_ORDER
        if np.any(rows[peer] >= len(ids)):
            raise IndexError(f"{name} refers to a row beyond the {len(ids)} order ids given")
        mapped = np.full(rows.shape[0], GRID_ORDER, dtype=np.int64)
        mapped[peer] = ids[rows[peer]]
        cols[name] = mapped
    return Trades._trusted(**cols)


@dataclass(frozen=True, eq=False)
class ClearingResult:
    """Outcome of clearing one order book.

    Attributes:
        trades: Peer-to-peer trades (order indices refer to the cleared book).
        residual_wh: int64, one entry per order of the cleared book: the
            quantity left unmatched, so ``traded + residual == quantity`` per order.
        diagnostics: Scalar summary statistics as floats (e.g. ``matched_wh``,
            ``n_trades``, ``mean_price``, and mechanism-specific ones such as
            ``iterations`` or ``welfare``).
        order_columns: Mechanism outputs per order of the cleared book (e.g. a
            producer's updated reputation, a user's settled credit), read-only
            arrays of length ``len(residual_wh)``; empty by default.  The world
            stores what it needs back into its agents (``docs/markets.md``).
        trade_columns: Mechanism outputs per trade (e.g. the chain a trade is
            recorded on), read-only arrays of length ``len(trades)``.
    """

    trades: Trades
    residual_wh: np.ndarray
    diagnostics: dict[str, float] = field(default_factory=dict)
    order_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    trade_columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        residual = as_int_column("residual_wh", self.residual_wh, np.int64)
        if residual.size and residual.min() < 0:
            raise ValueError("column 'residual_wh' must be non-negative")
        object.__setattr__(self, "residual_wh", residual)
        diagnostics = {str(k): float(v) for k, v in self.diagnostics.items()}
        object.__setattr__(self, "diagnostics", diagnostics)
        for attr, n in (("order_columns", len(residual)), ("trade_columns", len(self.trades))):
            cols = {}
            for name, values in dict(getattr(self, attr)).items():
                col = as_extra_column(name, values)
                if col.shape[0] != n:
                    raise ValueError(f"{attr}[{name!r}] has length {col.shape[0]}, expected {n}")
                cols[name] = col
            object.__setattr__(self, attr, MappingProxyType(cols))

    @classmethod
    def _trusted(
        cls, trades: Trades, residual_wh: np.ndarray, diagnostics: Mapping[str, float]
    ) -> ClearingResult:
        """Wrap a fresh, non-negative int64 residual column without copying it."""
        result = object.__new__(cls)
        object.__setattr__(result, "trades", trades)
        object.__setattr__(result, "residual_wh", frozen(residual_wh))
        object.__setattr__(
            result, "diagnostics", {str(k): float(v) for k, v in diagnostics.items()}
        )
        object.__setattr__(result, "order_columns", MappingProxyType({}))
        object.__setattr__(result, "trade_columns", MappingProxyType({}))
        return result

    def __getstate__(self) -> dict[str, object]:
        # Read-only mappings do not pickle; ship plain dicts.
        return {
            "trades": self.trades,
            "residual_wh": self.residual_wh,
            "diagnostics": dict(self.diagnostics),
            "order_columns": dict(self.order_columns),
            "trade_columns": dict(self.trade_columns),
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        for name in ("trades", "residual_wh", "diagnostics"):
            object.__setattr__(self, name, state[name])
        for name in ("order_columns", "trade_columns"):
            object.__setattr__(self, name, MappingProxyType(dict(state[name])))


def traded_wh(book: OrderBook, result: ClearingResult) -> np.ndarray:
    """Return the quantity traded by each order of ``book`` (``quantity - residual``)."""
    _check_result_matches(book, result)
    return book.quantity_wh - result.residual_wh


def residual_order_ids(result: ClearingResult) -> np.ndarray:
    """Return the rows (ascending) of the orders with a residual ``> 0``."""
    return np.flatnonzero(result.residual_wh > 0)


def residual_book(book: OrderBook, result: ClearingResult) -> OrderBook:
    """Return the orders left partly or wholly unmatched, with their residual quantity.

    Rows keep their relative order; row ``i`` of the returned book is row
    ``residual_order_ids(result)[i]`` of ``book``.  Typical use: clear every
    area on its own, :func:`concat` the residual books of all areas and clear
    them together in a second, cross-area round.

    Args:
        book: The book that was cleared.
        result: Its clearing result.

    Returns:
        The residual book (orders with ``residual_wh > 0`` only).

    Raises:
        ValueError: If ``result`` does not belong to ``book`` (length mismatch
            or a residual larger than the order's quantity).
    """
    _check_result_matches(book, result)
    rows = residual_order_ids(result)
    return book.take(rows).with_quantities(result.residual_wh[rows])


def _check_result_matches(book: OrderBook, result: ClearingResult) -> None:
    if result.residual_wh.shape[0] != len(book):
        raise ValueError(
            f"result has {result.residual_wh.shape[0]} residuals, "
            f"but the book has {len(book)} orders"
        )
    if np.any(result.residual_wh > book.quantity_wh):
        raise ValueError("a residual exceeds its order's quantity: result is not of this book")
