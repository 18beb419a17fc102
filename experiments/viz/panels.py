"""The panels of the browser view's plot pages: one subplot each, data redrawn per step.

A :class:`Panel` sets up its frame once (axes, ticks, labels, legend) and returns its
data as fresh artists every step; :class:`experiments.viz.plots.LiveFigure` caches
the frames and draws only the data on top. Y ranges are rounded up to 'nice' numbers
so the frame is redrawn only when the data outgrows them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from experiments.viz import style

_NICE = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(value: float) -> float:
    """The smallest 'round' number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) >= ``value``."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(n * power for n in _NICE if n * power >= value * (1 - 1e-12))


def _clock(hours: float, _position=None) -> str:
    """Hour ticks as a clock; midnight after the start reads 24:00."""
    whole = int(round(hours))
    return "24:00" if whole and whole % 24 == 0 else f"{whole % 24:02d}:00"


def _time_axis(ax, model) -> None:
    span_h = model.sim.n_steps * model.sim.step_minutes / 60
    ax.set_xlim(0, span_h)
    ax.xaxis.set_major_locator(MultipleLocator(3 if span_h <= 48 else 12))
    ax.xaxis.set_major_formatter(FuncFormatter(_clock))


def _line(colour, style_="-", width=1.8, marker=None):
    return Line2D([], [], color=colour, linestyle=style_, linewidth=width, marker=marker)


def _legend(ax, handles, labels, **kwargs) -> None:
    # Part of the cached frame (redrawing legends every step costs more than the data);
    # the y ranges leave headroom so the data rarely reaches them.
    ax.legend(handles, labels, fontsize=8, frameon=False, **kwargs)


class Panel:
    """One subplot: a static frame set up once, data drawn fresh every step."""

    title = ""

    def setup(self, ax, model) -> None:
        """Axes labels, fixed ranges, legend (drawn into the cached background)."""
        self.ax = ax
        style.style_axes(ax)
        ax.set_title(self.title, fontsize=11, loc="left")

    def wanted_limits(self, model, frame: pd.DataFrame) -> tuple[float, ...]:
        """Axis ranges this step's data needs (the figure only lets them grow)."""
        return ()

    def apply_limits(self, limits: tuple[float, ...]) -> None:
        """Set the axis ranges."""

    def artists(self, model, frame: pd.DataFrame) -> list:
        """This step's data as new artists on the panel's axes."""
        return []


class EnergyPanel(Panel):
    """Load, PV, P2P traded, grid import and export over the day (kW)."""

    title = "Energy over the day"
    SERIES = (
        ("household load", ("load_kwh",), style.LOAD, "-"),
        ("PV generation", ("pv_kwh",), style.PV, "-"),
        ("P2P traded", ("p2p_local_kwh", "p2p_cross_kwh"), style.P2P, "-"),
        ("grid import", ("grid_import_kwh",), style.GRID_IMPORT, "-"),
        ("grid export", ("grid_export_kwh",), style.GRID_EXPORT, "--"),
    )

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("community power (kW)")
        handles = [_line(colour, line) for _, _, colour, line in self.SERIES]
        _legend(ax, handles, [label for label, *_ in self.SERIES], loc="upper left", ncol=3)

    def _power(self, model, frame, columns):
        return sum(frame[c] for c in columns) / (model.sim.step_minutes / 60)

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        peak = max(
            [float(self._power(model, frame, cols).max()) for _, cols, _, _ in self.SERIES]
            if len(frame)
            else [0.0]
        )
        return (nice_ceiling(peak * 1.3),)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])

    def artists(self, model, frame):
        """This step's data."""
        ax, x = self.ax, frame["elapsed_h"]
        drawn = []
        p2p = self._power(model, frame, ("p2p_local_kwh", "p2p_cross_kwh"))
        drawn.append(ax.fill_between(x, 0, p2p, color=style.P2P, alpha=0.15, linewidth=0))
        for _, columns, colour, line in self.SERIES:
            (plotted,) = ax.plot(
                x, self._power(model, frame, columns), color=colour, linestyle=line, linewidth=1.8
            )
            drawn.append(plotted)
        return drawn


