"""The ``ssg`` preset (seed 000): its config, the per-class EV DR series, the report."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from experiments.repro import ssg
from experiments.repro.callback import Replicate
from experiments.schemas import register_schemas
from market.book import BUY, SELL, OrderBook
from market.context import MarketContext
from market.ev_dr import EvDemandResponse
from tests.conftest import make_config

CTX = MarketContext(step=48, tariff=0.3, feed_in_tariff=0.1, hour_of_day=12.0)


def test_preset_composes_the_seed_000_scenario():
    cfg = make_config("experiment=ssg")
    assert cfg.market._target_ == "market.ev_dr.EvDemandResponse"
    assert cfg.chain._target_ == "chain.consensus.pow.ProofOfWork"
    assert cfg.chain.hash == "sha1" and cfg.grid.supply.capacity_kw == 4000.0
    assert (cfg.grid.homes, cfg.grid.buildings, cfg.grid.industries) == (50, 30, 10)
    assert list(cfg.population.evs.battery_kwh) == [12.0, 36.0]
    register_schemas()
    with initialize_config_module("conf", version_base="1.3"):
        full = compose("config", overrides=["experiment=ssg"], return_hydra_config=True)
    replicate = full.hydra.callbacks.replicate
    assert replicate._target_ == "experiments.repro.callback.Replicate"
    assert Replicate(replicate.paper, replicate.quick).paper == "ssg"


def test_ev_dr_reports_net_load_per_entity_class():
    # Rows: a commercial entity with 10 kWh excess, a home needing 6 kWh, four EVs, and
    # an industrial site needing 3 kWh, served last: every EV has traded by then.
    book = OrderBook.from_columns(
        agent=[100, 101, 1, 2, 3, 4, 102],
        side=[SELL, BUY, BUY, BUY, SELL, SELL, BUY],
        quantity_wh=[10_000, 6_000, 40_000, 40_000, 40_000, 40_000, 3_000],
        limit_price=[0.15, 0.25, 0.20, 0.20, 0.20, 0.18, 0.25],
        extra={
            "is_ev": [False, False, True, True, True, True, False],
            "x_km": [0.0, 10.0, 3.0, 1.0, 9.0, 12.0, 11.0],
            "y_km": [0.0] * 7,
            "soc": [0.0, 0.0, 0.5, 0.8, 0.9, 0.5, 0.0],
            "capacity_wh": [0, 0, 20_000, 20_000, 30_000, 20_000, 0],
            "max_range_km": [1.0, 1.0, 100.0, 100.0, 150.0, 100.0, 1.0],
            "threshold_wh": [0, 0, 0, 0, 20_000, 5_000, 0],
            "entity_class": [1, 0, -1, -1, -1, -1, 2],
        },
    )
    d = EvDemandResponse().clear(book, CTX).diagnostics
    assert (d["net_load_before_wh_residential"], d["net_load_after_wh_residential"]) == (6000, 0)
    assert (d["net_load_before_wh_commercial"], d["net_load_after_wh_commercial"]) == (-10_000, 0)
    assert (d["net_load_before_wh_industrial"], d["net_load_after_wh_industrial"]) == (3000, 3000)
    without = OrderBook.from_columns(
        **book.columns(), extra={k: v for k, v in book.extra.items() if k != "entity_class"}
    )
    plain = EvDemandResponse().clear(without, CTX).diagnostics
    assert not any(key.startswith("net_load") for key in plain)


def test_slope_ratio_sees_a_levelling_curve():
    assert ssg.slope_ratio([2, 4, 6, 8], [1, 3, 4, 4.5], 4) == pytest.approx(0.375 / 1.0)
    assert ssg.slope_ratio([2, 4, 6, 8], [1, 2, 3, 4], 4) == pytest.approx(1.0)


def test_quick_study_writes_figures_and_numbers_from_the_run(tmp_path):
    report = ssg.study(tmp_path, quick=True, seed=0)
    text = report.read_text()
    for name in ("load_total.png", "load_by_class.png", "pow_trades.png"):
        assert (tmp_path / name).stat().st_size > 1000
        assert f"({name})" in text
    assert "| 90 | 90 | 0 |" in _row(text, "static entities")
    assert "| yes |" in _row(text, "miners, % of the ordinary nodes")
    assert "| 160 | 160 | 0 |" in _row(text, "PoW digest, bits")
    # The day's trades change the load: the commercial entities trade with the EVs.
    assert "| yes |" in _row(text, "commercial: largest cut")
    # The rows are computed from the run's files: doubling the demand doubles the peak row.
    summary = json.loads((tmp_path / "summary.json").read_text())
    model = pd.read_parquet(tmp_path / "model.parquet")
    peak = _ours(text, "peak demand on the fixed supply")
    model["grid_demand_kw"] *= 2.0
    rows = ssg.scenario_rows(summary, ssg.day_loads(model), 4000.0)
    doubled = next(r.ours for r in rows if r.quantity.startswith("peak demand"))
    assert doubled == pytest.approx(2 * peak, rel=1e-3)


@pytest.mark.slow
def test_another_seed_gives_another_day(tmp_path):
    first = ssg.study(tmp_path / "a", quick=True, seed=0).read_text()
    other = ssg.study(tmp_path / "b", quick=True, seed=7).read_text()
    for key in ("peak demand on the fixed supply", "commercial: largest cut"):
        assert _ours(first, key) != _ours(other, key)


def test_report_needs_an_ev_dr_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no completed market=ev_dr run"):
        ssg.report(tmp_path)


def _row(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if key in line)


def _ours(text: str, key: str) -> float:
    return float(_row(text, key).split("|")[3])
