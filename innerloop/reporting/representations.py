"""Figures of the representation analysis (innerloop.evaluation.representations).

As in :mod:`innerloop.reporting.figures`: each function returns a matplotlib
``Figure`` built without pyplot, in the style of :mod:`innerloop.reporting.style`;
:func:`innerloop.reporting.figures.save_figure` writes it as PNG and SVG. Figures that
compare a few algorithms side by side take them as ordered mappings ``{algorithm: data}``
and draw one panel (column) each.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from innerloop.evaluation.representations import LAYERS, SPLITS, filter_grid

from . import figures as F
from .sections.representations import SECTION
from .style import RC_PARAMS, TEXT_WIDTH, algorithm_color

__all__ = ["SPLIT_LABELS", "draw_representation_change", "draw_first_layer_filters", "draw_embeddings",
           "draw_embeddings_pca", "draw_embeddings_tsne", "draw_max_activating_images"]

SPLIT_LABELS = {"on_task": "On-task (adapted task's images)", "off_task": "Off-task (another task's images)"}
_SPLIT_STYLE = {"on_task": ("#2b6cb0", "s", "-"), "off_task": ("#dd6b20", "^", "--")}


def draw_representation_change(summary: pd.DataFrame, *, columns: int = 6) -> Figure:
    """CKA between the meta-initialisation's and the adapted network's activations per layer:
    one small panel per algorithm (and setting), on-task and off-task as two lines with
    95% intervals over seeds (the seed range where the interval is undefined).

    ``summary``: ``algorithm, split, layer, mean, ci95_low, ci95_high`` (optional
    ``setting``, ``seed_min``, ``seed_max``), as :func:`~innerloop.evaluation.representations.cka_summary`.
    """
    F._require(summary, ("algorithm", "split", "layer", "mean", "ci95_low", "ci95_high"), "cka summary")
    panels = F._series(summary)
    layers = [layer for layer in LAYERS if layer in set(summary["layer"])]
    columns = max(1, min(columns, len(panels)))
    rows = math.ceil(len(panels) / columns)
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 1.55 * rows + 0.7), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
        x = np.arange(len(layers))
        for ax, series in zip(axes, panels):
            d = F._select(summary, series)
            for split in SPLITS:
                s = d[d["split"] == split].set_index("layer").reindex(layers)
                if s["mean"].isna().all():
                    continue
                color, marker, ls = _SPLIT_STYLE[split]
                low, high = s["ci95_low"].to_numpy(float), s["ci95_high"].to_numpy(float)
                if "seed_min" in s.columns:
                    low = np.where(np.isnan(low), s["seed_min"].to_numpy(float), low)
                    high = np.where(np.isnan(high), s["seed_max"].to_numpy(float), high)
                ax.fill_between(x, low, high, color=color, alpha=0.18, lw=0)
                ax.plot(x, s["mean"].to_numpy(float), color=color, marker=marker, ls=ls, ms=3.5, lw=1.2)
            ax.set_title(textwrap.fill(F._series_label(series), 20), fontsize=8, color=algorithm_color(series[0]))
            ax.set_ylim(-0.02, 1.04)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        for ax in axes[max(0, len(panels) - columns):len(panels)]:
            ax.xaxis.set_tick_params(labelbottom=True)  # the lowest panel of each column shows the layers
        for ax in axes:
            ax.set_xticks(x, layers, rotation=90)
        for ax in axes[::columns]:
            ax.set_ylabel("Linear CKA")
        handles = [Line2D([], [], color=c, marker=m, ls=ls, label=SPLIT_LABELS[s])
                   for s, (c, m, ls) in _SPLIT_STYLE.items()]
        fig.legend(handles=handles, loc="outside upper center", ncol=2)
    return fig


def _side_by_side(n: int, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(TEXT_WIDTH, height), layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()


def draw_first_layer_filters(filters: Mapping[str, np.ndarray]) -> Figure:
    """The first convolution's filters of each algorithm as a grid (each filter scaled to
    its own range, dark = negative; channels averaged), one panel per algorithm."""
    if not filters:
        raise ValueError("draw_first_layer_filters needs at least one algorithm")
    with mpl.rc_context({**RC_PARAMS, "axes.grid": False}):
        fig, axes = _side_by_side(len(filters), TEXT_WIDTH / len(filters) + 0.5)
        for ax, (alg, f) in zip(axes, filters.items()):
            ax.imshow(np.ma.masked_invalid(filter_grid(f)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            ax.set_title(f"{F.algorithm_label(alg)} ({len(f)} filters)", color=algorithm_color(alg))
    return fig


def draw_embeddings(points: pd.DataFrame, method: str) -> Figure:
    """2-D maps of the embeddings of meta-test images coloured by class, one panel per algorithm
    (the figures ``embeddings_pca`` and ``embeddings_tsne``: :func:`draw_embeddings_pca`,
    :func:`draw_embeddings_tsne`).

    ``points``: ``algorithm, method, x, y, class`` (one row per image and map); the panels
    show the rows whose ``method`` is ``method`` (``pca`` or ``tsne``), algorithms in the
    order they first appear.
    """
    F._require(points, ("algorithm", "method", "x", "y", "class"), "embedding points")
    d = points[points["method"] == method]
    if d.empty:
        raise ValueError(f"no embedding points for method {method!r}")
    algorithms = list(dict.fromkeys(d["algorithm"]))
    classes = sorted(d["class"].unique())
    cmap = mpl.colormaps["tab20" if len(classes) > 10 else "tab10"]
    colors = {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
    axis = {"pca": ("PC 1", "PC 2"), "tsne": ("t-SNE 1", "t-SNE 2")}.get(method, ("1", "2"))
    with mpl.rc_context(RC_PARAMS):
        fig, axes = _side_by_side(len(algorithms), TEXT_WIDTH / len(algorithms) + 0.6)
        for ax, alg in zip(axes, algorithms):
            a = d[d["algorithm"] == alg]
            ax.scatter(a["x"], a["y"], c=[colors[c] for c in a["class"]], s=9, lw=0, alpha=0.85)
            ax.set_title(F.algorithm_label(alg), color=algorithm_color(alg))
            ax.set_xlabel(axis[0])
            ax.set_ylabel(axis[1])
            ax.tick_params(labelleft=False, labelbottom=False)
        fig.suptitle(f"{len(classes)} meta-test classes, {len(d) // max(len(algorithms), 1)} images; "
                     "colour = class", fontsize=8.5)
    return fig


def draw_embeddings_pca(points: pd.DataFrame) -> Figure:
    """:func:`draw_embeddings` of the PCA maps."""
    return draw_embeddings(points, "pca")


def draw_embeddings_tsne(points: pd.DataFrame) -> Figure:
    """:func:`draw_embeddings` of the t-SNE maps."""
    return draw_embeddings(points, "tsne")


def draw_max_activating_images(images: Mapping[str, np.ndarray], extremes: pd.DataFrame) -> Figure:
    """Per algorithm (one panel each): for every chosen unit (a row, labelled layer/unit)
    the meta-test images that activate it least (left, weakest at the edge) and most
    (right, strongest at the edge).

    ``images``: ``{algorithm: (n, C, H, W) array in [0, 1]}``, the images each algorithm
    was shown; ``extremes``: ``algorithm, layer, unit, kind, rank, image`` as
    :func:`~innerloop.evaluation.representations.unit_extremes` with the algorithm in front.
    """
    F._require(extremes, ("algorithm", "layer", "unit", "kind", "rank", "image"), "unit extremes")
    algorithms = [a for a in dict.fromkeys(extremes["algorithm"])]
    missing = [a for a in algorithms if a not in images]
    if missing:
        raise KeyError(f"no images for {missing}")
    mosaics, labels = {}, {}
    for alg in algorithms:
        e = extremes[extremes["algorithm"] == alg]
        x = np.asarray(images[alg], dtype=float).mean(1)  # (n, H, W): channels averaged
        h, w = x.shape[1:]
        k = int(e["rank"].max()) + 1
        units = list(dict.fromkeys(zip(e["layer"], e["unit"])))
        gap = max(2, w // 3)
        mosaic = np.full((len(units) * (h + 1) - 1, 2 * k * (w + 1) + gap - 2), np.nan)
        for r, (layer, unit) in enumerate(units):
            u = e[(e["layer"] == layer) & (e["unit"] == unit)]
            mins = u[u["kind"] == "min"].sort_values("rank", ascending=False)["image"].to_numpy()
            maxs = u[u["kind"] == "max"].sort_values("rank")["image"].to_numpy()
            for c, j in enumerate(mins):
                mosaic[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = x[j]
            for c, j in enumerate(maxs):
                left = k * (w + 1) + gap - 1 + c * (w + 1)
                mosaic[r * (h + 1):r * (h + 1) + h, left:left + w] = x[j]
        mosaics[alg], labels[alg] = mosaic, ([f"{layer} u{unit}" for layer, unit in units], h, k, w, gap)
    with mpl.rc_context({**RC_PARAMS, "axes.grid": False}):
        aspect = max(m.shape[0] / m.shape[1] for m in mosaics.values())
        fig, axes = _side_by_side(len(algorithms), 0.8 * TEXT_WIDTH / len(algorithms) * aspect + 0.7)
        for ax, alg in zip(axes, algorithms):
            ticks, h, k, w, gap = labels[alg]
            ax.imshow(np.ma.masked_invalid(mosaics[alg]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_yticks([r * (h + 1) + h / 2 for r in range(len(ticks))], ticks, fontsize=7)
            ax.set_xticks([k * (w + 1) / 2, k * (w + 1) + gap + k * (w + 1) / 2], ["min", "max"])
            ax.tick_params(length=0)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            ax.set_title(F.algorithm_label(alg), color=algorithm_color(alg))
    return fig


def cka_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The report's CKA table: one row per algorithm (and setting) and split, one column per
    layer, cells ``mean [95% CI over seeds]`` (display strings)."""
    from .format import MISSING, format_number

    F._require(summary, ("algorithm", "split", "layer", "mean", "ci95_low", "ci95_high"), "cka summary")
    layers = [layer for layer in LAYERS if layer in set(summary["layer"])]
    rows = []
    for series in F._series(summary):
        d = F._select(summary, series)
        for split in SPLITS:
            s = d[d["split"] == split].set_index("layer")
            if s.empty:
                continue
            row = {"Algorithm": F._series_label(series), "Images": "on-task" if split == "on_task" else "off-task"}
            for layer in layers:
                if layer not in s.index:
                    row[layer] = MISSING
                    continue
                r = s.loc[layer]
                cell = format_number(r["mean"], 3)
                if pd.notna(r["ci95_low"]) and pd.notna(r["ci95_high"]):
                    cell += f" [{format_number(r['ci95_low'], 3)}, {format_number(r['ci95_high'], 3)}]"
                row[layer] = cell
            rows.append(row)
    return pd.DataFrame(rows, columns=["Algorithm", "Images", *layers])


