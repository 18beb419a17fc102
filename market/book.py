"""Columnar order book: one row per order, one numpy array per attribute.

The row index of an order is its order id: clearing results (residuals,
``Trades.buyer_order``/``seller_order``) refer to orders by that index.

Quantities are whole watt-hours (int64) so that clearing conserves energy
exactly; limit prices are coins per kWh (float64).  A buyer's limit price is
the most it will pay, a seller's the least it will accept (seed 004, CE-SDT,
§3.3: buying and selling prices submitted to the trading contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from market._columns import (
    as_bool_column,
    as_float_column,
    as_int_column,
    check_equal_lengths,
    frozen,
    selection_indices,
)

BUY: int = 1
"""Side code of a buy order (demand)."""

SELL: int = -1
"""Side code of a sell order (surplus or generation)."""

_FIELDS = ("agent", "side", "quantity_wh", "limit_price", "area", "dispatchable")


@dataclass(frozen=True, eq=False)
class OrderBook:
    """Orders of one clearing step, stored as equal-length read-only numpy columns.

    Attributes:
        agent: int64 global agent id of the order's owner.
        side: int8, ``BUY`` (1) or ``SELL`` (-1).
        quantity_wh: int64 energy in whole Wh, ``>= 0``.
        limit_price: float64 coins/kWh, finite; a buyer's maximum, a seller's minimum.
        area: int32 station area id.
        dispatchable: bool; ``True`` for a seller whose unmatched quantity is
            simply not produced (e.g. a generator) instead of being exported to
            the grid.  Ignored on buy orders.

    Constructing an ``OrderBook`` directly coerces and validates the columns
    exactly like :meth:`from_columns`.  The arrays are copies marked
    read-only, so a book never changes after construction.
    """

    agent: np.ndarray
    side: np.ndarray
    quantity_wh: np.ndarray
    limit_price: np.ndarray
    area: np.ndarray
    dispatchable: np.ndarray

    def __post_init__(self) -> None:
        cols = {
            "agent": as_int_column("agent", self.agent, np.int64),
            "side": as_int_column("side", self.side, np.int8),
            "quantity_wh": as_int_column("quantity_wh", self.quantity_wh, np.int64),
            "limit_price": as_float_column("limit_price", self.limit_price),
            "area": as_int_column("area", self.area, np.int32),
            "dispatchable": as_bool_column("dispatchable", self.dispatchable),
        }
        check_equal_lengths(cols)
        if not np.all((cols["side"] == BUY) | (cols["side"] == SELL)):
            raise ValueError(f"column 'side' must hold only BUY ({BUY}) or SELL ({SELL})")
        if cols["quantity_wh"].size and cols["quantity_wh"].min() < 0:
            raise ValueError("column 'quantity_wh' must be non-negative")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_columns(
        cls,
        *,
        agent: npt.ArrayLike,
        side: npt.ArrayLike,
        quantity_wh: npt.ArrayLike,
        limit_price: npt.ArrayLike,
        area: npt.ArrayLike | None = None,
        dispatchable: npt.ArrayLike | None = None,
    ) -> OrderBook:
        """Build a validated book from array-likes, coercing dtypes.

        Args:
            agent: Agent ids (whole numbers).
            side: ``BUY``/``SELL`` codes.
            quantity_wh: Non-negative whole Wh.
            limit_price: Finite prices in coins/kWh.
            area: Station area ids; all ``0`` when omitted.
            dispatchable: Dispatchable-seller flags; all ``False`` when omitted.

        Returns:
            The new book.

        Raises:
            ValueError: Naming the column that has the wrong length, dtype or
                an invalid value.
        """
        agent_col = np.asarray(agent)  # no copy here; the constructor copies once
        n = agent_col.shape[0] if agent_col.ndim == 1 else 0
        return cls(
            agent=agent_col,
            side=np.asarray(side),
            quantity_wh=np.asarray(quantity_wh),
            limit_price=np.asarray(limit_price),
            area=np.zeros(n, dtype=np.int32) if area is None else np.asarray(area),
            dispatchable=(
                np.zeros(n, dtype=np.bool_) if dispatchable is None else np.asarray(dispatchable)
            ),
        )

    @classmethod
    def empty(cls) -> OrderBook:
        """Return a book with no orders."""
        return cls.from_columns(agent=[], side=[], quantity_wh=[], limit_price=[])

    @classmethod
    def _trusted(cls, **cols: np.ndarray) -> OrderBook:
        """Wrap columns already known to be valid (fresh arrays of the right dtype)."""
        book = object.__new__(cls)
        for name in _FIELDS:
            object.__setattr__(book, name, frozen(cols[name]))
        return book

    @classmethod
    def concat(cls, books: Sequence[OrderBook]) -> OrderBook:
        """Alias of :func:`concat`."""
        return concat(books)

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return int(self.agent.shape[0])

    def len(self) -> int:
        """Return the number of orders (same as ``len(book)``)."""
        return len(self)

    def buys(self) -> np.ndarray:
        """Return the boolean mask of buy orders."""
        return self.side == BUY

    def sells(self) -> np.ndarray:
        """Return the boolean mask of sell orders."""
        return self.side == SELL

    def columns(self) -> dict[str, np.ndarray]:
        """Return the columns by name (read-only arrays, not copies)."""
        return {name: getattr(self, name) for name in _FIELDS}

    # ------------------------------------------------------------------ derived books
    def take(self, indices_or_mask: npt.ArrayLike) -> OrderBook:
        """Return the sub-book of the selected rows, in selection order.

        Args:
            indices_or_mask: Boolean mask of length ``len(self)`` or integer row indices.

        Returns:
            A new book; its row indices are positions in the selection.
        """
        idx = selection_indices(indices_or_mask, len(self))
        return OrderBook._trusted(**{name: getattr(self, name)[idx] for name in _FIELDS})

    def with_quantities(self, quantity_wh: npt.ArrayLike) -> OrderBook:
        """Return a copy of the book with ``quantity_wh`` replaced (validated)."""
        q = as_int_column("quantity_wh", quantity_wh, np.int64)
        if q.shape[0] != len(self):
            raise ValueError(f"column 'quantity_wh' has length {q.shape[0]}, expected {len(self)}")
        if q.size and q.min() < 0:
            raise ValueError("column 'quantity_wh' must be non-negative")
        cols = self.columns()  # read-only, so safe to share between books
        cols["quantity_wh"] = q
        return OrderBook._trusted(**cols)


def concat(books: Sequence[OrderBook]) -> OrderBook:
    """Concatenate books row-wise, preserving the order of books and of rows.

    Args:
        books: Books to join; may be empty.

    Returns:
        A new book whose rows are those of ``books[0]``, then ``books[1]``, ...
    """
    if len(books) == 0:
        return OrderBook.empty()
    return OrderBook._trusted(
        **{name: np.concatenate([getattr(b, name) for b in books]) for name in _FIELDS}
    )
