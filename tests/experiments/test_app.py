"""The browser view without a browser: controls to config, the page rendered and stepped."""

from __future__ import annotations

import json
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

solara = pytest.importorskip("solara")
pytest.importorskip("matplotlib")
v = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

from experiments import app  # noqa: E402
from experiments.build import build  # noqa: E402
from experiments.errors import ConfigError, group_options  # noqa: E402
from experiments.viz.controls import initial_values, model_params  # noqa: E402
from experiments.viz.grid_view import GridMap, spread_rows  # noqa: E402
from experiments.viz.ledger import (  # noqa: E402
    LedgerSnapshot,
    agent_label,
    latest_blocks,
    latest_trades,
    snapshot,
    verify_model,
    verify_snapshot,
)
from experiments.viz.model import OVERRIDES_ENV, VizModel, env_overrides, run_overrides  # noqa: E402
from experiments.viz.pages import clock, kpi_html  # noqa: E402
from experiments.viz.panels import nice_ceiling  # noqa: E402
from experiments.viz.plots import LiveFigure, chain_panels, energy_market_panels, figure_png  # noqa: E402
from tests.conftest import make_config  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@solara.component
def InLayout():
    # SolaraViz puts its controls in the app's sidebar; AppLayout hosts them off-server.
    with solara.AppLayout():
        app.Page()


@pytest.fixture(scope="module")
def stepped():
    model = VizModel(overrides=("time.steps=8",))
    for _ in range(6):
        model.step()
    return model


# ---------------------------------------------------------------- controls -> config
def test_defaults_are_the_plain_cli_run():
    overrides, cfg, choices = run_overrides(
        market="sorted_pairing",
        consensus="poa",
        grid="radial",
        population_size=80,
        pv_share=0.5,
        battery_share=0.33,  # the slider shows 1/3 to 2 decimals
        evs_per_household=0.25,
        n_areas=2,
        seed=42,
    )
    assert overrides == []
    assert cfg.population.battery_share_of_pv == pytest.approx(1 / 3)
    assert choices["market"] == "sorted_pairing"


def test_changed_controls_become_overrides_in_cli_order():
    overrides, cfg, _ = run_overrides(
        ("time.steps=4",), market="grid_only", population_size=120, pv_share=0.7, seed=7
    )
    assert overrides == [
        "time.steps=4",
        "market=grid_only",
        "population.size=120",
        "population.pv_share=0.7",
        "seed=7",
    ]
    assert cfg.population.size == 120 and cfg.time.steps == 4
    assert cfg.market._target_.endswith("GridOnly")


def test_station_areas_control_and_unknown_controls():
    overrides, cfg, _ = run_overrides(n_areas=3)
    assert overrides == ["grid.n_areas=3"] and cfg.grid.n_areas == 3
    with pytest.raises(ValueError, match="unknown controls: layout"):
        run_overrides(layout="dual")


def test_unknown_option_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="market=nosuch is not a known option"):
        VizModel(market="nosuch")


def test_model_params_offer_every_group_option_and_start_at_the_config():
    params = model_params(("population.size=40",))
    assert params["market"]["values"] == group_options("market")
    assert {"grid_only", "sorted_pairing"} <= set(params["market"]["values"])
    assert params["consensus"]["values"] == group_options("chain")
    assert params["consensus"]["value"] == "poa"
    assert params["population_size"]["value"] == 40
    assert params["battery_share"]["value"] == 0.33
    assert params["overrides"] == ("population.size=40",)
    model = VizModel(**initial_values(params))
    assert model.command == "gridledger population.size=40"


def test_env_overrides_round_trip(monkeypatch):
    monkeypatch.setenv(OVERRIDES_ENV, json.dumps(["seed=3", "grid.n_areas=1"]))
    assert env_overrides() == ("seed=3", "grid.n_areas=1")
    monkeypatch.setenv(OVERRIDES_ENV, '{"seed": 3}')
    with pytest.raises(ValueError, match=OVERRIDES_ENV):
        env_overrides()


# ---------------------------------------------------------------- the model
def test_model_steps_like_a_run_and_stops_at_time_steps():
    model = VizModel(overrides=("time.steps=3", "population.size=10"))
    assert model.running and len(model.history) == 1
    for _ in range(3):
        model.step()
    assert model.sim.steps == 3 and model.steps == 3
    assert not model.running
    assert [record.step for record in model.history] == [0, 1, 2, 3]


def test_page_model_is_the_cli_run_step_for_step(stepped):
    cli = build(make_config("time.steps=8"))
    for _ in range(stepped.sim.steps):
        cli.step()
    assert cli.chain.head_hash == stepped.sim.chain.head_hash
    assert cli.totals == stepped.sim.totals


