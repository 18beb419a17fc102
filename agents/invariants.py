"""Invariants checked after every step in debug mode (``debug.invariants=true``).

Four properties the papers' designs promise and the simulator must keep, checked while
the run goes rather than only at the end, so a violation names the step it happened in:

1. **Coins conserved per chain**: the ledger's balances sum to the genesis total (payments
   move coins, never create or destroy them).
2. **Energy balance per step**: produced + imported = consumed + exported + stored +
   losses (PV + battery discharge + provider generation + grid import = load + battery
   charge, which covers storage and its losses, + EV charging + grid export), within the
   rounding of orders to whole Wh (0.5 Wh per order).
3. **No committed transaction invalid**: every new block is re-validated with the
   independent verifier's rules (:mod:`chain.verify`: header hash and signature, link,
   Merkle root, consensus rules and certificates, then each transaction's hash,
   signature, nonce and funds against the verifier's own balances), and the verifier's
   balances must equal the ledger's.
4. **Every trade within its orders' limits**: a market trade's price is at most the buy
   order's limit and at least the sell order's; the energy traded on an order never
   exceeds it and, with the grid settling the rest, equals it for every buy and every
   non-dispatchable sell; the grid trades at the tariff (imports) or feed-in tariff
   (exports). Checked on every clearing, in the areas (:class:`CheckedMarket` wraps the
   mechanism) and across areas.

A violation raises :class:`InvariantViolation`, whose message names the invariant, the
step and the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chain.export import _block_columns, _transaction_columns
from chain.verify import _apply_transaction, _check_block, _check_genesis
from chain.verify_base import Problems, merkle_root
from chain.verify_consensus import check_consensus
from market import BUY, SELL, MarketContext, OrderBook, Trades

# Float prices: a trade at exactly the limit may differ from it in the last bits.
PRICE_TOLERANCE = 1e-9
# Orders are whole Wh, physics is float kWh: half a Wh per order, plus float noise.
ENERGY_TOLERANCE_KWH_PER_ORDER = 0.0005
ENERGY_TOLERANCE_KWH = 1e-6


class InvariantViolation(RuntimeError):
    """An invariant failed; the message names it, the step and the numbers.

    Attributes:
        invariant: Name of the invariant (``coins_conserved``, ``energy_balance``,
            ``valid_blocks``, ``trades_within_orders``).
        step: The step it failed in (``None`` if unknown, e.g. inside an area).
    """

    def __init__(self, invariant: str, step: int | None, detail: str):
        self.invariant, self.step, self.detail = invariant, step, detail
        at = f" at step {step}" if step is not None else ""
        super().__init__(f"invariant {invariant} violated{at}: {detail}")

    def __reduce__(self):
        return (InvariantViolation, (self.invariant, self.step, self.detail))


def check_trades_within_orders(
    book: OrderBook,
    trades: Trades,
    *,
    where: str,
    step: int | None = None,
    residual_wh: np.ndarray | None = None,
    grid_agent: int | None = None,
    ctx: MarketContext | None = None,
) -> None:
    """Check trades against the book they were cleared from (invariant 4).

    Args:
        book: The cleared book; trades' ``buyer_order``/``seller_order`` index it.
        trades: Trades of that book; order index ``-1`` is the grid side.
        where: What was cleared (for the message).
        step: The step (for the message).
        residual_wh: The mechanism's unmatched quantity per order; if given, traded +
            residual must equal each order's quantity.
        grid_agent: Agent id of the grid operator; if given (with ``ctx``), the book must
            be settled completely (buys and non-dispatchable sells) and grid trades must
            be at the tariff or feed-in tariff.
        ctx: The step's tariffs.

    Raises:
        InvariantViolation: ``trades_within_orders``.
    """
    n = len(book)

    def fail(detail: str) -> None:
        raise InvariantViolation("trades_within_orders", step, f"{where}: {detail}")

    for role, side, orders, party in (
        ("buy", BUY, trades.buyer_order, trades.buyer),
        ("sell", SELL, trades.seller_order, trades.seller),
    ):
        on_book = orders >= 0
        rows = orders[on_book]
        if rows.size and rows.max() >= n:
            fail(f"a trade names {role} order {int(rows.max())} of a book of {n} orders")
        wrong = np.flatnonzero((book.side[rows] != side) | (book.agent[rows] != party[on_book]))
        if wrong.size:
            i, agent = int(rows[wrong[0]]), int(party[on_book][wrong[0]])
            fail(f"a trade's {role} order {i} is not a {role} order of agent {agent}")
    market = (trades.buyer_order >= 0) & (trades.seller_order >= 0)
    bid = book.limit_price[trades.buyer_order[market]]
    ask = book.limit_price[trades.seller_order[market]]
    price = trades.price[market]
    over = np.flatnonzero(price > bid + PRICE_TOLERANCE)
    if over.size:
        k = over[0]
        fail(f"price {float(price[k])} coins/kWh is above the buyer's limit {float(bid[k])}")
    under = np.flatnonzero(price < ask - PRICE_TOLERANCE)
    if under.size:
        k = under[0]
        fail(f"price {float(price[k])} coins/kWh is below the seller's limit {float(ask[k])}")
    traded = np.zeros(n, dtype=np.int64)
    for orders in (trades.buyer_order, trades.seller_order):
        on_book = orders >= 0
        np.add.at(traded, orders[on_book], trades.quantity_wh[on_book])
    excess = np.flatnonzero(traded > book.quantity_wh)
    if excess.size:
        i = excess[0]
        fail(f"order {i} of {book.quantity_wh[i]} Wh traded {traded[i]} Wh")
    if residual_wh is not None:
        off = np.flatnonzero(traded + residual_wh != book.quantity_wh)
        if off.size:
            i = off[0]
            fail(
                f"order {i}: traded {traded[i]} Wh + residual {residual_wh[i]} Wh "
                f"!= its quantity {book.quantity_wh[i]} Wh"
            )
    if grid_agent is None or ctx is None:
        return
    must_settle = (book.side == BUY) | ~book.dispatchable
    short = np.flatnonzero(must_settle & (traded != book.quantity_wh))
    if short.size:
        i = short[0]
        fail(f"order {i} of {book.quantity_wh[i]} Wh settled only {traded[i]} Wh")
    imports = trades.seller_order < 0
    exports = trades.buyer_order < 0
    for mask, party, tariff, name in (
        (imports, trades.seller, ctx.tariff, "tariff"),
        (exports, trades.buyer, ctx.feed_in_tariff, "feed-in tariff"),
    ):
        if np.any(party[mask] != grid_agent):
            fail(
                f"a trade without a {'sell' if name == 'tariff' else 'buy'} order is not the grid's"
            )
        off = np.flatnonzero(np.abs(trades.price[mask] - tariff) > PRICE_TOLERANCE)
        if off.size:
            price = float(trades.price[mask][off[0]])
            fail(f"grid trade at {price} coins/kWh, the {name} is {float(tariff)}")


class CheckedMarket:
    """A market mechanism whose every clearing is checked (invariant 4).

    Picklable, so areas in Ray actors carry the check too; every other attribute is
    the wrapped mechanism's.
    """

    def __init__(self, market: Any):
        self.market = market

    def clear(self, book: OrderBook, ctx: MarketContext, *args: Any, **kwargs: Any):
        """Clear with the wrapped mechanism, then check the trades against ``book``."""
        result = self.market.clear(book, ctx, *args, **kwargs)
        check_trades_within_orders(
            book, result.trades, where=f"market={self.name}", residual_wh=result.residual_wh
        )
        return result

    def __getattr__(self, name: str) -> Any:
        if name == "market":  # not yet set (unpickling)
            raise AttributeError(name)
        return getattr(self.market, name)

    def __getstate__(self) -> dict[str, Any]:
        return {"market": self.market}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.market = state["market"]


class _NewBlocks:
    """The export's row builders read ``.blocks``; this feeds them the step's new blocks."""

    def __init__(self, blocks: Sequence[Any]):
        self.blocks = blocks


class _ChainReplica:
    """The independent verifier's state of one chain, advanced block by block."""

    def __init__(self, chain: Any):
        self.chain = chain
        self.chain_id = chain.chain_id
        problems = Problems(5)
        genesis_hash, balances, self.rules = _check_genesis(
            self.chain_id, chain.genesis.to_dict(), problems
        )
        if problems.count:
            raise InvariantViolation("valid_blocks", 0, "; ".join(problems.items))
        self.genesis_total = sum(balances.values())
        self.balances, self.nonces = dict(balances), {}
        self.prev_hash, self.prev_timestamp, self.height = genesis_hash, 0, 0

    def check_new_blocks(self, step: int) -> None:
        blocks = self.chain.blocks[self.height :]
        if not blocks:
            return
        source = _NewBlocks(blocks)
        block_columns, tx_columns = _block_columns([source]), _transaction_columns([source])
        block_rows, tx_rows = _rows(block_columns), _rows(tx_columns)
        certificates = getattr(self.chain.ledger, "certificates", {})
        problems = Problems(5)
        for row in block_rows:
            height = row["height"]
            where = f"chain {self.chain_id!r} block {height}"
            if height != self.height + 1:
                problems.add(f"{where}: height is not {self.height + 1}")
            txs = [tx for tx in tx_rows if tx["block_height"] == height]
            certificate = certificates.get(height)
            _check_block(row, where, self.prev_hash, self.prev_timestamp, self.rules, problems)
            check_consensus(
                self.rules,
                row,
                where,
                self.prev_timestamp,
                txs,
                certificate.to_rows() if certificate is not None else None,
                problems,
            )
            if (
                row["n_tx"] != len(txs)
                or merkle_root([t["tx_hash"] for t in txs]) != row["merkle_root"]
            ):
                problems.add(f"{where}: n_tx or merkle_root does not match its transactions")
            for tx in txs:
                _apply_transaction(tx, self.chain_id, self.balances, self.nonces, problems)
            self.prev_hash, self.prev_timestamp, self.height = (
                row["block_hash"],
                row["timestamp_ms"],
                height,
            )
        if problems.count:
            raise InvariantViolation(
                "valid_blocks", step, f"{problems.count} problem(s): {'; '.join(problems.items)}"
            )
        ledger = {k: v for k, v in self.chain.ledger.balances.items() if v}
        replica = {k: v for k, v in self.balances.items() if v}
        if ledger != replica:
            differ = sorted(set(ledger.items()) ^ set(replica.items()))
            account = differ[0][0]
            raise InvariantViolation(
                "valid_blocks",
                step,
                f"chain {self.chain_id!r}: the ledger holds {ledger.get(account, 0)} micro-coins "
                f"for {account[:12]}…, re-validating its blocks gives {replica.get(account, 0)}",
            )