class PricePanel(Panel):
    """The grid tariff, the feed-in tariff and the mean P2P clearing price."""

    title = "Clearing price vs tariff and feed-in"

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("coins per kWh")
        handles = [
            _line(style.TARIFF),
            _line(style.FEED_IN, "--", 1.5),
            _line(style.CLEARING, width=1.2, marker="o"),
        ]
        labels = ["grid tariff", "feed-in tariff", "P2P clearing price (mean)"]
        _legend(ax, handles, labels, loc="upper left", ncol=3)

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        tariff = model.sim.tariff
        top = max(
            float(getattr(tariff, "peak_coins_per_kwh", 0.0) or 0.0),
            float(np.nanmax(frame["tariff_coins_per_kwh"])) if len(frame) else 0.0,
            float(np.nanmax(frame["p2p_mean_price_coins_per_kwh"]))
            if len(frame) and frame["p2p_mean_price_coins_per_kwh"].notna().any()
            else 0.0,
        )
        return (nice_ceiling(top * 1.25),)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])

    def artists(self, model, frame):
        """This step's data."""
        ax, x = self.ax, frame["elapsed_h"]
        tariff = ax.plot(
            x,
            frame["tariff_coins_per_kwh"],
            drawstyle="steps-mid",
            color=style.TARIFF,
            linewidth=1.8,
        )
        feed_in = ax.plot(
            x,
            frame["feed_in_coins_per_kwh"],
            drawstyle="steps-mid",
            color=style.FEED_IN,
            linewidth=1.5,
            linestyle="--",
        )
        clearing = ax.plot(
            x,
            frame["p2p_mean_price_coins_per_kwh"],
            color=style.CLEARING,
            marker="o",
            markersize=3.5,
            linewidth=1.2,
        )
        return tariff + feed_in + clearing


class CostPanel(Panel):
    """Households' cumulative net cost with the market and with the grid alone."""

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("net cost, coins per household")
        handles = [_line(style.GRID_ONLY_COST), _line(style.MARKET_COST)]
        _legend(ax, handles, ["grid only", "with the market"], loc="lower left")

    def _series(self, model):
        history = model.history
        dt_h = model.sim.step_minutes / 60
        x = np.array([record.step for record in history]) * dt_h
        market = np.array([record.household_cost_coins for record in history])
        grid_only = np.array([record.household_grid_only_coins for record in history])
        return x, market, grid_only

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        _, market, grid_only = self._series(model)
        values = np.concatenate([market, grid_only, [0.0]])
        span = max(float(values.max() - values.min()), 1e-3)
        return (
            -nice_ceiling(-values.min() + 0.15 * span) if values.min() < 0 else 0.0,
            nice_ceiling(values.max() + 0.15 * span),
        )

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(*limits)

    def artists(self, model, frame):
        """This step's data."""
        ax = self.ax
        x, market, grid_only = self._series(model)
        drawn = [ax.fill_between(x, market, grid_only, color=style.P2P, alpha=0.12, linewidth=0)]
        drawn += ax.plot(x, grid_only, color=style.GRID_ONLY_COST, linewidth=1.8)
        drawn += ax.plot(x, market, color=style.MARKET_COST, linewidth=1.8)
        title = "Cumulative household cost"
        if len(x) > 1:
            saving = grid_only[-1] - market[-1]
            title += (
                f": market saves {saving:.3f} coins each"
                if saving >= 0
                else f": market costs {-saving:.3f} coins more each"
            )
        drawn.append(
            ax.text(0.0, 1.02, title, transform=ax.transAxes, fontsize=11, ha="left", va="bottom")
        )
        return drawn


