"""Helpers shared by the benchmark scenarios: configs, timers, machine facts."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hydra import compose, initialize_config_module

from experiments.schemas import register_schemas

#: Length of the simulated day every day figure is expressed in (96 x 15 min).
DAY_STEPS = 96


def make_config(*overrides: str):
    """The run config with ``overrides``, composed exactly as the ``gridledger`` CLI does."""
    register_schemas()
    with initialize_config_module("conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


def default_choice(group: str) -> str:
    """The entry of config group ``group`` that a run picks when none is given."""
    register_schemas()
    with initialize_config_module("conf", version_base="1.3"):
        cfg = compose("config", return_hydra_config=True)
    return str(cfg.hydra.runtime.choices[group])


def group_options(group: str) -> list[str]:
    """Names of the entries of config group ``group`` present right now (sorted)."""
    from importlib.resources import files

    folder = files("conf").joinpath(group)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def best_of(
    repeats: int, run: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> float:
    """Shortest time in seconds of ``repeats`` calls of ``run`` (at least one call).

    The minimum is the usual estimator for micro-benchmarks on a shared machine: noise
    only ever adds time. Both sides of every ratio in this package use it.

    Args:
        repeats: Calls to make.
        run: The work to time.
        clock: Wall clock by default; ``time.process_time`` for this process's CPU time.
    """
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = clock()
        run()
        best = min(best, clock() - start)
    return best


def cores() -> int:
    """CPU cores this process may use (the divisor of the signature floor)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    return {
        "cores": cores(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def load_average() -> float:
    """The machine's 1-minute load average (other work competing for the cores)."""
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return float("nan")


def repo_root() -> Path:
    """Directory that holds the ``experiments`` package (for child processes)."""
    return Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """Environment for a child ``python -m experiments...`` that finds this source tree.

    ``RAY_ADDRESS`` is dropped: the Ray child starts its own local instance with the
    cores of this machine, so that the speed-up is measured where the baseline is.
    """
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH")]))
    return env


def peak_rss_bytes() -> int:
    """This process's peak resident set size (``VmHWM`` of ``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    # ru_maxrss is in KiB on Linux (bytes on macOS; close enough for a fallback).
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
