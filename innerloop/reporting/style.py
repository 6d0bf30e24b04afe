"""The look every report figure shares: matplotlib settings, the text width and PNG
resolution, one colour and one marker per algorithm, line styles, and the small note and
legend helpers.

Every figure module (:mod:`.figures`, :mod:`.convergence`, :mod:`.ablation_figures`,
:mod:`.representations`, :mod:`.sine`) draws inside ``mpl.rc_context(RC_PARAMS)`` on a
figure :data:`TEXT_WIDTH` inches wide (or a fraction of it), and
:func:`~innerloop.reporting.figures.save_figure` writes it at :data:`PNG_DPI`. Colours and
markers are looked up by an algorithm's canonical key (:func:`canonical_name`), so that
``"Meta-SGD"``, ``"meta_sgd"`` and ``"metasgd"`` look alike everywhere.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import matplotlib as mpl

from innerloop.catalog import COLORS, DISPLAY_NAMES
from innerloop.stats.order import algorithm_rank

__all__ = [
    "RC_PARAMS",
    "PNG_DPI",
    "TEXT_WIDTH",
    "ALGORITHM_COLORS",
    "FALLBACK_COLORS",
    "MARKERS",
    "LINESTYLES",
    "CONFIG_NAMES",
    "canonical_name",
    "algorithm_color",
    "algorithm_marker",
    "lighten",
    "note",
    "legend_columns",
]

RC_PARAMS = {
    "font.size": 9.0,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "svg.fonttype": "none",      # text stays text in the SVG
    "svg.hashsalt": "innerloop",  # deterministic ids -> reproducible SVG bytes
}

PNG_DPI = 150
TEXT_WIDTH = 7.6  # inches: the report's text width


def canonical_name(name: object) -> str:
    """An algorithm's key in the label, colour and marker tables: lower case, without
    ``-``, ``_`` and spaces (``"Meta-SGD"`` -> ``"metasgd"``)."""
    return str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")


#: Canonical key -> config name (``"mamlfd"`` -> ``"maml_fd"``).
CONFIG_NAMES: dict[str, str] = {canonical_name(k): k for k in DISPLAY_NAMES}

#: One fixed colour per algorithm, so a colour never changes between figures; families
#: share a hue (MAML blues, ANIL/BOIL teals, LSTM greens, transfer baselines muted).
ALGORITHM_COLORS: dict[str, str] = {canonical_name(k): color for k, color in COLORS.items()}
#: Other names get a stable colour from this list, chosen by a hash of their name.
FALLBACK_COLORS: tuple[str, ...] = ("#5c946e", "#e9a03b", "#7b5ea7", "#3d405b", "#bc4749", "#6a994e")
#: Marker shapes, cycled in table order, so that similar colours still differ in a scatter.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
#: Line styles, cycled over the settings (or sweep variants) drawn in one colour.
LINESTYLES: tuple[str, ...] = ("-", "--", ":", "-.")


def algorithm_color(name: object) -> str:
    """A colour that is the same for an algorithm in every figure."""
    key = canonical_name(name)
    if key in ALGORITHM_COLORS:
        return ALGORITHM_COLORS[key]
    return FALLBACK_COLORS[zlib.crc32(key.encode()) % len(FALLBACK_COLORS)]


def algorithm_marker(name: object) -> str:
    """A marker shape that is the same for an algorithm in every figure."""
    key = canonical_name(name)
    known = sorted(CONFIG_NAMES, key=lambda k: algorithm_rank(CONFIG_NAMES[k]))
    i = known.index(key) if key in known else zlib.crc32(key.encode())
    return MARKERS[i % len(MARKERS)]


def lighten(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: ``amount`` 0 is the colour, 1 is white."""
    r, g, b = mpl.colors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def note(ax, text: str, loc: str = "lower right") -> None:
    """A small grey note in a corner of ``ax`` (``loc``: "lower right", "upper left", ...)."""
    x, ha = (0.98, "right") if "right" in loc else (0.02, "left")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=7, color="#555555", zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})


def legend_columns(labels: Iterable[str], width: float = TEXT_WIDTH) -> int:
    """As many legend columns (at most 4) as fit the figure's width for these labels."""
    labels = list(labels)
    longest = max((len(t) for t in labels), default=1)
    fit = int((width - 0.3) // (0.066 * longest + 0.5))  # ~0.066 in per character at 8 pt, plus the handle
    return max(1, min(4, fit, len(labels)))
