"""The Hydra callback that turns a paper preset's run (or sweep) into its replication.

A preset (``conf/experiment/<paper>.yaml``) adds::

    hydra:
      callbacks:
        replicate:
          _target_: experiments.repro.callback.Replicate
          paper: <paper>

and after the run (or after the last job of a sweep) the paper's module
``experiments.repro.<paper>`` writes its figures and ``replication.md`` into the run
(or sweep) directory.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

PAPERS = ("ce_sdt", "dual_chain", "load_trading", "pets", "ssg", "v2g_dr")
log = logging.getLogger(__name__)


class Replicate(Callback):
    """Write a paper's replication report when the run or sweep ends.

    Args:
        paper: Module name under ``experiments.repro`` (one of :data:`PAPERS`).
        quick: Small study sizes (tests and smoke runs).
    """

    def __init__(self, paper: str, quick: bool = False) -> None:
        if paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)} (got {paper!r})")
        self.paper, self.quick = paper, bool(quick)

    def _report(self, directory: Path) -> None:
        module = importlib.import_module(f"experiments.repro.{self.paper}")
        path = module.report(directory, self.quick)
        print(f"replication report: {path}")

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        """After a single run: report into its directory (skipped when the run failed)."""
        directory = Path(config.hydra.run.dir)
        if (directory / "summary.json").is_file():
            self._report(directory)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """After a sweep: report over every job of the sweep directory."""
        self._report(Path(config.hydra.sweep.dir))
