"""Figures of the ablations (:mod:`innerloop.evaluation.ablations`; their tables:
:mod:`innerloop.stats.ablations`): learned-rate signs, test-time procedures, the
inner-steps sweep and the MAML / Alpha-MAML convergence grid.

Like :mod:`innerloop.reporting.figures`, every function takes the tables the workflow
writes and returns a :class:`matplotlib.figure.Figure` built without pyplot, in the style of
:mod:`innerloop.reporting.style`.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from innerloop.reporting.figures import algorithm_label, ordered_algorithms, setting_label
from innerloop.reporting.style import LINESTYLES, RC_PARAMS, TEXT_WIDTH, algorithm_color
from innerloop.stats.order import setting_order

VARIANT_LABELS = {
    "as_trained": "rates as trained",
    "zero_negative": "negative rates set to 0",
    "flip_negative": "negative rates sign-flipped",
    "positive_trained": "trained with positive rates",
}
PROCEDURE_LABELS = {
    "none": "no adaptation",
    "task": "adapted to the task",
    "other_task": "adapted to another task",
}
PROCEDURE_STYLE = {"none": ("#7f7f7f", "s"), "task": ("#1f77b4", "o"), "other_task": ("#d62728", "D")}
METHOD_LABELS = {"maml": "MAML (alpha, beta fixed)", "alpha_maml": "Alpha-MAML (alpha, beta adapted)"}


def _errorbar(ax, x, y, low, high, *, horizontal: bool, **kwargs) -> None:
    x, y, low, high = (np.asarray(v, dtype=float) for v in (x, y, low, high))
    centre = x if horizontal else y
    low = np.where(np.isfinite(low), low, centre)
    high = np.where(np.isfinite(high), high, centre)
    err = [np.maximum(centre - low, 0), np.maximum(high - centre, 0)]  # rounding of collapsed intervals
    if horizontal:
        ax.errorbar(x, y, xerr=err, capsize=2, lw=1.1, **kwargs)
    else:
        ax.errorbar(x, y, yerr=err, capsize=2, lw=1.1, **kwargs)


def draw_ablation_rate_signs(table: pd.DataFrame) -> Figure:
    """Left: off-task minus on-task probe change per rate variant (mean, 95% CI); right:
    its paired difference from the rates as trained. ``table``: rows of
    :func:`~innerloop.stats.ablations.rate_ablation_table`."""
    settings = list(dict.fromkeys(table["setting"])) if "setting" in table.columns else [None]
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 1.2 + 0.45 * len(table)), layout="constrained")
        ax, ax_d = fig.subplots(1, 2, sharey=True)
        labels = []
        for i, (_, row) in enumerate(table.iterrows()):
            label = VARIANT_LABELS.get(row["variant"], row["variant"])
            labels.append(label if len(settings) == 1 else f"{label} ({row['setting']})")
            _errorbar(ax, [row["mean"] * 100], [i], [row["ci95_low"] * 100], [row["ci95_high"] * 100],
                      horizontal=True, fmt="o", color="#1f77b4")
            if np.isfinite(row["difference"]):
                _errorbar(ax_d, [row["difference"] * 100], [i], [row["difference_ci95_low"] * 100],
                          [row["difference_ci95_high"] * 100], horizontal=True, fmt="D", color="#d62728")
        for a in (ax, ax_d):
            a.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("Off-task minus on-task change (pp)")
        ax_d.set_xlabel("Difference from rates as trained (pp)")
    return fig


def draw_ablation_test_time(table: pd.DataFrame) -> Figure:
    """Meta-test accuracy (mean, 95% CI over seeds and tasks) per algorithm under each
    test-time procedure. ``table``: rows of :func:`~innerloop.stats.ablations.procedure_table`."""
    # One row per algorithm, or per (algorithm, setting) when the table has several settings.
    settings = setting_order(table["setting"]) if "setting" in table.columns else []
    by_setting = len(settings) > 1
    key = (lambda a, st: f"{a} {st}") if by_setting else (lambda a, st: str(a))
    table = table.assign(row=[key(a, st) for a, st in zip(table["algorithm"], table["setting"] if by_setting
                                                          else table["algorithm"])])
    pairs = [(a, st) for a in ordered_algorithms(table["algorithm"]) for st in (settings if by_setting else [None])
             if key(a, st) in set(table["row"])]
    rows = [key(a, st) for a, st in pairs]
    labels = [algorithm_label(a) + (f" ({setting_label(st)})" if st else "") for a, st in pairs]
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH * 0.8, 1.3 + 0.32 * len(rows)), layout="constrained")
        ax = fig.subplots()
        for j, procedure in enumerate(PROCEDURE_LABELS):
            d = table[table["procedure"] == procedure].set_index("row")
            present = [r for r in rows if r in d.index]
            if not present:
                continue
            ys = [rows.index(r) + (j - 1) * 0.22 for r in present]
            d = d.loc[present]
            color, marker = PROCEDURE_STYLE[procedure]
            _errorbar(ax, d["mean"] * 100, ys, d["ci95_low"] * 100, d["ci95_high"] * 100, horizontal=True,
                      fmt=marker, ms=4, color=color, label=PROCEDURE_LABELS[procedure])
        ax.set_yticks(range(len(rows)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("Meta-test accuracy (%)")
        fig.legend(loc="outside upper center", ncol=3)
    return fig


_MARKERS = ("o", "s", "D", "^", "v")


def _varying(df: pd.DataFrame, columns) -> list[str]:
    """The columns among ``columns`` that ``df`` has with more than one value."""
    return [c for c in columns if c in df.columns and df[c].nunique() > 1]


def _sweep_label(keys: dict) -> str:
    """A line's label from the sweep columns that vary: "glyphs", "glyphs → digits", "5-way 1-shot"."""
    parts = []
    if "dataset" in keys or "probe_dataset" in keys:
        train, probed = keys.get("dataset"), keys.get("probe_dataset")
        parts.append(str(train or probed) if train is None or probed in (None, train) else f"{train} → {probed}")
    if "setting" in keys:
        parts.append(setting_label(keys["setting"]))
    return ", ".join(parts)


