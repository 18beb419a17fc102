"""The clearing-mechanism interface and the registry of implementations.

A mechanism is a pure, deterministic function of an order book and the step's
market context; the grid settlement of what it leaves unmatched is done
separately by :func:`market.grid.settle_with_grid`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from market.book import OrderBook
from market.context import MarketContext
from market.double_auction import DoubleAuction
from market.ev_dr import EvDemandResponse
from market.grid_only import GridOnly
from market.local_re import LocalRE
from market.result import ClearingResult
from market.sorted_pairing import SortedPairing
from market.stackelberg import Stackelberg
from market.two_level import TwoLevel
from market.uniform_price import PayAsBid, UniformPrice


@runtime_checkable
class Mechanism(Protocol):
    """A market-clearing mechanism.

    Attributes:
        name: Registry name of the mechanism.
        book_columns: Names of the per-order ``extra`` columns the mechanism
            reads when they are present (required and optional ones); the
            world supplies them on every order (``docs/markets.md``).
    """

    name: str
    book_columns: tuple[str, ...]

    def clear(self, book: OrderBook, ctx: MarketContext) -> ClearingResult:
        """Match the orders of ``book``; must be pure and deterministic."""
        ...


MECHANISMS: Mapping[str, type] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            SortedPairing,
            GridOnly,
            UniformPrice,
            PayAsBid,
            DoubleAuction,
            Stackelberg,
            TwoLevel,
            LocalRE,
            EvDemandResponse,
        )
    }
)
"""Read-only registry: mechanism name -> class."""


def make_mechanism(name: str, **params: Any) -> Mechanism:
    """Instantiate the registered mechanism ``name`` with ``params``.

    Raises:
        ValueError: If ``name`` is not registered (the message lists the known names).
    """
    if name not in MECHANISMS:
        known = ", ".join(repr(n) for n in sorted(MECHANISMS))
        raise ValueError(f"unknown mechanism {name!r}; known: {known}")
    mechanism: Mechanism = MECHANISMS[name](**params)
    return mechanism


def book_columns_of(mechanism: object) -> tuple[str, ...]:
    """The per-order columns ``mechanism`` reads (``()`` for a plain ``clear`` object)."""
    return tuple(getattr(mechanism, "book_columns", ()))
