"""Colours, colour maps and page CSS shared by the browser view's figures and panels."""

from __future__ import annotations

import io

from matplotlib.colors import LinearSegmentedColormap, Normalize, TwoSlopeNorm, to_rgb
from PIL import Image as PILImage

# Energy flows (plots and KPIs).
LOAD = "#4c566a"
PV = "#f2a900"
P2P = "#2a9d8f"
GRID_IMPORT = "#d1495b"
GRID_EXPORT = "#8d99ae"
TARIFF = "#d1495b"
FEED_IN = "#6c757d"
CLEARING = "#2a9d8f"
MARKET_COST = "#2a9d8f"
GRID_ONLY_COST = "#d1495b"
BATTERY = "#5e60ce"
EV = "#118ab2"
CHAIN = "#264653"
MEMPOOL = "#e76f51"

# Station areas: a qualitative palette, shaded as pale tints under the feeder.
AREA_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
)

# Household net power: export green, balanced grey, import red.
NET_CMAP = LinearSegmentedColormap.from_list(
    "net_power", ["#1a9850", "#a6d96a", "#eeeeee", "#fdae61", "#d73027"]
)
NET_LIMIT_KW = 3.0
NET_NORM = TwoSlopeNorm(vmin=-NET_LIMIT_KW, vcenter=0.0, vmax=NET_LIMIT_KW)
# State of charge of home batteries and EVs (fraction of capacity).
SOC_CMAP = LinearSegmentedColormap.from_list(
    "state_of_charge", ["#3b0f70", "#8c2981", "#de4968", "#fe9f6d", "#fcfdbf"]
)
SOC_NORM = Normalize(vmin=0.0, vmax=1.0)
PV_EDGE = "#f2a900"
# Power flow: line loading (share of the rating) and bus voltage (pu).
LOADING_CMAP = LinearSegmentedColormap.from_list(
    "line_loading", ["#c7d3dd", "#6c8ebf", "#f2a900", "#d73027"]
)
LOADING_NORM = Normalize(vmin=0.0, vmax=1.2)
VOLTAGE_CMAP = LinearSegmentedColormap.from_list(
    "bus_voltage", ["#b2182b", "#f4a582", "#f7f7f7", "#92c5de", "#2166ac"]
)


def voltage_norm(result=None) -> Normalize:
    """Voltage colour scale: the allowed band (default 0.95-1.05 pu) around 1 pu."""
    low = float(getattr(result, "v_min_pu", 0.95))
    high = float(getattr(result, "v_max_pu", 1.05))
    return TwoSlopeNorm(vmin=low, vcenter=(low + high) / 2, vmax=high)


def area_colour(area: int) -> str:
    """The colour of station area ``area`` (cycling through the palette)."""
    return AREA_COLOURS[area % len(AREA_COLOURS)]


def tint(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white (``amount`` 1 is white)."""
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def style_axes(ax) -> None:
    """Quiet axes: no top/right spines, a light grid behind the data."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)


def canvas_png(canvas) -> bytes:
    """What an Agg canvas holds now, as PNG (fast zlib level: larger, much quicker)."""
    width, height = canvas.get_width_height()
    image = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


PAGE_CSS = """
.gl-kpis { display: flex; flex-wrap: wrap; gap: 8px; margin: 2px 0 10px 0; }
.gl-kpi { background: #f7f9fb; border: 1px solid #e3e8ee; border-radius: 8px;
          padding: 6px 12px; min-width: 120px; }
.gl-kpi .label { font-size: 11px; color: #6b7785; text-transform: uppercase;
                 letter-spacing: .04em; }
.gl-kpi .value { font-size: 19px; font-weight: 600; color: #1f2d3d; line-height: 1.3; }
.gl-kpi .note { font-size: 11px; color: #6b7785; }
.gl-table { border-collapse: collapse; width: 100%; font-size: 12px; }
.gl-table th { text-align: left; color: #6b7785; font-weight: 600; border-bottom: 1px solid #d9dee4;
               padding: 3px 6px; white-space: nowrap; }
.gl-table td { padding: 2px 6px; border-bottom: 1px solid #f0f2f5; white-space: nowrap; }
.gl-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.gl-table td.hash { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: #46505c; }
.gl-pill { display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 11px;
           color: white; }
.gl-heading { font-size: 15px; font-weight: 600; color: #1f2d3d; margin: 4px 0 4px 0; }
.gl-caption { font-size: 12px; color: #5b6672; }
/* Mesa's sliders do not print their value: show vuetify's thumb label, under the thumb. */
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label.primary { transform: translateX(-50%) translateY(-13px) !important;
    height: auto !important; width: auto !important; border-radius: 0 !important;
    background-color: transparent !important; border-color: transparent !important;
    color: #37474f !important; font-size: 11px; line-height: 1; }
.v-slider__thumb-label.primary > * { transform: none !important; }
.gl-command { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px;
              background: #f3f5f7; border-radius: 4px; padding: 1px 6px; }
"""
