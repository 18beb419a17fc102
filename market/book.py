"""Columnar order book: one row per order, one numpy array per attribute.

The row index of an order is its order id: clearing results (residuals,
``Trades.buyer_order``/``seller_order``) refer to orders by that index.

Quantities are whole watt-hours (int64) so that clearing conserves energy
exactly; limit prices are coins per kWh (float64).  A buyer's limit price is
the most it will pay, a seller's the least it will accept (seed 004, CE-SDT,
§3.3: buying and selling prices submitted to the trading contract).

Mechanisms other than plain pairing need more per-order data (an EV's state of
charge, a producer's reputation, a supplier's cost coefficients...).  Those
travel in :attr:`OrderBook.extra`, a read-only mapping of named numpy columns
that every derived book (``take``, ``concat``, ``with_quantities``,
``residual_book``) carries along.  :meth:`OrderBook.require` fetches the
columns a mechanism needs and raises :class:`MissingColumnError` naming the
first one that is absent.  ``docs/markets.md`` lists every column by mechanism.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from market._columns import (
    as_bool_column,
    as_extra_column,
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
_NO_EXTRA: Mapping[str, np.ndarray] = MappingProxyType({})


class MissingColumnError(ValueError):
    """A mechanism needs a per-order column that the book does not carry.

    Attributes:
        column: Name of the missing column.
        mechanism: Name of the mechanism that needs it.
    """

    def __init__(self, column: str, mechanism: str, detail: str, present: Iterable[str]) -> None:
        self.column, self.mechanism = column, mechanism
        have = ", ".join(sorted(present)) or "none"
        super().__init__(
            f"{mechanism} needs the per-order column {column!r} ({detail}); "
            f"the book's extra columns are: {have}"
        )


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
        extra: Mechanism-specific columns by name (read-only mapping of
            read-only arrays, same length as the book): bool, int64 or finite
            float64.  Empty by default.

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
    extra: Mapping[str, np.ndarray] = field(default_factory=lambda: _NO_EXTRA)

    def __post_init__(self) -> None:
        cols = {
            "agent": as_int_column("agent", self.agent, np.int64),
            "side": as_int_column("side", self.side, np.int8),
            "quantity_wh": as_int_column("quantity_wh", self.quantity_wh, np.int64),
            "limit_price": as_float_column("limit_price", self.limit_price),
            "area": as_int_column("area", self.area, np.int32),
            "dispatchable": as_bool_column("dispatchable", self.dispatchable),
        }
        n = check_equal_lengths(cols)
        if not np.all((cols["side"] == BUY) | (cols["side"] == SELL)):
            raise ValueError(f"column 'side' must hold only BUY ({BUY}) or SELL ({SELL})")
        if cols["quantity_wh"].size and cols["quantity_wh"].min() < 0:
            raise ValueError("column 'quantity_wh' must be non-negative")
        for name, col in cols.items():
            object.__setattr__(self, name, col)
        object.__setattr__(self, "extra", _validated_extra(self.extra, n))

    def __getstate__(self) -> dict[str, object]:
        # Read-only mappings do not pickle; ship a plain dict (Ray, joblib, multiprocessing).
        state = self.columns()
        state["extra"] = dict(self.extra)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        extra = state.pop("extra", {})
        for name in _FIELDS:
            object.__setattr__(self, name, frozen(np.array(state[name], copy=True)))
        frozen_extra = {k: frozen(np.array(v, copy=True)) for k, v in dict(extra).items()}
        object.__setattr__(self, "extra", MappingProxyType(frozen_extra) if extra else _NO_EXTRA)

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
        extra: Mapping[str, npt.ArrayLike] | None = None,
    ) -> OrderBook:
        """Build a validated book from array-likes, coercing dtypes.

        Args:
            agent: Agent ids (whole numbers).
            side: ``BUY``/``SELL`` codes.
            quantity_wh: Non-negative whole Wh.
            limit_price: Finite prices in coins/kWh.
            area: Station area ids; all ``0`` when omitted.
            dispatchable: Dispatchable-seller flags; all ``False`` when omitted.
            extra: Mechanism-specific columns by name (see :attr:`extra`).

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
            extra=_NO_EXTRA if extra is None else extra,
        )

    @classmethod
    def empty(cls) -> OrderBook:
        """Return a book with no orders."""
        return cls.from_columns(agent=[], side=[], quantity_wh=[], limit_price=[])

    @classmethod
    def _trusted(cls, extra: Mapping[str, np.ndarray] = _NO_EXTRA, **cols: np.ndarray) -> OrderBook:
        """Wrap columns already known to be valid (fresh arrays of the right dtype)."""
        book = object.__new__(cls)
        for name in _FIELDS:
            object.__setattr__(book, name, frozen(cols[name]))
        frozen_extra = {name: frozen(col) for name, col in extra.items()}
        object.__setattr__(book, "extra", MappingProxyType(frozen_extra) if extra else _NO_EXTRA)
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
        """Return the core columns by name (read-only arrays, not copies; no extras)."""
        return {name: getattr(self, name) for name in _FIELDS}

    def has(self, name: str) -> bool:
        """Return whether the book carries the extra column ``name``."""
        return name in self.extra

    def require(self, mechanism: str, **needed: str) -> dict[str, np.ndarray]:
        """Return the extra columns a mechanism needs, or name the first missing one.

        Args:
            mechanism: Name of the calling mechanism (used in the error message).
            **needed: Column name -> a short description (unit, meaning, which
                orders), e.g. ``soc="state of charge in (0, 1] on buy orders"``.

        Returns:
            The requested columns by name (read-only arrays).

        Raises:
            MissingColumnError: Naming the first column of ``needed`` that the
                book does not carry (only when the book has orders).
        """
        out: dict[str, np.ndarray] = {}
        for name, detail in needed.items():
            if name in self.extra:
                out[name] = self.extra[name]
            elif len(self) == 0:
                out[name] = np.zeros(0, dtype=np.float64)
            else:
                raise MissingColumnError(name, mechanism, detail, self.extra)
        return out

    def column_or(self, name: str, default: float | bool | int) -> np.ndarray:
        """Return the extra column ``name``, or a constant column of ``default``."""
        if name in self.extra:
            return self.extra[name]
        return np.full(len(self), default)

    def with_extra(self, **columns: npt.ArrayLike) -> OrderBook:
        """Return a copy of the book with extra columns added or replaced (validated)."""
        merged = dict(self.extra)
        merged.update(columns)
        return OrderBook._trusted(extra=_validated_extra(merged, len(self)), **self.columns())

    # ------------------------------------------------------------------ derived books
    def take(self, indices_or_mask: npt.ArrayLike) -> OrderBook:
        """Return the sub-book of the selected rows, in selection order.

        Args:
            indices_or_mask: Boolean mask of length ``len(self)`` or integer row indices.

        Returns:
            A new book; its row indices are positions in the selection.
        """
        idx = selection_indices(indices_or_mask, len(self))
        return OrderBook._trusted(
            extra={name: col[idx] for name, col in self.extra.items()},
            **{name: getattr(self, name)[idx] for name in _FIELDS},
        )

    def with_quantities(self, quantity_wh: npt.ArrayLike) -> OrderBook:
        """Return a copy of the book with ``quantity_wh`` replaced (validated)."""
        q = as_int_column("quantity_wh", quantity_wh, np.int64)
        if q.shape[0] != len(self):
            raise ValueError(f"column 'quantity_wh' has length {q.shape[0]}, expected {len(self)}")
        if q.size and q.min() < 0:
            raise ValueError("column 'quantity_wh' must be non-negative")
        cols = self.columns()  # read-only, so safe to share between books
        cols["quantity_wh"] = q
        return OrderBook._trusted(extra=self.extra, **cols)


