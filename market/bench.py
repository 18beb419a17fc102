"""Benchmarks of the market mechanisms: ``python -m market.bench {clearing,double-auction,ga}``.

* ``clearing``: wall time of ``uniform_price``, ``sorted_pairing`` and
  ``pay_as_bid`` on a random book of ``--orders`` orders (half bids, half
  asks, prices uniform in [0.05, 0.35] coins/kWh at 0.1 milli-coin steps,
  1-5,000 Wh each); prints the minimum and median of ``--repeat`` runs.
* ``double-auction``: rounds to convergence of the iterative double auction
  (seed 001 ch. 4) over ``--instances`` random instances with the thesis'
  settings, and the welfare gap to SWM solved directly on the smaller ones.
* ``ga``: gap of the PETS leader's genetic algorithm to an exhaustive search
  on small instances (3 hours, 0.1-cent prices).

Speed is measured here, never in the tests.  Random inputs come from
:mod:`market.counter_rng`, so every run measures the same instances.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

from market.book import BUY, SELL, OrderBook
from market.counter_rng import CounterRandom
from market.sorted_pairing import clear_sorted_pairing
from market.uniform_price import clear_uniform_price


def random_book(n_orders: int, seed: int = 0) -> OrderBook:
    """A random two-sided book (see the module docstring)."""
    rng = CounterRandom(seed, stream=7)
    side = np.where(rng.random(n_orders) < 0.5, BUY, SELL)
    price = np.round(0.05 + 0.30 * rng.random(n_orders), 4)
    return OrderBook.from_columns(
        agent=np.arange(n_orders),
        side=side,
        quantity_wh=1 + rng.integers(5000, n_orders),
        limit_price=price,
    )


def _time(fn, repeat: int) -> tuple[float, float, float]:
    """Min and median wall time, and median CPU time of the process (robust to load)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), statistics.median(wall), statistics.median(cpu)


def bench_clearing(n_orders: int, repeat: int) -> None:
    """Print clearing times of the uniform-price and pairing mechanisms."""
    book = random_book(n_orders)
    runs = {
        "uniform_price": lambda: clear_uniform_price(book, 0.5),
        "sorted_pairing": lambda: clear_sorted_pairing(book, "midpoint"),
        "pay_as_bid": lambda: clear_sorted_pairing(book, "pay_as_bid"),
    }
    trades = len(clear_uniform_price(book).trades)
    print(f"book: {n_orders:,} orders, {trades:,} trades")
    for name, fn in runs.items():
        best, median, cpu = _time(fn, repeat)
        print(
            f"{name:15s} wall min {best * 1000:6.1f} ms  median {median * 1000:6.1f} ms"
            f"   cpu median {cpu * 1000:6.1f} ms"
        )


def bench_double_auction(instances: int, direct_upto: int) -> None:
    """Print the rounds to convergence and welfare gaps of the double auction."""
    from market.double_auction_iteration import run_double_auction
    from market.double_auction_model import random_instance, solve_swm_direct, welfare

    rounds, gaps, seconds, failures = [], [], [], 0
    for seed in range(instances):
        rng = CounterRandom(seed, stream=99)
        n_ev, n_sp = 3 + rng.integers(18, 1)[0], 2 + rng.integers(5, 1)[0]
        inst = random_instance(seed, n_ev, n_sp)
        start = time.perf_counter()
        out = run_double_auction(
            inst, 10 + 50 * rng.random((n_ev, n_sp)), 5 + 45 * rng.random(n_sp)
        )
        seconds.append(time.perf_counter() - start)
        rounds.append(out.iterations)
        failures += not out.converged
        if seed < direct_upto:
            best = welfare(inst, solve_swm_direct(inst))
            gaps.append((best - out.welfare) / abs(best))
    r = np.array(rounds)
    print(f"instances: {instances} (3-20 EVs, 2-6 SPs), not converged: {failures}")
    print(f"rounds: mean {r.mean():.2f}  median {np.median(r):.0f}  min {r.min()}  max {r.max()}")
    print(f"seconds per auction: mean {np.mean(seconds):.2f}  max {np.max(seconds):.2f}")
    if gaps:
        print(f"welfare gap to SLSQP on {len(gaps)}: max {max(gaps):.2e}  mean {np.mean(gaps):.2e}")


