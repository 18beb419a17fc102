"""The page's panels as Solara components: live grid and ledger, energy and market, chain.

Each panel is one SolaraViz component on its own page (tab). Mesa 3.3 lays a page's
components out two per row at a fixed 390 px height; :func:`use_full_width_pages`
gives each of our panels the full width and the height of a screen instead.
Figures are re-drawn only when the model steps (memoised on the model and its step).
"""

from __future__ import annotations

import html

import numpy as np
import solara
from mesa.visualization import solara_viz
from mesa.visualization.utils import update_counter

from experiments.viz import style
from experiments.viz.grid_view import grid_png
from experiments.viz.ledger import latest_blocks, latest_trades, verify_model
from experiments.viz.plots import figure_png

# Height of a page's panel in grid rows (30 px each plus 10 px gaps): 1070 px.
PAGE_ROWS = 27
TRADE_COLOURS = {
    "p2p_local": style.P2P,
    "p2p_cross": "#118ab2",
    "grid_import": style.GRID_IMPORT,
    "grid_export": style.GRID_EXPORT,
}


def full_width_layout(num_components: int) -> list[dict]:
    """Grid layout of a page: every component full width, stacked."""
    return [
        {"i": i, "w": 12, "h": PAGE_ROWS, "x": 0, "y": i * PAGE_ROWS, "moved": False}
        for i in range(num_components)
    ]


def use_full_width_pages() -> None:
    """Make SolaraViz lay our panels out full width (it looks the layout up at render time)."""
    if hasattr(solara_viz, "make_initial_grid_layout"):
        solara_viz.make_initial_grid_layout = full_width_layout


def clock(minutes: int) -> str:
    """Simulated time after ``minutes``: ``12:15``, ``24:00``, ``day 2, 06:00``."""
    if minutes and minutes % 1440 == 0:
        day, text = minutes // 1440, "24:00"
    else:
        day, minute_of_day = minutes // 1440 + 1, minutes % 1440
        text = f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
    return text if day == 1 else f"day {day}, {text}"


def _kpi(label: str, value: str, note: str = "") -> str:
    return (
        f'<div class="gl-kpi"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="note">{html.escape(note)}</div></div>'
    )


def kpi_html(model) -> str:
    """The strip of headline numbers over the map."""
    sim = model.sim
    metrics, totals = sim.metrics, sim.totals
    p2p = totals.get("p2p_local_kwh", 0.0) + totals.get("p2p_cross_kwh", 0.0)
    bought = p2p + totals.get("grid_import_kwh", 0.0)
    price = metrics.get("p2p_mean_price_coins_per_kwh", float("nan"))
    last = model.history[-1]
    saving = last.household_grid_only_coins - last.household_cost_coins
    chain = sim.chain.metrics()
    parts = [
        _kpi("time", clock(sim.steps * sim.step_minutes), f"step {sim.steps} of {sim.n_steps}"),
        _kpi(
            "grid tariff",
            f"{metrics['tariff_coins_per_kwh']:.2f}" if sim.steps else "–",
            f"feed-in {metrics['feed_in_coins_per_kwh']:.2f} coins/kWh" if sim.steps else "",
        ),
        _kpi("P2P share", f"{100 * p2p / bought:.0f}%" if bought else "–", "of energy bought"),
        _kpi(
            "P2P price",
            f"{price:.3f}" if np.isfinite(price) else "–",
            "mean clearing, coins/kWh",
        ),
        _kpi("household saving", f"{saving:+.3f}", "coins each vs grid only"),
        _kpi(
            "chain",
            f"{sim.chain.ledger.height} blocks",
            f"mempool {chain['mempool_size']} · "
            f"latency {chain['confirmation_latency_mean_ms'] / 1000:.1f} s",
        ),
    ]
    return '<div class="gl-kpis">' + "".join(parts) + "</div>"


def blocks_html(model) -> str:
    """The latest-blocks table."""
    rows = latest_blocks(model.sim)
    body = "".join(
        f'<tr><td class="num">{r.height}</td><td class="num">{_hms(r.time_s)}</td>'
        f"<td>{html.escape(r.proposer)}</td><td class='num'>{r.n_tx}</td>"
        f'<td class="hash">{r.block_hash[:16]}…</td></tr>'
        for r in rows
    )
    if not rows:
        body = '<tr><td colspan="5">no blocks yet: step the model</td></tr>'
    return (
        '<table class="gl-table"><thead><tr><th>height</th><th>sealed at</th><th>proposer</th>'
        f"<th>tx</th><th>block hash</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _hms(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def trades_html(model) -> str:
    """The latest-trades table with the step's count per kind."""
    rows, counts = latest_trades(model.sim)
    body = "".join(
        f'<tr><td><span class="gl-pill" style="background:{TRADE_COLOURS[r.kind]}">'
        f"{r.kind.replace('_', ' ')}</span></td><td>{html.escape(r.buyer)}</td>"
        f"<td>{html.escape(r.seller)}</td><td class='num'>{r.energy_kwh:.3f}</td>"
        f"<td class='num'>{r.price_coins_per_kwh:.3f}</td>"
        f"<td class='num'>{r.amount_coins:.4f}</td>"
        f'<td class="hash">{r.tx_hash[:10]}…</td></tr>'
        for r in rows
    )
    if not rows:
        body = '<tr><td colspan="7">no trades yet</td></tr>'
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)
    caption = f'<div class="gl-caption">this step: {summary or "none"}</div>'
    return (
        '<table class="gl-table"><thead><tr><th>kind</th><th>buyer</th><th>seller</th>'
        "<th>kWh</th><th>price</th><th>paid</th><th>tx</th></tr></thead>"
        f"<tbody>{body}</tbody></table>{caption}"
    )


