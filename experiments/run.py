"""The ``gridledger`` command: run one simulation (or a Hydra sweep of them).

Usage::

    gridledger                                   # the default day
    gridledger market=grid_only population.size=200
    gridledger -m population.size=50,100,200     # a sweep, one run dir per job
    python -m experiments.run ...                # the same

Each run writes its results into Hydra's run directory (``outputs/DATE/TIME`` or
``multirun/DATE/TIME/N``): see the README for what each file holds.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import shutil
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from agents.accounting import summarize
from agents.invariants import InvariantViolation
from agents.model import KIND_NAMES, GridModel
from agents.runtime import WorkerLost
from agents.settlement import TRADE_KINDS
from chain.dr_protocol import write_dr_messages
from experiments import checkpoint
from experiments.build import build
from experiments.errors import ConfigError, check_group_overrides, describe
from experiments.outputs import clean_floats, write_json, write_parquet, write_parquet_frames
from experiments.schemas import register_schemas
from market.book import MissingColumnError

register_schemas()
# Mesa logs every model.step at INFO; under Hydra's logging that floods the run log.
logging.getLogger("MESA").setLevel(logging.WARNING)


def run_simulation(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Build the model from ``cfg``, run it and write every result file into ``run_dir``.

    With ``checkpoint.every_steps=k`` the whole run state is saved into ``run_dir`` after
    every k-th step; with ``resume=true`` the run goes on from the checkpoint in
    ``run_dir`` (see :mod:`experiments.checkpoint`). If the runtime loses an area for
    good (:class:`agents.runtime.WorkerLost`) or, in debug mode, an invariant fails
    (:class:`agents.invariants.InvariantViolation`), the results so far are written
    (everything but ``summary.json``, whose absence marks an incomplete run) and the
    error propagates.

    Raises:
        ConfigError: The config cannot run (raised before the first step).
        WorkerLost: A Ray actor died and could not be replaced.
        InvariantViolation: An invariant failed (``debug.invariants=true``).
    """
    started = time.perf_counter()
    every = checkpoint.checkpoint_every(cfg)
    cfg_hash = checkpoint.config_hash(cfg)
    if cfg.resume:
        checkpoint.read_header(run_dir)  # no or unreadable checkpoint: fail before building
    model = build(cfg)
    if cfg.resume:
        try:
            model = checkpoint.resume(model, run_dir, cfg_hash)
        except BaseException:
            model.runtime.close()
            raise
    model.spill_to(run_dir / ".spill")
    built = time.perf_counter()
    progress = cfg.output.progress
    if progress is None:
        progress = sys.stderr.isatty()

    def after_step(stepped: GridModel) -> None:
        if every and stepped.steps % every == 0 and stepped.steps < stepped.n_steps:
            checkpoint.write_checkpoint(stepped, run_dir, cfg_hash)

    try:
        with tqdm(
            total=model.n_steps,
            initial=model.steps,
            desc="simulating",
            unit="step",
            disable=not progress,
        ) as bar:
            try:
                model.run(bar, after_step=after_step)
            except MissingColumnError as error:
                # The mechanism needs per-order data these agents do not provide: a
                # choice of market that cannot run, found in the first step before
                # anything is written.
                raise ConfigError(
                    f"market={model.market.name} cannot run with the current agents: {error}"
                ) from None
            except (WorkerLost, InvariantViolation):
                write_results(model, run_dir)
                raise
        simulated = time.perf_counter()
        summary = summarize(model)
        write_results(model, run_dir)
    finally:
        model.runtime.close()
    finished = time.perf_counter()
    summary = {
        "seed": cfg.seed,
        "market": getattr(model.market, "name", type(model.market).__name__),
        "consensus": model.consensus.name,
        "layout": model.layout_config.layout,
        "runtime": model.runtime.name,
        **summary,
        "power_flow": model.power_flow_summary.as_dict(),
        "wall_time_s": {
            "build": built - started,
            "simulate": simulated - built,
            "write": finished - simulated,
            "total": finished - started,
        },
        "peak_rss_bytes": _peak_rss_bytes(),
        "versions": _versions(),
        "overrides": _overrides(),
    }
    write_json(run_dir / "summary.json", clean_floats(summary))
    if not (cfg.checkpoint.keep and (run_dir / checkpoint.CHECKPOINT_FILE).is_file()):
        # Read back into the results above; a kept checkpoint still needs its spilled
        # parts (agents.run_log, chain.block_store), so .spill goes only with the checkpoint.
        shutil.rmtree(run_dir / ".spill", ignore_errors=True)
        checkpoint.remove_checkpoint(run_dir)
    return summary


