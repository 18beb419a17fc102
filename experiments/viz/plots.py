"""The plot pages of the browser view, drawn fast enough to follow every step.

Two 2 x 2 figures of :mod:`~experiments.viz.panels`: energy and market, and the chain.
Each figure keeps its panels' frames (axes, ticks, labels) as a cached background and
redraws only the data on top each step (matplotlib blitting); a frame is redrawn only
when a panel's axis range has to grow. The x axis always spans the whole run
(``time.steps``), so the frame stays put while the lines grow. Energies are shown as
average power over each step (kW), which reads the same whatever the step length.
"""

from __future__ import annotations

import math
import weakref

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.viz import style
from experiments.viz.panels import Panel, chain_panels, energy_market_panels, nice_ceiling


def model_frame(model) -> pd.DataFrame:
    """The DataCollector's per-step table without its initial row, plus elapsed hours."""
    frame = model.sim.datacollector.get_model_vars_dataframe()
    frame = frame[frame["step"] >= 0].reset_index(drop=True)
    frame["elapsed_h"] = (frame["step"] + 0.5) * model.sim.step_minutes / 60
    return frame


class LiveFigure:
    """A 2 x 2 figure of panels whose frames are cached and whose data is redrawn.

    Args:
        model: A :class:`~experiments.viz.model.VizModel`.
        panels: Four panels, row by row.
        dpi: Resolution of the PNG.
    """

    def __init__(self, model, panels: list[Panel], dpi: int = 90):
        # A weak reference: the per-model cache must not keep a reset model alive.
        self._model, self.panels = weakref.ref(model), panels
        self.fig = Figure(figsize=(12, 7.4), dpi=dpi, facecolor="white")
        FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(
            left=0.06, right=0.94, bottom=0.06, top=0.95, wspace=0.3, hspace=0.3
        )
        for panel, ax in zip(panels, self.fig.subplots(2, 2).ravel(), strict=True):
            panel.setup(ax, model)
        self.limits: list[tuple[float, ...]] | None = None
        self.background = None

    @property
    def model(self):
        """The model drawn (alive as long as the page holds it)."""
        return self._model()

    def render(self) -> bytes:
        """The figure at the model's current step, as PNG bytes."""
        frame = model_frame(self.model)
        wanted = [panel.wanted_limits(self.model, frame) for panel in self.panels]
        if self.limits is not None:
            wanted = [
                tuple(_grown(old, w) for w, old in zip(new, prev, strict=True))
                for new, prev in zip(wanted, self.limits, strict=True)
            ]
        canvas = self.fig.canvas
        if wanted != self.limits or self.background is None:
            for panel, limits in zip(self.panels, wanted, strict=True):
                panel.apply_limits(limits)
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            self.limits = wanted
        else:
            canvas.restore_region(self.background)
        for panel in self.panels:
            drawn = panel.artists(self.model, frame)
            for artist in drawn:
                artist.axes.draw_artist(artist)
            for artist in drawn:
                artist.remove()
        return style.canvas_png(canvas)


def _grown(current: float, needed: float) -> float:
    """An axis limit that never shrinks and, when outgrown, grows by a good margin.

    Growing to about 1.6 times what the data needs keeps full redraws of the frame to
    a handful per run (they cost several times a data-only update).
    """
    if abs(needed) <= abs(current) + 1e-12:
        return current
    return math.copysign(nice_ceiling(abs(needed) * 1.6), needed)


_FIGURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def figure_png(model, kind: str) -> bytes:
    """The ``kind`` ("energy" or "chain") figure of ``model`` now (one per model and kind)."""
    figures = _FIGURES.setdefault(model, {})
    if kind not in figures:
        panels = {"energy": energy_market_panels, "chain": chain_panels}[kind]()
        figures[kind] = LiveFigure(model, panels)
    return figures[kind].render()