@solara.component
def VerifyButton(model):
    """Export the chain so far, re-verify it from the files, and say what was found."""
    outcome, set_outcome = solara.use_state(None)

    def verify():
        set_outcome((model, verify_model(model)))

    solara.Button(
        "Verify ledger so far",
        on_click=verify,
        color="primary",
        outlined=True,
        icon_name="mdi-check",
    )
    if outcome is None or outcome[0] is not model:
        return
    result = outcome[1]
    if result.ok:
        solara.Success(
            f"Ledger OK: {result.height} blocks and {result.transactions} transactions "
            f"re-verified from the export in {result.seconds:.2f} s; head "
            f"{result.head_hash[:16]}… matches the live chain.",
            dense=True,
        )
    else:
        solara.Error(
            f"Ledger INVALID at height {result.height}: " + "; ".join(result.problems[:5]),
            dense=True,
        )


@solara.component
def LivePanel(model):
    """Page 0: headline numbers, the feeder map, and the ledger."""
    update_counter.get()
    solara.Style(style.PAGE_CSS)
    grid_png, drawing = solara.use_memo(
        lambda: _grid_png(model), dependencies=[model, model.sim.steps]
    )
    with solara.Column(gap="4px", style={"padding": "4px 8px"}):
        solara.HTML(unsafe_innerHTML=kpi_html(model))
        solara.Image(grid_png, width="100%")
        solara.HTML(unsafe_innerHTML=_drawing_caption(model, drawing))
        with solara.Columns([5, 6], gutters_dense=True):
            with solara.Column(gap="6px"):
                solara.HTML(unsafe_innerHTML='<div class="gl-heading">Latest blocks</div>')
                solara.HTML(unsafe_innerHTML=blocks_html(model))
                VerifyButton(model)
            with solara.Column(gap="6px"):
                solara.HTML(unsafe_innerHTML='<div class="gl-heading">Latest trades</div>')
                solara.HTML(unsafe_innerHTML=trades_html(model))


def _grid_png(model):
    with model.lock:
        return grid_png(model)


def _drawing_caption(model, drawing) -> str:
    sim = model.sim
    if not drawing.agents_available:
        who = "Agents run in Ray workers: only the feeder is drawn (use runtime=local)."
    elif drawing.sampled:
        who = (
            f"Large population: drawing an evenly spread sample of {drawing.households_drawn} "
            f"of {drawing.households_total} households and {drawing.evs_drawn} of "
            f"{drawing.evs_total} EVs; all of them trade."
        )
    else:
        who = f"All {drawing.households_total} households and {drawing.evs_total} EVs drawn."
    choices = model.choices
    setup = (
        f"market {choices.get('market', '?')} · consensus {choices.get('chain', '?')} · "
        f"grid {choices.get('grid', '?')} ({sim.n_areas} areas) · seed {sim.seed}"
    )
    return (
        f'<div class="gl-caption">{html.escape(who)}<br>{html.escape(setup)} · same run as '
        f'<span class="gl-command">{html.escape(model.command)}</span></div>'
    )


def _figure_panel(model, title: str, kind: str) -> None:
    solara.Style(style.PAGE_CSS)
    png = solara.use_memo(lambda: _png(model, kind), dependencies=[model, model.sim.steps])
    with solara.Column(gap="2px", style={"padding": "4px 8px"}):
        solara.HTML(unsafe_innerHTML=f'<div class="gl-heading">{html.escape(title)}</div>')
        solara.Image(png, width="100%")


def _png(model, kind: str) -> bytes:
    with model.lock:
        return figure_png(model, kind)


@solara.component
def EnergyPanel(model):
    """Page 1: energy over the day, prices, household cost, states of charge."""
    update_counter.get()
    _figure_panel(model, "Energy and market", "energy")


@solara.component
def ChainPanel(model):
    """Page 2: chain height and mempool, throughput and latency, validators, load."""
    update_counter.get()
    consensus = model.sim.consensus
    title = f"Chain: {consensus.name}, {consensus.n_validators} validators"
    _figure_panel(model, title, "chain")


COMPONENTS = [(LivePanel, 0), (EnergyPanel, 1), (ChainPanel, 2)]