class ChargePanel(Panel):
    """Distribution of the state of charge of home batteries and EVs now."""

    title = "State of charge now"
    BINS = np.linspace(0, 100, 21)

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        ax.set_xlim(0, 100)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("agents")
        batteries, evs = self._values(model)
        if batteries is None:
            ax.text(
                0.5, 0.5, "agent state lives in Ray workers", ha="center", transform=ax.transAxes
            )
            return
        handles = [Patch(color=style.BATTERY), Patch(color=style.EV)]
        labels = [f"home batteries (n={len(batteries)})", f"EVs (n={len(evs)})"]
        _legend(ax, handles, labels, loc="upper left")

    def _values(self, model):
        areas = model.local_areas
        if not areas:
            return None, None
        batteries, evs = [], []
        for area in areas:
            hh, ev = area.households, area.evs
            has = hh.battery_capacity_kwh > 0
            batteries.append(100 * hh.soc_kwh[has] / hh.battery_capacity_kwh[has])
            evs.append(100 * ev.soc_kwh / ev.capacity_kwh)
        return np.concatenate(batteries), np.concatenate(evs)

    def _counts(self, model):
        batteries, evs = self._values(model)
        if batteries is None:
            return None
        return np.histogram(batteries, self.BINS)[0], np.histogram(evs, self.BINS)[0]

    def wanted_limits(self, model, frame):
        """As many agents as the larger group: a bin can hold no more (a fixed range)."""
        batteries, evs = self._values(model)
        return (nice_ceiling(max(len(batteries), len(evs), 1)) if batteries is not None else 1.0,)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])

    def artists(self, model, frame):
        """This step's data."""
        counts = self._counts(model)
        if counts is None:
            return []
        width = self.BINS[1] - self.BINS[0]
        return [
            self.ax.add_collection(
                PolyCollection(
                    _bars(self.BINS[:-1] + offset * width, 0.4 * width, heights),
                    facecolors=colour,
                    linewidths=0,
                )
            )
            for offset, heights, colour in (
                (0.1, counts[0], style.BATTERY),
                (0.5, counts[1], style.EV),
            )
        ]


def _bars(left: np.ndarray, width: float, heights: np.ndarray) -> np.ndarray:
    """Rectangles as polygon vertices (one collection draws faster than many patches)."""
    right = left + width
    zero = np.zeros_like(left)
    return np.stack(
        [
            np.column_stack(corner)
            for corner in ((left, zero), (left, heights), (right, heights), (right, zero))
        ],
        axis=1,
    )


class HeightPanel(Panel):
    """Chain height and the mempool left after each step."""

    title = "Chain height and mempool"

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("blocks")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        self.twin = ax.twinx()
        self.twin.set_ylabel("pending transactions", color=style.MEMPOOL)
        self.twin.spines["top"].set_visible(False)
        handles = [_line(style.CHAIN), Patch(color=style.MEMPOOL, alpha=0.45)]
        _legend(ax, handles, ["chain height", "mempool after the step"], loc="upper left")

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        height = float(frame["chain_height"].max()) if len(frame) else 0.0
        mempool = float(frame["mempool_size"].max()) if len(frame) else 0.0
        return nice_ceiling(height * 1.15), nice_ceiling(mempool * 1.25)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])
        self.twin.set_ylim(0, limits[1])

    def artists(self, model, frame):
        """This step's data."""
        x = frame["elapsed_h"]
        pool = self.twin.fill_between(
            x, 0, frame["mempool_size"], step="mid", color=style.MEMPOOL, alpha=0.45, linewidth=0
        )
        return [pool, *self.ax.plot(x, frame["chain_height"], color=style.CHAIN, linewidth=1.8)]