def test_history_matches_the_wallets(stepped):
    wallets = stepped.sim.runtime.wallets()
    households = stepped.sim.agent_kind[1:] == 1
    paid = np.concatenate([w.paid_micro for w in wallets])[households].sum()
    received = np.concatenate([w.received_micro for w in wallets])[households].sum()
    expected = (paid - received) / 1_000_000 / households.sum()
    assert stepped.history[-1].household_cost_coins == pytest.approx(expected)


# ---------------------------------------------------------------- ledger panel
def test_agent_labels_name_kind_area_and_row(stepped):
    sim = stepped.sim  # 2 areas of 40 households, 10 EVs, 1 provider: offsets 1 and 52
    assert list(sim.area_offsets) == [1, 52]
    labels = [agent_label(sim, agent) for agent in (0, 1, 40, 41, 50, 51, 52, 92, 102)]
    assert labels == ["grid", "H0-0", "H0-39", "EV0-0", "EV0-9", "G0-0", "H1-0", "EV1-0", "G1-0"]


def test_latest_blocks_and_trades(stepped):
    blocks = latest_blocks(stepped.sim, limit=3)
    assert [b.height for b in blocks] == [6, 5, 4]
    assert blocks[0].block_hash == stepped.sim.chain.head_hash
    assert blocks[0].proposer.startswith("V")
    rows, counts = latest_trades(stepped.sim, limit=5)
    assert sum(counts.values()) == len(stepped.sim.trade_log[-1]["trade_id"])
    assert len(rows) == min(5, sum(counts.values()))


def test_verify_export_of_the_chain_so_far(stepped):
    outcome = verify_model(stepped)
    assert outcome.ok, outcome.problems
    assert outcome.height == 6
    assert outcome.head_hash == stepped.sim.chain.head_hash
    assert outcome.transactions == sum(b.n_tx for b in stepped.sim.chain.blocks)


def test_verify_reports_a_head_that_is_not_the_live_one(stepped):
    (frozen,) = snapshot([stepped.sim.chain])
    forged = LedgerSnapshot(frozen.chain_id, frozen.genesis, frozen.blocks, "0" * 64)
    outcome = verify_snapshot([forged])
    assert not outcome.ok
    assert any("is not the live head" in problem for problem in outcome.problems)


# ---------------------------------------------------------------- drawing
def test_spread_rows():
    assert spread_rows(10, 4).tolist() == [0, 3, 6, 9]
    assert spread_rows(3, 5).tolist() == [0, 1, 2]


def test_grid_map_draws_everyone_at_the_default_population(stepped):
    png, drawing = GridMap(stepped).render()
    assert png.startswith(PNG_SIGNATURE)
    assert (drawing.households_drawn, drawing.evs_drawn) == (80, 20)
    assert not drawing.sampled


def test_grid_map_samples_large_populations():
    model = VizModel(population_size=500, overrides=("time.steps=2",))
    model.step()
    png, drawing = GridMap(model, max_households=100).render()
    assert png.startswith(PNG_SIGNATURE)
    assert drawing.households_drawn == 100 and drawing.households_total == 500
    assert drawing.sampled


def test_nice_ceiling():
    values = [0.0, 0.07, 1.0, 1.01, 2.2, 7.0, 9.0, 12.0, 480.0]
    assert [nice_ceiling(v) for v in values] == [1.0, 0.08, 1.0, 1.5, 2.5, 8.0, 10.0, 15.0, 500.0]


OTHER_GRIDS = [grid for grid in group_options("grid") if grid != "radial"]


@pytest.mark.parametrize("grid", OTHER_GRIDS or [pytest.param("-", marks=pytest.mark.skip)])
def test_every_shipped_grid_is_drawn_from_its_graph_attributes(grid):
    model = VizModel(grid=grid, overrides=("time.steps=2",))
    model.step()
    png, drawing = GridMap(model).render()
    assert png.startswith(PNG_SIGNATURE)
    assert drawing.households_drawn == min(drawing.households_total, 400)
    for kind in ("energy", "chain"):
        assert figure_png(model, kind).startswith(PNG_SIGNATURE)


def test_plot_figures_follow_the_steps_and_only_grow_their_ranges():
    model = VizModel(overrides=("time.steps=6",))
    for panels in (energy_market_panels, chain_panels):
        figure = LiveFigure(model, panels())
        previous = figure.render()
        assert previous.startswith(PNG_SIGNATURE)
        limits = figure.limits
        model.step()
        current = figure.render()
        assert current != previous
        for old, new in zip(limits, figure.limits, strict=True):
            assert all(abs(n) >= abs(o) for o, n in zip(old, new, strict=True))
    assert figure_png(model, "chain").startswith(PNG_SIGNATURE)


