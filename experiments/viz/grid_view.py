"""The feeder map: buses at their coordinates, station areas shaded, agents by kind and state.

Everything is read from graph attributes (``pos``, ``area``, ``kind``) and from the
areas' public state, so any grid plug-in that sets those attributes is drawn (a graph
without ``pos`` is laid out with a seeded spring layout). Agents that share a bus are
spread around it on a sunflower spiral so none hides another.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from experiments.viz import style
from experiments.viz.power_flow import flow_artists, flow_geometry

# Most households drawn at once; beyond that an evenly spread sample is drawn.
MAX_HOUSEHOLDS_DRAWN = 400
MAX_EVS_DRAWN = 200
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
# Spacing of agents around their bus, as a fraction of the median line length.
SPIRAL_STEP = 0.13


@dataclass(frozen=True)
class FeederLayout:
    """Where the buses are drawn (computed once per graph).

    Attributes:
        pos: Bus -> (x, y) drawing coordinates.
        area: Bus -> station area (-1 for buses outside any area, e.g. the substation).
        kind: Bus -> "substation", "station" or "bus".
        scale: Median line length in drawing units (sets marker spacing).
    """

    pos: dict
    area: dict
    kind: dict
    scale: float


_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def feeder_layout(graph: nx.Graph) -> FeederLayout:
    """The drawing layout of ``graph`` from its node attributes (cached per graph)."""
    cached = _LAYOUTS.get(graph)
    if cached is not None:
        return cached
    pos = nx.get_node_attributes(graph, "pos")
    if len(pos) < graph.number_of_nodes():
        pos = nx.spring_layout(graph, seed=0)
    pos = {node: (float(xy[0]), float(xy[1])) for node, xy in pos.items()}
    lengths = [math.dist(pos[a], pos[b]) for a, b in graph.edges]
    lengths = [length for length in lengths if length > 0]
    if lengths:
        scale = float(np.median(lengths))
    else:
        xs = np.array(list(pos.values()))
        scale = float(np.ptp(xs, axis=0).max() / 10) if len(xs) > 1 else 1.0
    layout = FeederLayout(
        pos=pos,
        area={n: int(d.get("area", 0)) for n, d in graph.nodes(data=True)},
        kind={n: str(d.get("kind", "bus")) for n, d in graph.nodes(data=True)},
        scale=scale or 1.0,
    )
    _LAYOUTS[graph] = layout
    return layout


def spread_rows(n: int, k: int) -> np.ndarray:
    """``k`` of ``n`` rows, evenly spread (all rows when ``k >= n``)."""
    if k >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def _spiral(center: tuple[float, float], count: int, step: float, start: int = 0):
    """``count`` points around ``center`` on a sunflower spiral (first one off-centre)."""
    i = np.arange(start, start + count) + 1.0
    radius = step * np.sqrt(i)
    theta = i * _GOLDEN_ANGLE
    return np.column_stack([center[0] + radius * np.cos(theta), center[1] + radius * np.sin(theta)])


@dataclass(frozen=True)
class GridDrawing:
    """What the map shows (for the page's caption).

    Attributes:
        households_drawn: Households on the map.
        households_total: Households in the run.
        evs_drawn: EVs on the map.
        evs_total: EVs in the run.
        agents_available: False when the areas run elsewhere (Ray) and only buses are drawn.
        power_flow: True when lines and buses show the last step's power flow.
    """

    households_drawn: int
    households_total: int
    evs_drawn: int
    evs_total: int
    agents_available: bool
    power_flow: bool = False

    @property
    def sampled(self) -> bool:
        """True when only a sample of the agents is drawn."""
        return self.households_drawn < self.households_total or self.evs_drawn < self.evs_total


class GridMap:
    """The feeder map of one model, drawn fast enough to follow every step.

    The parts that never change (area shading, lines, buses, stations, validators,
    generators, legend, colour scales) are drawn once; each :meth:`render` restores
    that background and draws only the agents on top (matplotlib blitting), then
    encodes the canvas as PNG. The map keeps the graph's proportions; the figure's
    height follows them, clamped so very wide or tall feeders stay readable.

    Args:
        model: A :class:`~experiments.viz.model.VizModel`.
        width_in: Figure width in inches.
        dpi: Resolution of the PNG.
        max_households: Most households drawn (an evenly spread sample beyond that).
    """

    def __init__(
        self,
        model,
        width_in: float = 10.0,
        dpi: int = 90,
        max_households: int = MAX_HOUSEHOLDS_DRAWN,
    ):
        # A weak reference: the per-model cache must not keep a reset model alive.
        self._model = weakref.ref(model)
        sim = model.sim
        self.layout = layout = feeder_layout(sim.graph)
        labels = _area_labels(layout)
        points = np.array(list(layout.pos.values()) + [xy for xy, _ in labels.values()])
        pad = 1.0 * layout.scale
        low, high = points.min(axis=0) - pad, points.max(axis=0) + pad
        span = np.maximum(high - low, 1e-9)
        map_in = float(np.clip(width_in * span[1] / span[0], 0.3 * width_in, 0.9 * width_in))
        band_in = 1.45
        total = map_in + band_in
        self.fig = Figure(figsize=(width_in, total), dpi=dpi, facecolor="white")
        FigureCanvasAgg(self.fig)
        ax = self.fig.add_axes((0.005, band_in / total, 0.99, map_in / total - 0.005))
        ax.set_aspect("equal", adjustable="box")
        ax.axis("off")
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        self.ax = ax
        _draw_feeder(ax, sim.graph, layout, labels)
        self.areas = model.local_areas
        self.generators = _draw_infrastructure(ax, sim, self.areas, layout)
        self.flow = flow_geometry(sim, layout.pos)
        _legend_and_colourbars(self.fig, band_in / total, power_flow=self.flow is not None)
        self._place_households(max_households)
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def _place_households(self, max_households: int) -> None:
        """Which households are drawn and where (they never move)."""
        pos, scale = self.layout.pos, self.layout.scale
        total = sum(area.counts.households for area in self.areas)
        self.slots: dict = {}
        self.house_rows, xy = [], []
        for area in self.areas:
            quota = math.ceil(max_households * area.counts.households / total) if total else 0
            rows = spread_rows(area.counts.households, quota)
            self.house_rows.append(rows)
            for bus in area.households.bus[rows].tolist():
                index = self.slots.get(bus, 0)
                self.slots[bus] = index + 1
                xy.append(_spiral(pos[bus], 1, SPIRAL_STEP * scale, start=index)[0])
        self.house_xy = np.array(xy).reshape(-1, 2)
        pv = (
            np.concatenate(
                [
                    a.households.pv_peak_kw[r] > 0
                    for a, r in zip(self.areas, self.house_rows, strict=True)
                ]
            )
            if self.areas
            else np.zeros(0, dtype=bool)
        )
        self.house_edge = ["#f2a900" if p else "#3d4650" for p in pv]
        self.house_edge_width = np.where(pv, 1.6, 0.6)
        self.marker_size = 46 if len(self.house_xy) <= 160 else 22

    @property
    def model(self):
        """The model drawn (alive as long as the page holds it)."""
        return self._model()

    def render(self) -> tuple[bytes, GridDrawing]:
        """The map at the model's current step, as PNG bytes, and what it shows."""
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        artists = self._agent_artists() if self.areas else []
        result = getattr(self.model.sim, "power_flow", None)
        if self.flow is not None and result is not None:
            artists = flow_artists(self.ax, self.flow, result) + artists
        for artist in artists:
            self.ax.draw_artist(artist)
        for artist in artists:
            artist.remove()
        png = style.canvas_png(canvas)
        sim = self.model.sim
        drawing = GridDrawing(
            households_drawn=len(self.house_xy),
            households_total=int((sim.agent_kind == 1).sum()),
            evs_drawn=self._evs_drawn,
            evs_total=int((sim.agent_kind == 2).sum()),
            agents_available=bool(self.areas),
            power_flow=self.flow is not None and result is not None,
        )
        return png, drawing

    def _agent_artists(self) -> list:
        ax, scale = self.ax, self.layout.scale
        net, batt_xy, batt_soc = [], [], []
        offset = 0
        for area, rows in zip(self.areas, self.house_rows, strict=True):
            hh = area.households
            net.append(hh.net_kwh[rows] / area.dt_h)
            has = hh.battery_capacity_kwh[rows] > 0
            batt_xy.append(self.house_xy[offset : offset + len(rows)][has])
            batt_soc.append(hh.soc_kwh[rows][has] / hh.battery_capacity_kwh[rows][has])
            offset += len(rows)
        ev_xy, ev_soc, trips = self._place_evs()
        size = self.marker_size
        artists = []
        if trips:
            artists.append(
                ax.add_collection(
                    LineCollection(
                        trips,
                        colors=style.EV,
                        linewidths=0.9,
                        linestyles=(0, (2, 2)),
                        alpha=0.55,
                        zorder=3,
                    )
                )
            )
        if len(self.house_xy):
            artists.append(
                ax.scatter(
                    self.house_xy[:, 0],
                    self.house_xy[:, 1],
                    s=size,
                    c=np.concatenate(net),
                    cmap=style.NET_CMAP,
                    norm=style.NET_NORM,
                    edgecolors=self.house_edge,
                    linewidths=self.house_edge_width,
                    marker="o",
                    zorder=4,
                )
            )
        batt = np.concatenate(batt_xy) if batt_xy else np.zeros((0, 2))
        if len(batt):
            artists.append(
                ax.scatter(
                    batt[:, 0] + 0.09 * scale,
                    batt[:, 1] + 0.09 * scale,
                    s=size * 0.45,
                    c=np.concatenate(batt_soc),
                    cmap=style.SOC_CMAP,
                    norm=style.SOC_NORM,
                    marker="s",
                    edgecolors="#222222",
                    linewidths=0.5,
                    zorder=5,
                )
            )
        if len(ev_xy):
            artists.append(
                ax.scatter(
                    ev_xy[:, 0],
                    ev_xy[:, 1],
                    s=size * 1.2,
                    c=ev_soc,
                    cmap=style.SOC_CMAP,
                    norm=style.SOC_NORM,
                    marker="^",
                    edgecolors="#111111",
                    linewidths=0.7,
                    zorder=5,
                )
            )
        for area, (gx, gy, k) in self.generators:
            power_kw = area.providers.sold_wh[k] / 1000 / area.dt_h
            artists.append(
                ax.text(
                    gx,
                    gy - 0.3 * scale,
                    f"{power_kw:.0f} kW",
                    ha="center",
                    va="top",
                    fontsize=8,
                    color="#a35400",
                    zorder=7,
                )
            )
        return artists

    def _place_evs(self):
        """EVs at their current cell (home or work bus), after the households there."""
        pos, scale = self.layout.pos, self.layout.scale
        total = sum(area.counts.evs for area in self.areas)
        budget = min(MAX_EVS_DRAWN, total)
        used = dict(self.slots)
        xy, soc, trips = [], [], []
        for area in self.areas:
            ev = area.evs
            quota = math.ceil(budget * area.counts.evs / total) if total else 0
            for j in spread_rows(area.counts.evs, quota).tolist():
                bus = int(area.vehicles[j].cell.coordinate)
                index = used.get(bus, 0)
                used[bus] = index + 1
                point = _spiral(pos[bus], 1, SPIRAL_STEP * scale, start=index)[0]
                xy.append(point)
                soc.append(ev.soc_kwh[j] / ev.capacity_kwh[j])
                home = int(ev.home_bus[j])
                if bus != home:
                    trips.append((pos[home], tuple(point)))
        self._evs_drawn = len(xy)
        return np.array(xy).reshape(-1, 2), np.array(soc), trips


_MAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def grid_png(model) -> tuple[bytes, GridDrawing]:
    """The feeder map of ``model`` at its current step (one :class:`GridMap` per model)."""
    grid_map = _MAPS.get(model)
    if grid_map is None:
        grid_map = _MAPS[model] = GridMap(model)
    return grid_map.render()


def _area_labels(layout: FeederLayout) -> dict[int, tuple[np.ndarray, str]]:
    """Where each area's name goes: just outside the area, away from the grid's centre."""
    members: dict[int, list] = {}
    for bus, area in layout.area.items():
        if area >= 0:
            members.setdefault(area, []).append(layout.pos[bus])
    xy = np.array(list(layout.pos.values()))
    centre = xy.mean(axis=0)
    labels = {}
    for area, points in sorted(members.items()):
        points = np.array(points)
        middle = points.mean(axis=0)
        direction = middle - centre
        norm = float(np.hypot(*direction))
        direction = direction / norm if norm > 1e-9 else np.array([0.0, 1.0])
        reach = float(((points - middle) @ direction).max())
        labels[area] = (middle + direction * (reach + 1.1 * layout.scale), f"area {area}")
    return labels


def _draw_feeder(ax, graph: nx.Graph, layout: FeederLayout, labels: dict) -> None:
    pos, scale = layout.pos, layout.scale
    discs = {}
    for bus, area in layout.area.items():
        if area >= 0:
            discs.setdefault(area, []).append(Circle(pos[bus], 0.62 * scale))
    for area, patches in sorted(discs.items()):
        ax.add_collection(
            PatchCollection(
                patches,
                facecolor=style.tint(style.area_colour(area), 0.84),
                edgecolor="none",
                zorder=0,
            )
        )
    trunk = [
        layout.kind[a] == "substation" or layout.kind[b] == "substation" for a, b in graph.edges
    ]
    segments = [(pos[a], pos[b]) for a, b in graph.edges]
    ax.add_collection(
        LineCollection(
            segments,
            colors=["#5c6670" if t else "#9aa3ad" for t in trunk],
            linewidths=[2.2 if t else 1.1 for t in trunk],
            zorder=1,
        )
    )
    buses = np.array([pos[n] for n in graph.nodes])
    ax.scatter(buses[:, 0], buses[:, 1], s=7, color="#7b858f", zorder=2, linewidths=0)
    for area, (label_at, text) in labels.items():
        ax.text(
            *label_at,
            text,
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color=style.area_colour(area),
            zorder=6,
        )


def _draw_infrastructure(ax, sim, areas, layout: FeederLayout) -> list:
    """Substation, stations, validators and generators; returns where generators are."""
    pos, scale = layout.pos, layout.scale
    for bus, kind in layout.kind.items():
        x, y = pos[bus]
        if kind == "substation":
            ax.scatter([x], [y], s=260, marker="s", color="#2b2d42", zorder=6)
            ax.text(x, y - 0.55 * scale, "substation", ha="center", va="top", fontsize=9, zorder=7)
        elif kind == "station":
            ax.scatter(
                [x],
                [y],
                s=120,
                marker="D",
                color="white",
                edgecolors="#2b2d42",
                linewidths=1.6,
                zorder=6,
            )
    hosted: dict = {}
    for miner in sim.miners:
        bus = miner.cell.coordinate
        k = hosted.get(bus, 0)
        hosted[bus] = k + 1
        x, y = pos[bus]
        mx, my = x + 0.34 * scale * (1 + k), y + 0.34 * scale
        ax.scatter([mx], [my], s=120, marker="h", color="#111111", zorder=7)
        ax.text(
            mx, my, str(miner.index), color="white", fontsize=7, ha="center", va="center", zorder=8
        )
    generators = []
    for area in areas:
        for k in range(area.counts.providers):
            x, y = pos[int(area.providers.bus[k])]
            gx, gy = x - 0.34 * scale * (1 + k), y - 0.34 * scale
            ax.scatter(
                [gx],
                [gy],
                s=150,
                marker="P",
                color="#ff8c1a",
                edgecolors="#222222",
                linewidths=0.8,
                zorder=6,
            )
            generators.append((area, (gx, gy, k)))
    return generators


def _legend_and_colourbars(fig: Figure, band: float, power_flow: bool = False) -> None:
    """Marker legend and the two colour scales, in the band under the map."""

    def marker(shape, face, edge="#222222", size=8, width=0.8):
        return Line2D(
            [],
            [],
            linestyle="none",
            marker=shape,
            markersize=size,
            markerfacecolor=face,
            markeredgecolor=edge,
            markeredgewidth=width,
        )

    handles = [
        (marker("o", "#eeeeee", "#3d4650"), "household"),
        (marker("o", "#eeeeee", style.PV_EDGE, width=2), "with rooftop PV"),
        (marker("s", "#de4968", size=6), "home battery"),
        (marker("^", "#fe9f6d"), "EV (dashed: away)"),
        (marker("P", "#ff8c1a", size=10), "station generator"),
        (marker("D", "white", "#2b2d42", width=1.6), "aggregator"),
        (marker("h", "#111111", size=10), "validator"),
        (marker("s", "#2b2d42", size=10), "substation"),
    ]
    fig.legend(
        [h for h, _ in handles],
        [label for _, label in handles],
        loc="upper center",
        bbox_to_anchor=(0.5, band),
        ncol=4,
        fontsize=9,
        frameon=False,
        columnspacing=1.4,
        handletextpad=0.4,
    )
    mappables = [
        (
            style.NET_CMAP,
            style.NET_NORM,
            "net power (kW): export | import"
            if power_flow
            else "household net power (kW):  export  |  import",
        ),
        (
            style.SOC_CMAP,
            style.SOC_NORM,
            "state of charge" if power_flow else "state of charge of batteries and EVs",
        ),
    ]
    if power_flow:
        mappables += [
            (style.VOLTAGE_CMAP, style.voltage_norm(), "bus voltage (pu)"),
            (style.LOADING_CMAP, style.LOADING_NORM, "line loading (share of rating)"),
        ]
    height = 0.12 * band
    slot = 0.94 / len(mappables)
    for i, (cmap, norm, label) in enumerate(mappables):
        cax = fig.add_axes((0.03 + slot * i + 0.08 * slot, 0.42 * band, 0.84 * slot, height))
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
        bar.set_label(label, fontsize=9)
        bar.ax.tick_params(labelsize=8)
        if i == 1:
            bar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0%", "25%", "50%", "75%", "100%"])