def _rows(columns: dict[str, list]) -> list[dict]:
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]


class StepInvariants:
    """Invariants 1-3 (and 4 across areas) of a model, checked after each of its steps."""

    def __init__(self, chains: Sequence[Any]):
        self.replicas = [_ChainReplica(chain) for chain in chains]

    def check_step(
        self,
        step: int,
        metrics: dict[str, float],
        residual: OrderBook,
        settled: Trades,
        grid_agent: int,
        ctx: MarketContext,
    ) -> None:
        """Check everything after ``step``.

        Args:
            step: The step just run.
            metrics: Its model-level metrics (energy terms, ``orders``).
            residual: The book of every area's residual orders (cleared across areas).
            settled: The cross-area and grid trades of that book.
            grid_agent: Agent id of the grid operator.
            ctx: The step's tariffs.

        Raises:
            InvariantViolation: The first invariant that fails.
        """
        for replica in self.replicas:
            check_coins(replica.chain, replica.genesis_total, step)
        check_energy(metrics, step)
        for replica in self.replicas:
            replica.check_new_blocks(step)
        check_trades_within_orders(
            residual,
            settled,
            where="cross-area and grid settlement",
            step=step,
            grid_agent=grid_agent,
            ctx=ctx,
        )


def check_coins(chain: Any, genesis_total: int, step: int) -> None:
    """Invariant 1: the ledger's balances sum to the genesis total."""
    total = sum(chain.ledger.balances.values())
    if total != genesis_total:
        raise InvariantViolation(
            "coins_conserved",
            step,
            f"chain {chain.chain_id!r}: balances sum to {total} micro-coins, genesis total is "
            f"{genesis_total} (difference {total - genesis_total})",
        )


def check_energy(metrics: dict[str, float], step: int) -> None:
    """Invariant 2: energy in = energy out within the rounding of orders to whole Wh."""
    produced = metrics["pv_kwh"] + metrics["battery_discharge_kwh"]
    produced += metrics["provider_generation_kwh"]
    consumed = metrics["load_kwh"] + metrics["battery_charge_kwh"] + metrics["ev_charge_kwh"]
    imported, exported = metrics["grid_import_kwh"], metrics["grid_export_kwh"]
    error = metrics["energy_balance_error_kwh"]
    recomputed = produced + imported - consumed - exported
    tolerance = ENERGY_TOLERANCE_KWH + ENERGY_TOLERANCE_KWH_PER_ORDER * metrics["orders"]
    if abs(error) > tolerance or abs(recomputed) > tolerance or not np.isfinite(error):
        raise InvariantViolation(
            "energy_balance",
            step,
            f"produced {produced:.6f} + imported {imported:.6f} kWh != consumed {consumed:.6f} "
            f"(incl. storage and losses) + exported {exported:.6f} kWh: off by "
            f"{recomputed:.6f} kWh (model says {error:.6f}), allowed {tolerance:.6f}",
        )