def concat(books: Sequence[OrderBook]) -> OrderBook:
    """Concatenate books row-wise, preserving the order of books and of rows.

    Args:
        books: Books to join; may be empty.

    Extra columns are concatenated by name.  Books without orders do not
    constrain the extra columns; every book with orders must carry the same
    extra column names.

    Returns:
        A new book whose rows are those of ``books[0]``, then ``books[1]``, ...

    Raises:
        ValueError: If two non-empty books carry different extra columns.
    """
    if len(books) == 0:
        return OrderBook.empty()
    filled = [b for b in books if len(b)]
    names = list(filled[0].extra) if filled else []
    for b in filled[1:]:
        if set(b.extra) != set(names):
            missing = sorted(set(names) ^ set(b.extra))
            raise ValueError(
                f"cannot concatenate books with different extra columns (differ in {missing})"
            )
    extra = {name: np.concatenate([b.extra[name] for b in filled]) for name in names}
    return OrderBook._trusted(
        extra=extra,
        **{name: np.concatenate([getattr(b, name) for b in books]) for name in _FIELDS},
    )


def _validated_extra(extra: Mapping[str, npt.ArrayLike], n: int) -> Mapping[str, np.ndarray]:
    """Validate extra columns (names, dtypes, length ``n``) into a read-only mapping."""
    if not isinstance(extra, Mapping):
        raise ValueError(f"extra must be a mapping of column name to array (got {type(extra)})")
    if not extra:
        return _NO_EXTRA
    out: dict[str, np.ndarray] = {}
    for name, values in extra.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"extra column name must be an identifier (got {name!r})")
        if name in _FIELDS:
            raise ValueError(f"extra column {name!r} clashes with a core column")
        col = as_extra_column(name, values)
        if col.shape[0] != n:
            raise ValueError(f"column {name!r} has length {col.shape[0]}, expected {n}")
        out[name] = col
    return MappingProxyType(out)
