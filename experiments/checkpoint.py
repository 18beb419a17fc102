"""Checkpoints of a whole run, and resuming from them (``checkpoint.every_steps``, ``resume``).

A checkpoint is one file, ``checkpoint.pkl`` in the run directory, written atomically
(temporary file, then rename) after every ``k``-th step. It holds two pickles in a row:

1. a small header: the format tag :data:`CHECKPOINT_FORMAT`, the hash of the config
   that wrote it (:func:`config_hash`), the number of steps run and the versions of
   Python and the main libraries;
2. the payload: the driver model (``GridModel`` with its feeder, chain, ledger,
   mempool, consensus engine, network, random generators, metrics, trade and agent
   logs) and every area's state (its Mesa world, state arrays, wallets and random
   generator), fetched from the Ray actors when the areas live there.

The runtime itself (actor handles, processes) is not saved: on resume the model is
built again from the config, which starts a fresh runtime, the saved areas are loaded
into it, and the saved driver model is attached to it. Because every random generator
is saved with its state, the resumed run is the same function of config and seed as
an uninterrupted one: same trades, same ledger head.

Pickle is used because the state is a graph of ordinary Python objects (Mesa agents,
networkx graphs, numpy arrays); loading a pickle runs code chosen by its writer, so
only resume checkpoints your own runs wrote. The header is read first and checked
before the payload is touched: another format version or another config stops the
resume with one line (exit 2).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pickle
import platform
import types
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from experiments.errors import ConfigError
from experiments.outputs import atomic_write

CHECKPOINT_FORMAT = "gridledger-checkpoint/1"
CHECKPOINT_FILE = "checkpoint.pkl"
# Settings that do not change what a run computes, so a resume may differ in them.
_NOT_HASHED = ("resume", "checkpoint", "debug", "hydra")
_NOT_HASHED_OUTPUT = ("progress",)
_RUNTIME_ID = "gridledger-runtime"


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of the resolved config, without the settings a resume may change.

    ``resume``, ``checkpoint.*``, ``debug.*`` and ``output.progress`` are left out: they
    do not change the results. Everything else (market, chain, population, seed,
    runtime...) must be the same for a checkpoint to be resumed.
    """
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in _NOT_HASHED:
        data.pop(key, None)
    for key in _NOT_HASHED_OUTPUT:
        data.get("output", {}).pop(key, None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checkpoint_every(cfg: DictConfig) -> int:
    """``checkpoint.every_steps`` checked (an integer >= 0; 0 turns checkpoints off)."""
    every = cfg.checkpoint.every_steps
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ConfigError(
            f"checkpoint.every_steps must be an integer >= 0 (0: no checkpoints) (got {every!r})"
        )
    return every


class _RunPickler(pickle.Pickler):
    """Pickles the model but leaves its runtime out (it is rebuilt on resume)."""

    def __init__(self, file, runtime: Any):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._runtime = runtime

    def persistent_id(self, obj: Any) -> str | None:
        return _RUNTIME_ID if obj is self._runtime else None

    def reducer_override(self, obj: Any) -> Any:
        # A module held by a plug-in (e.g. a lazily imported power-flow library) is
        # saved as its name and imported again on resume.
        if isinstance(obj, types.ModuleType):
            return importlib.import_module, (obj.__name__,)
        return NotImplemented


class _RunUnpickler(pickle.Unpickler):
    """Loads the saved model, attaching it to the freshly built runtime."""

    def __init__(self, file, runtime: Any):
        super().__init__(file)
        self._runtime = runtime

    def persistent_load(self, pid: Any) -> Any:
        if pid != _RUNTIME_ID:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._runtime


def write_checkpoint(model: Any, run_dir: Path, cfg_hash: str) -> Path:
    """Save the whole run after its current step into ``run_dir/checkpoint.pkl`` (atomically).

    Returns:
        The checkpoint's path.
    """
    areas = model.runtime.capture_areas()
    header = {
        "format": CHECKPOINT_FORMAT,
        "config_hash": cfg_hash,
        "steps_done": int(model.steps),
        "n_steps": int(model.n_steps),
        "python": platform.python_version(),
    }

    def write(tmp: Path) -> None:
        with tmp.open("wb") as file:
            pickle.dump(header, file, protocol=pickle.HIGHEST_PROTOCOL)
            _RunPickler(file, model.runtime).dump({"model": model, "areas": areas})

    path = run_dir / CHECKPOINT_FILE
    atomic_write(path, write)
    return path


def read_header(run_dir: Path) -> dict[str, Any]:
    """The header of ``run_dir``'s checkpoint.

    Raises:
        ConfigError: There is no checkpoint, or it is not one this version can read.
    """
    path = run_dir / CHECKPOINT_FILE
    if not path.is_file():
        raise ConfigError(
            f"resume=true but {run_dir} has no {CHECKPOINT_FILE} (run with "
            "checkpoint.every_steps=k and hydra.run.dir=<the same directory> to write one)"
        )
    try:
        with path.open("rb") as file:
            header = pickle.load(file)
    except Exception as error:  # a truncated or foreign file: say so on one line
        raise ConfigError(f"resume: {path} is not a readable checkpoint ({error})") from None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ConfigError(
            f"resume: {path} has format {found!r}, this gridledger reads {CHECKPOINT_FORMAT!r}"
        )
    return header


def resume(fresh_model: Any, run_dir: Path, cfg_hash: str) -> Any:
    """The model saved in ``run_dir``'s checkpoint, attached to ``fresh_model``'s runtime.

    Args:
        fresh_model: A model just built from the same config; only its runtime (with
            its areas replaced by the saved ones) is kept.
        run_dir: The run directory holding ``checkpoint.pkl``.
        cfg_hash: :func:`config_hash` of the config being resumed.

    Raises:
        ConfigError: No readable checkpoint, or one written by a different config.
    """
    header = read_header(run_dir)
    if header["config_hash"] != cfg_hash:
        raise ConfigError(
            f"resume: the checkpoint in {run_dir} was written by a different config "
            "(only resume, checkpoint.*, debug.* and output.progress may change on resume)"
        )
    with (run_dir / CHECKPOINT_FILE).open("rb") as file:
        pickle.load(file)  # the header, checked above
        payload = _RunUnpickler(file, fresh_model.runtime).load()
    fresh_model.runtime.restore_areas(payload["areas"])
    return payload["model"]


def remove_checkpoint(run_dir: Path) -> None:
    """Delete ``run_dir``'s checkpoint (after the run's results are complete)."""
    (run_dir / CHECKPOINT_FILE).unlink(missing_ok=True)