def paper_book(n_orders: int, seed: int = 0) -> OrderBook:
    """A random book with every column the paper mechanisms read, over two areas.

    Half the orders are EV buy orders and provider sell orders (prices 0.05-0.35
    coins/kWh, 0-5 kWh each as in :func:`random_book`), with SoC 0.1-0.9, the
    thesis' costs, credit 100, reliability 0.95 and everyone qualified.
    """
    book = random_book(n_orders, seed)
    rng = CounterRandom(seed, stream=8)
    n = n_orders
    extra = {
        "is_ev": book.side == BUY,
        "is_provider": book.side == SELL,
        "soc": 0.1 + 0.8 * rng.random(n),
        "e_min_wh": np.zeros(n),
        "cost_c1": np.full(n, 0.01),
        "cost_c2": np.full(n, 0.015),
        "credit": np.full(n, 100.0),
        "reliability": np.full(n, 0.95),
        "qualified": np.ones(n, dtype=bool),
    }
    cols = book.columns()
    cols["area"] = rng.integers(2, n)
    return OrderBook.from_columns(**cols, extra=extra)


def bench_paper_markets(sizes: list[int], repeat: int) -> None:
    """Print the time of one clear of the double auction and two_level per book size."""
    from market.context import MarketContext
    from market.double_auction import DoubleAuction
    from market.two_level import TwoLevel

    ctx = MarketContext(step=0, tariff=0.30, feed_in_tariff=0.05, hour_of_day=12.0)
    for n in sizes:
        book = paper_book(n)
        for mech in (DoubleAuction(), TwoLevel()):
            best, median, cpu = _time(lambda m=mech, b=book: m.clear(b, ctx), repeat)
            print(
                f"{mech.name:15s} {n:6,} orders  wall min {best:7.3f} s  median {median:7.3f} s"
                f"   cpu median {cpu:7.3f} s"
            )


def bench_ga(instances: int) -> None:
    """Print the GA's profit gap to exhaustive search on small PETS instances."""
    from market.stackelberg import PetsSettings, cost_coefficients, solve_pets
    from market.stackelberg_ga import GAParameters
    from market.stackelberg_game import Followers, best_response, leader_profit, window_mask

    hours, gaps, generations = 3, [], []
    for seed in range(instances):
        rng = CounterRandom(seed, stream=11)
        n = 4
        start = rng.integers(hours, n)
        window = window_mask(start, start + rng.integers(hours, n), hours)
        a_min = rng.random(n)
        a_max = a_min + 0.5 + 6.0 * rng.random(n)
        energy = window.sum(axis=1) * (a_min + (a_max - a_min) * rng.random(n))
        followers = Followers(window, energy, a_min, a_max)
        settings = PetsSettings(
            resolution_cents=0.1, m_day=0.05, m_night=0.04, ga=GAParameters(seed=seed, patience=60)
        )
        out = solve_pets(followers, np.array([8.5, 13.0]), np.full(hours, energy.sum()), settings)
        levels = 8.5 + 0.1 * np.arange(46)
        grid = np.array(list(itertools.product(levels, repeat=hours)))
        m, q, r = cost_coefficients(settings, hours)
        best = leader_profit(grid, best_response(grid, followers).sum(axis=1), m, q, r).max()
        gaps.append((best - out.profit_cents) / abs(best))
        generations.append(out.converged_generation)
    print(f"instances: {instances} (3 hours, 4 EVs, {len(levels)}**3 price vectors searched)")
    print(f"GA gap to exhaustive: max {max(gaps) * 100:.2f} %  mean {np.mean(gaps) * 100:.2f} %")
    print(f"generation of the last improvement: mean {np.mean(generations):.1f}")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m market.bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("clearing")
    c.add_argument("--orders", type=int, default=1_000_000)
    c.add_argument("--repeat", type=int, default=7)
    d = sub.add_parser("double-auction")
    d.add_argument("--instances", type=int, default=200)
    d.add_argument("--direct-upto", type=int, default=30)
    g = sub.add_parser("ga")
    g.add_argument("--instances", type=int, default=10)
    p = sub.add_parser("paper-markets")
    p.add_argument("--orders", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.what == "clearing":
        bench_clearing(args.orders, args.repeat)
    elif args.what == "paper-markets":
        bench_paper_markets(args.orders, args.repeat)
    elif args.what == "double-auction":
        bench_double_auction(args.instances, args.direct_upto)
    else:
        bench_ga(args.instances)


if __name__ == "__main__":
    main()