def write_results(model: GridModel, run_dir: Path) -> None:
    """model.parquet, agents.parquet, trades.parquet and the ledger export."""
    frame = model.datacollector.get_model_vars_dataframe()
    write_parquet(run_dir / "model.parquet", frame[frame["step"] >= 0].reset_index(drop=True))
    write_parquet_frames(
        run_dir / "agents.parquet", (_agents_frame(model, c) for c in _chunks(model.agent_log))
    )
    write_parquet_frames(
        run_dir / "trades.parquet", (_trades_frame(c) for c in _chunks(model.trade_log))
    )
    model.ledger_layout.export(run_dir)
    if model.security.dr is not None:
        write_dr_messages(run_dir, model.security.dr.committed_messages(model.chain.blocks))


# Rows per row group of agents.parquet and trades.parquet (entries are joined up to it).
ROW_GROUP_ROWS = 1 << 17


def _chunks(log: Iterable[dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
    """The log's entries (steps) joined into chunks of at least ROW_GROUP_ROWS rows.

    A run log (:class:`agents.run_log.RunLog`) yields the same entries whether it was
    spilled to disk or not, so the chunks, and the files, are the same either way.
    """
    pending: list[dict[str, np.ndarray]] = []
    rows = 0
    for entry in log:
        pending.append(entry)
        rows += len(next(iter(entry.values()), ()))
        if rows >= ROW_GROUP_ROWS:
            yield _join(pending)
            pending, rows = [], 0
    if pending:
        yield _join(pending)


def _join(entries: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(entries) == 1:
        return entries[0]
    return {key: np.concatenate([e[key] for e in entries]) for key in entries[0]}


def _agents_frame(model: GridModel, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Rows of agents.parquet: a chunk of the agent log with kind, area and final wallet."""
    agents = pd.DataFrame(columns)
    agents.insert(
        2,
        "kind",
        pd.Categorical.from_codes(model.agent_kind[agents["agent"]], categories=list(KIND_NAMES)),
    )
    agents.insert(3, "area", model.agent_area[agents["agent"]])
    agents.insert(4, "wallet", model.security.wallets(agents["agent"].to_numpy()))
    return agents


def _trades_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Rows of trades.parquet: a chunk of the trade log, kinds by name."""
    trades = pd.DataFrame(columns)
    trades["kind"] = pd.Categorical.from_codes(trades["kind"], categories=list(TRADE_KINDS))
    return trades.rename(columns={"price": "price_coins_per_kwh"})


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (in a sequential sweep: of all jobs yet)."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(usage if sys.platform == "darwin" else usage * 1024)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("gridledger", "mesa", "numpy", "hydra-core", "ray", "cryptography"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _overrides() -> list[str]:
    try:
        return list(HydraConfig.get().overrides.task)
    except ValueError:
        return []


# Jobs of the current multirun (in this process) that failed; see ``main``.
FAILED_JOBS: list[str] = []


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def app(cfg: DictConfig) -> None:
    """The Hydra task: one run into Hydra's output directory.

    In a single run a config error exits with code 2 (one line) and any other error
    propagates. In a sweep a failing job must not stop or corrupt the others: its
    error is written to ``error.json`` in its own directory (``gridledger-analyze``
    lists it as failed) and the sweep goes on.
    """
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        summary = run_simulation(cfg, run_dir)
    except ConfigError as error:
        if not sweeping:
            _remove_if_empty(run_dir)
            print(f"gridledger: error: {error}", file=sys.stderr)
            sys.exit(2)
        _record_failure(run_dir, hydra_cfg.job.num, error, config_error=True)
        return
    except (WorkerLost, InvariantViolation) as error:
        if not sweeping:
            print(
                f"gridledger: error: {_one_line(error)}; results so far are in {run_dir}",
                file=sys.stderr,
            )
            sys.exit(1)
        _record_failure(run_dir, hydra_cfg.job.num, error, config_error=False)
        return
    except Exception as error:
        if not sweeping:
            raise
        _record_failure(run_dir, hydra_cfg.job.num, error, config_error=False)
        return
    _report(summary, run_dir)


def _one_line(error: BaseException) -> str:
    """The error's own message (an error raised in a Ray actor carries its cause)."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        error = cause
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _record_failure(run_dir: Path, job: int, error: Exception, *, config_error: bool) -> None:
    """Write ``error.json`` for a failed sweep job and say so on stderr."""
    write_json(
        run_dir / "error.json",
        {
            "job": job,
            "error": type(error).__name__,
            "message": str(error),
            "config_error": config_error,
            "overrides": _overrides(),
            "traceback": None if config_error else traceback.format_exc(),
        },
    )
    FAILED_JOBS.append(f"#{job} ({' '.join(_overrides())}): {error}")
    print(f"gridledger: job #{job} failed: {error}", file=sys.stderr)


def _report(summary: dict[str, Any], run_dir: Path) -> None:
    energy = summary["energy_kwh"]
    household = summary["costs_coins"].get("household", {})
    print(
        f"gridledger: {summary['counts']['steps']} steps, market={summary['market']}, "
        f"chain={summary['consensus']}, layout={summary.get('layout', 'single')}, "
        f"runtime={summary['runtime']}"
    )
    print(
        f"  P2P traded {summary['p2p_kwh']:.1f} kWh "
        f"({100 * summary['p2p_share_of_purchases']:.1f}% of purchases); "
        f"grid import {energy.get('grid_import_kwh', 0):.1f} kWh, "
        f"export {energy.get('grid_export_kwh', 0):.1f} kWh"
    )
    if household:
        print(
            f"  household cost {household['mean_cost']:.3f} coins/day vs grid-only "
            f"{household['mean_grid_only_cost']:.3f}"
        )
    heads = summary["ledger_head"]
    head = next(iter(heads.values()))
    chains = f" over {len(heads)} chains" if len(heads) > 1 else ""
    print(
        f"  {summary['counts']['transactions']} transactions in {summary['counts']['blocks']} "
        f"blocks{chains}, ledger head {head[:16]}..."
    )
    print(f"  wall time {summary['wall_time_s']['total']:.2f} s; results in {run_dir}")


def _remove_if_empty(run_dir: Path) -> None:
    """Drop a run dir that holds nothing but Hydra's bookkeeping (the run never started)."""
    if run_dir.is_dir() and all(
        p.name == ".hydra" or p.suffix == ".log" for p in run_dir.iterdir()
    ):
        shutil.rmtree(run_dir, ignore_errors=True)


def main() -> None:
    """Console entry point: Hydra's CLI, with config errors reported on one line (exit 2)."""
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let errors reach us, not Hydra's printer
    try:
        check_group_overrides(sys.argv[1:])
        app()
    except ConfigError as error:
        print(f"gridledger: error: {error}", file=sys.stderr)
        sys.exit(2)
    except (HydraException, OmegaConfBaseException) as error:
        print(f"gridledger: error: {describe(error)}", file=sys.stderr)
        sys.exit(2)
    if FAILED_JOBS:
        print(
            f"gridledger: {len(FAILED_JOBS)} job(s) failed; the others' results are intact:",
            file=sys.stderr,
        )
        for line in FAILED_JOBS:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
