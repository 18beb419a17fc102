"""Scenario 2: clearing time per market mechanism vs order-book size.

Books are random but fixed by the seed: half buyers, half sellers (a tenth of the
sellers dispatchable generators), quantities of 1 Wh to 5 kWh, limit prices uniform
between the feed-in tariff and the retail tariff, spread over two areas. Every
mechanism registered in :data:`market.MECHANISMS` when the benchmark runs is
measured; one that cannot be built with default arguments is built from its
``conf/market`` entry. A mechanism that asks for a per-order extra column
(``OrderBook.require``) gets one drawn from :data:`EXTRA_COLUMNS` (random values in the
range its documentation states; unknown names are reported as errors).

Some mechanisms solve an optimisation per step and grow much faster than
``n log n``; each (mechanism, size) is therefore timed in a forked child process that
is killed when it runs past its deadline (``budget_s``), and a mechanism that
misses it is reported under ``skipped`` and not tried on larger books.
"""

from __future__ import annotations

import multiprocessing
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

import market
from experiments.bench.common import group_options, make_config
from experiments.build import instantiate_group
from market import BUY, SELL, MarketContext, OrderBook

#: Tariffs of the benchmark books (coins/kWh): the default day tariff and feed-in.
CONTEXT = MarketContext(step=48, tariff=0.20, feed_in_tariff=0.10)
#: The issue's headline mechanism for the 1e6-order figure, and its stand-in.
UNIFORM = "uniform_price"
FALLBACK = "sorted_pairing"

Draw = Callable[[np.random.Generator, OrderBook], np.ndarray]

#: Extra per-order columns some mechanisms need, drawn in their documented ranges.
EXTRA_COLUMNS: dict[str, Draw] = {
    "soc": lambda rng, book: rng.uniform(0.1, 1.0, len(book)),
    "is_ev": lambda rng, book: (book.side == BUY) & (rng.random(len(book)) < 0.5),
    "x_km": lambda rng, book: rng.uniform(0.0, 5.0, len(book)),
    "y_km": lambda rng, book: rng.uniform(0.0, 5.0, len(book)),
    "capacity_wh": lambda rng, book: rng.uniform(12_000, 36_000, len(book)),
    "max_range_km": lambda rng, book: rng.uniform(100.0, 300.0, len(book)),
    "reputation": lambda rng, book: rng.uniform(0.0, 1.0, len(book)),
    "reliability_threshold": lambda rng, book: rng.uniform(0.0, 0.5, len(book)),
    "stable_from_hour": lambda rng, book: rng.integers(6, 11, len(book)),
    "stable_to_hour": lambda rng, book: rng.integers(14, 19, len(book)),
    "stable_hours": lambda rng, book: rng.uniform(1.0, 8.0, len(book)),
    "production_scale_kw": lambda rng, book: rng.uniform(1.0, 10.0, len(book)),
    "stability": lambda rng, book: rng.uniform(0.0, 1.0, len(book)),
    "plug_in_hour": lambda rng, book: rng.integers(16, 20, len(book)),
    "plug_out_hour": lambda rng, book: rng.integers(21, 24, len(book)),
    "energy_need_wh": lambda rng, book: rng.uniform(1_000, 20_000, len(book)),
}


class ClearingTimeout(Exception):
    """A clearing call ran past its deadline."""