def _lines(df: pd.DataFrame, variants: list[str], styles: dict):
    """(line style index, label, rows) per combination of the ``variants`` columns in ``df``;
    ``styles``: combination -> index, from :func:`_style_index` of the whole table."""
    for key, g in (df.groupby(variants, sort=False) if variants else [((), df)]):
        key = key if isinstance(key, tuple) else (key,)
        yield styles[key], _sweep_label(dict(zip(variants, key))), g


def _style_index(df: pd.DataFrame, variants: list[str]) -> dict:
    """Each combination of the ``variants`` columns -> a line style index, in order of appearance."""
    if not variants:
        return {(): 0}
    return {key: i for i, key in enumerate(df[variants].drop_duplicates().itertuples(index=False, name=None))}


def draw_ablation_inner_steps(probe: pd.DataFrame, rates: pd.DataFrame) -> Figure:
    """Left: off-task minus on-task probe change against the number of inner steps, per
    algorithm (mean, 95% CI); one line style per training dataset, probe dataset and
    setting where the sweep has several. Right: the fraction of negative learned rates
    per layer (Meta-SGD) against the number of inner steps, one line style per training
    dataset and setting where several."""
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 3.2), layout="constrained")
        ax, ax_r = fig.subplots(1, 2)
        variants = _varying(probe, ("dataset", "probe_dataset", "setting"))
        styles = _style_index(probe, variants)
        for algorithm in ordered_algorithms(probe["algorithm"]):
            for i, label, g in _lines(probe[probe["algorithm"] == algorithm], variants, styles):
                g = g.sort_values("inner_steps")
                color = algorithm_color(algorithm)
                ax.plot(g["inner_steps"], g["off_minus_on"] * 100, ls=LINESTYLES[i % 4], marker=_MARKERS[i % 5],
                        ms=4, color=color, label=algorithm_label(algorithm) + (f", {label}" if label else ""))
                ax.fill_between(g["inner_steps"], g["off_minus_on_ci95_low"] * 100,
                                g["off_minus_on_ci95_high"] * 100, color=color, alpha=0.12, lw=0)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("Inner steps")
        ax.set_ylabel("Off-task minus on-task change (pp)")
        ax.legend(fontsize="small")
        if len(rates):
            variants_r = _varying(rates, ("dataset", "setting"))
            layers = list(dict.fromkeys(rates["layer"]))
            for i, label, g in _lines(rates, variants_r, _style_index(rates, variants_r)):
                for j, layer in enumerate(layers):
                    d = g[g["layer"] == layer].sort_values("inner_steps")
                    ax_r.plot(d["inner_steps"], d["fraction_negative"] * 100, ls=LINESTYLES[i % 4], marker="o",
                              ms=4, color=f"C{j}", label=layer + (f", {label}" if label else ""))
            ax_r.legend(title=algorithm_label(rates["algorithm"].iloc[0]), ncol=2, fontsize="small")
        ax_r.set_xlabel("Inner steps")
        ax_r.set_ylabel("Learned rates < 0 (%)")
        for a in (ax, ax_r):
            a.set_xticks(sorted(set(probe["inner_steps"])))
    return fig


def draw_ablation_convergence(grid: pd.DataFrame, log: pd.DataFrame) -> Figure:
    """Top: iterations to the loss threshold over the grid of initial alpha (rows) and beta
    (columns), per method (blank: not reached; "div": diverged). Bottom: Alpha-MAML's
    alpha and beta over the iterations of every grid cell."""
    methods = [m for m in METHOD_LABELS if m in set(grid["method"])]
    alphas, betas = sorted(set(grid["alpha0"])), sorted(set(grid["beta0"]))
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 6.0), layout="constrained")
        axes = fig.subplots(2, 2)
        vmax = max(float(grid["iterations_run"].max()), 1.0)
        for ax, method in zip(axes[0], methods):
            values = np.full((len(alphas), len(betas)), np.nan)
            d = grid[grid["method"] == method]
            for _, row in d.iterrows():
                i, j = alphas.index(row["alpha0"]), betas.index(row["beta0"])
                text = {"reached": None, "diverged": "div", "not_reached": "—"}[row["status"]]
                if text is None:
                    values[i, j] = row["iterations_to_threshold"]
                    text = str(int(row["iterations_to_threshold"]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8)
            ax.imshow(values, cmap="viridis_r", vmin=0, vmax=vmax, alpha=0.6, aspect="auto")
            ax.grid(False)
            ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas])
            ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
            ax.set_xlabel("initial beta (outer rate)")
            ax.set_ylabel("initial alpha (inner rate)")
            ax.set_title(METHOD_LABELS[method], fontsize=9)
        adapted = log[log["method"] == "alpha_maml"]
        ax_a, ax_b = axes[1]
        for (alpha0, beta0), d in adapted.groupby(["alpha0", "beta0"], sort=True):
            label = f"alpha0={alpha0:g}, beta0={beta0:g}"
            ax_a.plot(d["iteration"], d["alpha"], lw=1, label=label)
            ax_b.plot(d["iteration"], d["beta"], lw=1, label=label)
        ax_a.set_ylabel("alpha")
        ax_b.set_ylabel("beta")
        for a in (ax_a, ax_b):
            a.set_xlabel("iteration")
        if len(adapted):
            ax_b.legend(fontsize=6, ncol=1 if len(alphas) * len(betas) < 6 else 2)
    return fig