def test_clock():
    assert [clock(m) for m in (0, 735, 1440, 1800, 2880)] == [
        "00:00",
        "12:15",
        "24:00",
        "day 2, 06:00",
        "day 2, 24:00",
    ]


def test_kpis_name_the_step(stepped):
    assert "step 6 of 8" in kpi_html(stepped)


# ---------------------------------------------------------------- the page
def _text(rc, text: str) -> bool:
    return bool(rc.find(children=[text]).widgets)


def _button(rc, label: str):
    (button,) = [b for b in rc.find(v.Btn).widgets if label in b.children]
    return button


def test_page_renders_steps_and_verifies():
    box, rc = solara.render(InLayout(), handle_error=False)
    assert _text(rc, "Step: 0")
    step = rc.find(v.Btn, children=["Step"])
    step.assert_single()
    for _ in range(3):
        step.widget.click()
    assert _text(rc, "Step: 3")
    _button(rc, "Verify ledger so far").click()
    assert rc.find(v.Alert, type="success").widgets
    assert not rc.find(v.Alert, type="error").widgets
    rc.close()


def test_page_tabs_show_energy_and_chain_figures_that_follow_the_steps():
    box, rc = solara.render(InLayout(), handle_error=False)
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    tabs = rc.find(v.Tabs).widget
    for index in (1, 2):
        tabs.v_model = index
        image = rc.find(ipywidgets.Image).widget  # only the open tab is rendered
        before = bytes(image.value)
        assert before.startswith(PNG_SIGNATURE)
        step.click()
        assert bytes(rc.find(ipywidgets.Image).widget.value) != before
    rc.close()


def test_reset_rebuilds_the_model_from_the_controls():
    box, rc = solara.render(InLayout(), handle_error=False)
    rc.find(v.Select, label="Market").widget.v_model = "grid_only"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rc.find(v.Btn, children=["Step"]).widget.click()
    html = " ".join(str(w.unsafe_innerHTML) for w in rc.find(solara.widgets.HTML).widgets)
    assert "gridledger market=grid_only" in html
    assert _text(rc, "Step: 1")
    rc.close()


# ---------------------------------------------------------------- gridledger-viz
def test_main_serves_this_module_with_solara(monkeypatch):
    calls = []
    monkeypatch.setattr(app.subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 0)
    assert app.main(["--port", "8999", "--host", "0.0.0.0", "seed=5"]) == 0
    ((command, env),) = calls
    assert command[1:4] == ["-m", "solara", "run"]
    assert command[4].endswith("app.py")
    assert command[5:] == ["--port", "8999", "--host", "0.0.0.0", "--production"]
    assert json.loads(env[OVERRIDES_ENV]) == ["seed=5"]
    assert env["SOLARA_CHECK_HOOKS"] == "off"


def test_main_rejects_a_bad_override_in_one_line(capsys):
    assert app.main(["population.size=-5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "gridledger-viz: error: population.size must be an integer >= 1 (got -5)"


def test_grid_map_overlays_the_power_flow_when_the_model_runs_one():
    model = VizModel(overrides=("time.steps=2",))
    graph = model.sim.graph
    nodes = sorted(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    parent = dict(nx.bfs_predecessors(graph, 0))
    feeding = [node for node in nx.bfs_tree(graph, 0) if node != 0]
    model.sim.physics = SimpleNamespace(
        network=SimpleNamespace(
            nodes=np.array(nodes),
            branch_from=np.array([index[parent[node]] for node in feeding]),
            branch_to=np.array([index[node] for node in feeding]),
        )
    )
    del model.sim.power_flow  # a model without the hook draws no overlay
    assert GridMap(model).flow is None
    model.sim.power_flow = None  # the model runs one, but no step is solved yet
    grid_map = GridMap(model)
    plain, drawing = grid_map.render()
    assert grid_map.flow is not None and not drawing.power_flow
    model.sim.power_flow = SimpleNamespace(
        v_pu=np.linspace(0.94, 1.0, len(nodes)),
        branch_loading=np.r_[np.nan, np.linspace(0.1, 1.3, len(feeding) - 1)],
        v_min_pu=0.95,
        v_max_pu=1.05,
    )
    overlaid, drawing = grid_map.render()
    assert drawing.power_flow and overlaid != plain