class SpeedPanel(Panel):
    """Throughput since genesis and confirmation latency (mean and 95th percentile)."""

    title = "Throughput and confirmation latency"

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("committed tx per simulated second")
        self.twin = ax.twinx()
        self.twin.set_ylabel("latency (s)", color=style.MEMPOOL)
        self.twin.spines["top"].set_visible(False)
        handles = [
            _line(style.CHAIN),
            _line(style.MEMPOOL, width=1.5),
            _line(style.MEMPOOL, "--", 1.2),
        ]
        labels = ["throughput since genesis", "latency, mean", "latency, p95"]
        _legend(ax, handles, labels, loc="lower right")

    def _series(self, model):
        history = model.history[1:]
        dt_h = model.sim.step_minutes / 60
        x = np.array([record.step for record in history]) * dt_h - dt_h / 2
        throughput = np.array([r.throughput_tx_per_s for r in history])
        mean = np.array([r.latency_mean_ms for r in history]) / 1000
        p95 = np.array([r.latency_p95_ms for r in history]) / 1000
        return x, throughput, mean, p95

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        _, throughput, _, p95 = self._series(model)
        return (
            nice_ceiling(float(throughput.max(initial=0)) * 1.2),
            nice_ceiling(float(p95.max(initial=0)) * 1.3),
        )

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])
        self.twin.set_ylim(0, limits[1])

    def artists(self, model, frame):
        """This step's data."""
        x, throughput, mean, p95 = self._series(model)
        drawn = self.ax.plot(x, throughput, color=style.CHAIN, linewidth=1.8)
        drawn += self.twin.plot(x, mean, color=style.MEMPOOL, linewidth=1.5)
        drawn += self.twin.plot(x, p95, color=style.MEMPOOL, linewidth=1.2, linestyle="--")
        return drawn


class ValidatorPanel(Panel):
    """Blocks sealed by each validator."""

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        consensus = model.sim.consensus
        self.title = f"Blocks per validator ({consensus.name})"
        super().setup(ax, model)
        miners = model.sim.miners
        self.keys = [m.identity.public_hex for m in miners]
        ax.set_xticks(
            range(len(miners)),
            [f"V{m.index}\n{key[:8]}" for m, key in zip(miners, self.keys, strict=True)],
        )
        ax.set_xlim(-0.6, len(miners) - 0.4)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(False, axis="x")
        ax.set_ylabel("blocks sealed")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    def _counts(self, model):
        return [model.sim.blocks_by_proposer.get(key, 0) for key in self.keys]

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        return (nice_ceiling(max(self._counts(model) + [1]) * 1.2),)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])

    def artists(self, model, frame):
        """This step's data."""
        bars = self.ax.bar(range(len(self.keys)), self._counts(model), color=style.CHAIN, width=0.6)
        return [*bars, *self.ax.bar_label(bars, fontsize=8, padding=2)]


class LoadPanel(Panel):
    """Transactions submitted and trades cleared per step."""

    title = "Transactions per step"

    def setup(self, ax, model) -> None:
        """Axes, labels and legend."""
        super().setup(ax, model)
        _time_axis(ax, model)
        ax.set_ylabel("per step")
        handles = [Patch(color=style.P2P, alpha=0.5), _line(style.LOAD, width=1.2)]
        _legend(ax, handles, ["transactions submitted", "trades cleared"], loc="upper left")

    def wanted_limits(self, model, frame):
        """The y range(s) the data needs."""
        top = (
            max(float(frame["transactions_submitted"].max()), float(frame["trades"].max()))
            if len(frame)
            else 0.0
        )
        return (nice_ceiling(top * 1.3),)

    def apply_limits(self, limits):
        """Set the y range(s)."""
        self.ax.set_ylim(0, limits[0])

    def artists(self, model, frame):
        """This step's data."""
        x = frame["elapsed_h"]
        submitted = self.ax.fill_between(
            x,
            0,
            frame["transactions_submitted"],
            step="mid",
            color=style.P2P,
            alpha=0.5,
            linewidth=0,
        )
        return [submitted, *self.ax.plot(x, frame["trades"], color=style.LOAD, linewidth=1.2)]


def energy_market_panels() -> list[Panel]:
    """Energy over the day, prices, cumulative household cost, states of charge."""
    return [EnergyPanel(), PricePanel(), CostPanel(), ChargePanel()]


def chain_panels() -> list[Panel]:
    """Chain height and mempool, throughput and latency, blocks per validator, load."""
    return [HeightPanel(), SpeedPanel(), ValidatorPanel(), LoadPanel()]