def run_with_deadline(work: Callable[[], Any], seconds: float) -> Any:
    """Run ``work()`` in a forked child process and return its (picklable) result.

    A mechanism may spend its time inside compiled code (an LP solver) that no signal
    interrupts, so a call that must be bounded runs in a child that is killed at the
    deadline. The child inherits the book and the mechanism by ``fork`` (no pickling
    on the way in); the timing happens inside the child.

    Raises:
        ClearingTimeout: ``work`` did not finish within ``seconds``.
        RuntimeError: ``work`` raised; the message carries the child's error.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        try:
            sender.send(("ok", work()))
        except BaseException as error:  # noqa: BLE001 - everything goes back to the parent
            sender.send(("error", f"{type(error).__name__}: {error}"))

    process = context.Process(target=child, daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise ClearingTimeout(f"no result within {seconds} s")
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", f"child exited with code {process.exitcode}"
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if status != "ok":
        raise RuntimeError(value)
    return value


def random_book(orders: int, seed: int = 2024) -> OrderBook:
    """A reproducible random order book of ``orders`` rows (see the module docstring)."""
    rng = np.random.default_rng(seed)
    side = np.where(rng.random(orders) < 0.5, BUY, SELL).astype(np.int8)
    return OrderBook.from_columns(
        agent=np.arange(1, orders + 1, dtype=np.int64),
        side=side,
        quantity_wh=rng.integers(1, 5001, size=orders),
        limit_price=rng.uniform(CONTEXT.feed_in_tariff, CONTEXT.tariff, size=orders),
        area=rng.integers(0, 2, size=orders),
        dispatchable=(side == SELL) & (rng.random(orders) < 0.1),
    )


def make_mechanisms() -> tuple[dict[str, Any], dict[str, str]]:
    """Every registered mechanism, built; and the errors of those that could not be."""
    built: dict[str, Any] = {}
    errors: dict[str, str] = {}
    configured = set(group_options("market"))
    for name, cls in sorted(market.MECHANISMS.items()):
        try:
            built[name] = cls()
        except Exception as default_error:  # noqa: BLE001 - any failure falls back to config
            try:
                if name not in configured:
                    raise default_error
                built[name] = instantiate_group(make_config(f"market={name}"), "market")
            except Exception as error:  # noqa: BLE001 - reported, not fatal
                errors[name] = f"{type(error).__name__}: {error}"
    return built, errors


def time_clearing(mechanism, book: OrderBook, repeats: int, budget_s: float) -> tuple[float, int]:
    """Fastest of up to ``repeats`` clearings of ``book`` (fewer when they would pass the budget).

    The first call of a fresh child touches every page for the first time; repeats
    measure the steady state the simulation loop sees, so they run whenever all of them
    fit in ``budget_s`` at the first call's pace.

    A mechanism that asks for an extra column (``OrderBook.require``) gets it drawn from
    :data:`EXTRA_COLUMNS` (seeded by the book size and the column name) and the book is
    cleared again; only complete clearings are timed.

    Returns:
        Seconds of the fastest call and the number of trades.

    Raises:
        ValueError: The mechanism needs a column :data:`EXTRA_COLUMNS` cannot draw.
    """
    for _ in range(len(EXTRA_COLUMNS) + 1):
        start = time.perf_counter()
        try:
            result = mechanism.clear(book, CONTEXT)
        except ValueError as error:
            column = getattr(error, "column", None)
            if column not in EXTRA_COLUMNS or column in book.extra:
                raise
            rng = np.random.default_rng([len(book), zlib.crc32(column.encode())])
            book = book.with_extra(**{column: EXTRA_COLUMNS[column](rng, book)})
            continue
        best = time.perf_counter() - start
        if best * repeats < budget_s:
            for _ in range(repeats - 1):
                start = time.perf_counter()
                mechanism.clear(book, CONTEXT)
                best = min(best, time.perf_counter() - start)
        return best, len(result.trades)
    raise ValueError("too many extra columns requested")


def bench_clearing(
    sizes: tuple[int, ...], repeats: int = 3, budget_s: float = 5.0
) -> dict[str, Any]:
    """Seconds to clear a random book of each size with each mechanism.

    Args:
        sizes: Order-book sizes (orders), ascending.
        repeats: Timed repetitions per size (fastest kept), at least 3 above 1e5 orders;
            fewer when they would not fit in the budget at the first call's pace.
        budget_s: Deadline of one clearing call; a mechanism that misses it is skipped
            at this size and every larger one.

    Returns:
        ``seconds[mechanism][size]``, trades per clearing (a check that the books
        trade), ``skipped`` and ``errors`` per mechanism, and the headline figure.
    """
    mechanisms, errors = make_mechanisms()
    seconds: dict[str, dict[str, float]] = {name: {} for name in mechanisms}
    trades: dict[str, dict[str, int]] = {name: {} for name in mechanisms}
    skipped: dict[str, str] = {}
    for size in sorted(sizes):
        plain = random_book(size)
        for name, mechanism in mechanisms.items():
            if name in skipped or name in errors:
                continue
            count = repeats if size <= 100_000 else max(3, repeats // 3)
            try:
                best, n_trades = run_with_deadline(
                    lambda m=mechanism, b=plain, c=count: time_clearing(m, b, c, budget_s),
                    # Repeats only run when they all fit in the budget at the first
                    # call's pace; the half second covers the fork.
                    2 * budget_s + 0.5,
                )
                seconds[name][str(size)] = best
                trades[name][str(size)] = n_trades
            except ClearingTimeout:
                skipped[name] = f"clearing {size} orders took longer than {budget_s} s"
            except Exception as error:  # noqa: BLE001 - reported, not fatal
                errors[name] = f"{type(error).__name__}: {error}"
    largest = str(max(sizes))
    source = UNIFORM if largest in seconds.get(UNIFORM, {}) else FALLBACK
    return {
        "sizes": list(sizes),
        "budget_s": budget_s,
        "seconds": {name: times for name, times in seconds.items() if times},
        "trades": {name: counts for name, counts in trades.items() if counts},
        "skipped": skipped,
        "errors": errors,
        "headline_orders": int(largest),
        "headline_mechanism": source,
        "clear_headline_s": seconds.get(source, {}).get(largest, float("nan")),
    }
