"""``gridledger-viz``: watch a run in the browser (Mesa 3.3 SolaraViz).

Usage::

    gridledger-viz                         # http://localhost:8765
    gridledger-viz --port 8800 --host 0.0.0.0
    gridledger-viz grid=sce56 population.households.battery_capacity_kwh=10
    solara run experiments/app.py          # the same page, from a checkout

Hydra overrides after the options set the starting config of every model the page
builds (the page's controls are applied on top). The page is described in
``docs/viz.md``. (No ``__main__`` block: ``solara run`` executes this file as
``__main__``.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import solara
from mesa.visualization import SolaraViz
from omegaconf.errors import OmegaConfBaseException

from experiments.errors import ConfigError, describe
from experiments.viz.controls import initial_values, model_params
from experiments.viz.model import OVERRIDES_ENV, VizModel, env_overrides
from experiments.viz.pages import COMPONENTS, use_full_width_pages

TITLE = "gridledger · peer-to-peer energy trading on a blockchain"
DEFAULT_PORT = 8765

use_full_width_pages()


@solara.component
def Page():
    """One SolaraViz per browser session, each with its own model."""
    params = solara.use_memo(lambda: model_params(env_overrides()), [])
    model = solara.use_memo(lambda: VizModel(**initial_values(params)), [])
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name=TITLE,
        play_interval=151,  # Mesa's slider steps by 10 from 1
    )


page = Page


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridledger-viz",
        description="Open the gridledger browser view (a Solara server).",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8765)")
    parser.add_argument("--host", default="localhost", help="host (default localhost)")
    parser.add_argument(
        "--dev", action="store_true", help="solara development mode (reload on code changes)"
    )
    parser.add_argument(
        "overrides", nargs="*", help="Hydra overrides, as for gridledger (e.g. grid=sce56)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Console entry point: check the overrides, then serve this module with solara."""
    args = _parser().parse_args(argv)
    try:
        VizModel(overrides=args.overrides)
    except ConfigError as error:
        print(f"gridledger-viz: error: {error}", file=sys.stderr)
        return 2
    except OmegaConfBaseException as error:
        print(f"gridledger-viz: error: {describe(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # Hydra's own errors (unknown key, bad override syntax)
        if type(error).__module__.startswith("hydra"):
            print(f"gridledger-viz: error: {describe(error)}", file=sys.stderr)
            return 2
        raise
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(Path(__file__).resolve()),
        "--port",
        str(args.port),
        "--host",
        args.host,
    ]
    env = {**os.environ, OVERRIDES_ENV: json.dumps(list(args.overrides))}
    if not args.dev:
        command.append("--production")
        # Solara's hook checker (a development aid) warns about Mesa's own ComponentsView.
        env.setdefault("SOLARA_CHECK_HOOKS", "off")
    print(f"gridledger-viz: serving on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