#: Figure keys of the representations section, in the order shown (its declaration,
#: innerloop.reporting.sections.representations); all but the first are the feature
#: visualisation (present when MAML, Meta-SGD or a baseline is configured).
FIGURE_KEYS: tuple[str, ...] = tuple(f.key for f in SECTION.figures)


def cka_findings(summary: pd.DataFrame) -> list[str]:
    """Sentences on the CKA of MAML and Meta-SGD (those present, first setting): the conv
    layer adaptation changes most and its mean CKA on-task and off-task."""
    out = []
    if "setting" in summary.columns and summary["setting"].nunique() > 1:
        from innerloop.stats.order import setting_order

        summary = summary[summary["setting"].astype(str) == setting_order(summary["setting"])[0]]
    for alg in ("maml", "metasgd"):
        d = summary[(summary["algorithm"].astype(str) == alg) & (summary["layer"] != "logits") & summary["mean"].notna()]
        on = d[d["split"] == "on_task"].set_index("layer")["mean"]
        off = d[d["split"] == "off_task"].set_index("layer")["mean"]
        if on.empty:
            continue
        layer = on.idxmin()
        s = (f"{F.algorithm_label(alg)}: of the conv layers adaptation changes {layer} most, mean CKA "
             f"{on[layer]:.3f} on-task")
        if layer in off.index:
            s += f" and {off[layer]:.3f} off-task"
        out.append(s + f"; the least changed is {on.idxmax()} ({on.max():.3f} on-task).")
    return out


def report_parts(summary: pd.DataFrame, figures: Mapping[str, str], *, n_tasks: int,
                 visual_algorithms: list[str]) -> tuple[dict, dict]:
    """The report's representations material: ``({"cka": table HTML}, context["representations"])``.

    ``figures``: the present keys of :data:`FIGURE_KEYS` -> PNG paths (the caller adds them
    to ``context["figures"]``); ``visual_algorithms``: the algorithms in the visualisation figures.
    """
    from .tables import to_html

    if "representation_change" not in figures:
        raise KeyError("the representations section needs the representation_change figure")
    return {"cka": to_html(cka_table(summary))}, {
        "n_tasks": int(n_tasks),
        "n_seeds": int(summary["n_seeds"].max()) if len(summary) else 0,
        "findings": cka_findings(summary),
        "visual_figures": [k for k in FIGURE_KEYS[1:] if k in figures],
        "visual_algorithms": [F.algorithm_label(a) for a in visual_algorithms],
    }
