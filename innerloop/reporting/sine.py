"""Sine-wave regression results: the tables and the two figures (Huisman thesis Figs. 3.2, 3.3).

Input is the per-task table every sine run writes (:func:`innerloop.sine.score_run`):
the run's identity (``experiment, variant, algorithm, role, order, inner_steps,
hidden_layers, seed, split``) and ``task, mse``. From it:

* :func:`run_table`: per run, the mean MSE over its fixed evaluation tasks with the 95%
  t-interval over tasks;
* :func:`summary_table`: per variant, over seeds of the per-run MSE: median, mean and the
  95% t-interval of the mean (``n_seeds``);
* :func:`draw_sine_comparison` (thesis Fig. 3.3): per algorithm the median over seeds, the
  mean with its interval, and every seed;
* :func:`draw_sine_turtle_study` (thesis Fig. 3.2): one panel per order, MSE against the
  hidden layers of TURTLE's update network, one line per T, mean over seeds with its
  interval; MAML of the same order and T as a dashed reference line with its band;
* :func:`sine_report_tables`: both summaries as HTML for the report.

Figures take their style and colours from :mod:`innerloop.reporting.style` and are written
by :func:`~innerloop.reporting.figures.save_figure`; lower MSE is better.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from innerloop.catalog import DISPLAY_NAMES
from innerloop.data.sine import TARGET_VARIANCE
from innerloop.divergence import drop_diverged
from innerloop.intervals import mean_ci

from . import figures as F
from .style import FALLBACK_COLORS, RC_PARAMS, algorithm_color, note
from .tables import format_table, to_html

__all__ = [
    "IDENTITY",
    "RUN_COLUMNS",
    "SUMMARY_COLUMNS",
    "read_tasks",
    "run_table",
    "summary_table",
    "sine_label",
    "draw_sine_comparison",
    "draw_sine_turtle_study",
    "sine_report_tables",
    "sine_setup",
]

#: The columns that name a run, in order.
IDENTITY = ("experiment", "variant", "algorithm", "role", "order", "inner_steps", "hidden_layers", "seed", "split")
RUN_COLUMNS = (*IDENTITY, "mse", "ci95_low", "ci95_high", "n_tasks")
_VARIANT_KEYS = tuple(c for c in IDENTITY if c != "seed")
SUMMARY_COLUMNS = (*_VARIANT_KEYS, "n_seeds", "median", "mean", "ci95_low", "ci95_high")
ORDER_LABELS = {"first": "First order", "second": "Second order"}
#: Line colours of the inner-step counts T in the TURTLE study (then the fallback palette).
STEP_COLORS = ("#1f6fb4", "#d1495b", "#2a9d8f", "#e9a03b", "#7b5ea7")


def sine_label(algorithm: object) -> str:
    """Display name of an algorithm (the registry's DISPLAY_NAMES, else the figures' labels)."""
    return DISPLAY_NAMES.get(str(algorithm), F.algorithm_label(algorithm))


def read_tasks(paths: Iterable[Path | str]) -> pd.DataFrame:
    """The per-task tables of several runs, concatenated."""
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise ValueError("no sine run tables given")
    return pd.concat(frames, ignore_index=True)


def _groups(df: pd.DataFrame, keys: tuple[str, ...]):
    """Groups by ``keys`` in order of first appearance, missing values (hidden_layers) kept."""
    return df.groupby(list(keys), sort=False, dropna=False)


def run_table(tasks: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean MSE over its tasks and the 95% t-interval over tasks (``tasks``: the
    identity columns, ``task``, ``mse``). Runs that diverged in training (``status``
    ``diverged``) are left out."""
    F._require(tasks, (*IDENTITY, "task", "mse"), "tasks")
    tasks = drop_diverged(tasks)
    rows = []
    for keys, g in _groups(tasks, IDENTITY):
        ci = mean_ci(g["mse"])
        rows.append({**dict(zip(IDENTITY, keys)), "mse": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high,
                     "n_tasks": ci.n})
    return _typed(pd.DataFrame(rows, columns=list(RUN_COLUMNS)))


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant, over seeds of the per-run MSE: median, mean and the 95% t-interval of the
    mean (NaN bounds with one seed)."""
    F._require(runs, RUN_COLUMNS, "runs")
    rows = []
    for keys, g in _groups(runs, _VARIANT_KEYS):
        ci = mean_ci(g["mse"])
        rows.append({**dict(zip(_VARIANT_KEYS, keys)), "n_seeds": ci.n, "median": float(np.median(g["mse"])),
                     "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high})
    return _typed(pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """hidden_layers as a nullable integer (NaN for algorithms without an update network)."""
    return df.assign(hidden_layers=pd.array(df["hidden_layers"], dtype="Int64"))


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------

def _finite(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, fallback)


def draw_sine_comparison(summary: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Thesis Fig. 3.3: MSE after adaptation on the fixed test tasks, per algorithm.

    ``summary``: :data:`SUMMARY_COLUMNS` (one row per variant, in the order drawn); a
    black bar marks the median over seeds, the point and error bar the mean with its 95%
    t-interval over seeds; with ``runs`` (:data:`RUN_COLUMNS`) every seed is a small dot.
    The dotted line is the MSE of predicting zero (the targets' variance) when it falls
    within the plotted range.
    """
    F._require(summary, SUMMARY_COLUMNS, "summary")
    if runs is not None:
        F._require(runs, RUN_COLUMNS, "runs")
    rows = list(summary.itertuples(index=False))
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(max(3.8, 1.3 + 0.95 * len(rows)), 3.3), layout="constrained")
        ax = fig.subplots(1, 1)
        highs = []
        for i, r in enumerate(rows):
            color = algorithm_color(r.algorithm)
            lo, hi = _finite(np.array([r.ci95_low, r.ci95_high], float), np.array([r.mean, r.mean], float))
            ax.errorbar(i, r.mean, yerr=[[r.mean - lo], [hi - r.mean]], fmt="o", ms=5, capsize=3, lw=1.2,
                        color=color, zorder=3)
            ax.hlines(r.median, i - 0.3, i + 0.3, color="#222222", lw=2.2, zorder=4)
            highs.append(hi)
            if runs is not None:
                seeds = runs[runs["variant"].astype(str) == str(r.variant)].sort_values("seed")
                n = len(seeds)
                xs = i + 0.18 + (np.arange(n) - (n - 1) / 2) * (0.12 / max(n - 1, 1))
                ax.scatter(xs, seeds["mse"], s=10, color=color, alpha=0.55, lw=0, zorder=2)
                highs.extend(seeds["mse"].tolist())
        top = max(highs) * 1.15
        if TARGET_VARIANCE <= top * 1.25:
            ax.axhline(TARGET_VARIANCE, color="#555555", ls=":", lw=1)
            note(ax, f"dotted: predict 0 (MSE {TARGET_VARIANCE:.2f})", loc="upper right")
            top = max(top, TARGET_VARIANCE * 1.08)
        ax.set_ylim(0, top)
        ax.set_xticks(range(len(rows)), [_variant_label(r) for r in rows])
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.set_ylabel(f"MSE after adaptation ({_split_name(summary)} tasks)")
        ax.set_title("Sine-wave regression (lower is better)")
        ax.grid(axis="x", visible=False)
        handles = [Line2D([], [], color="#222222", lw=2.2, label="median over seeds"),
                   Line2D([], [], color="#555555", marker="o", ls="-", lw=1.2, label="mean, 95% CI over seeds")]
        if runs is not None:
            handles.append(Line2D([], [], color="#555555", marker="o", ls="", ms=3, alpha=0.55, label="one seed"))
        ax.legend(handles=handles, loc="upper left", fontsize=7.5)
    return fig


def _variant_label(r) -> str:
    label = sine_label(r.algorithm)
    return label.replace(" (", "\n(").replace("Meta-learner ", "Meta-learner\n")


def _split_name(df: pd.DataFrame) -> str:
    splits = sorted({str(s) for s in df["split"]})
    return {"test": "meta-test", "val": "meta-validation"}.get(splits[0], splits[0]) if len(splits) == 1 else "fixed"


def draw_sine_turtle_study(summary: pd.DataFrame) -> Figure:
    """Thesis Fig. 3.2: TURTLE's MSE against the hidden layers of its update network.

    ``summary``: :data:`SUMMARY_COLUMNS` of the study; rows with ``role == "turtle"`` are
    the grid (``order``, ``inner_steps``, ``hidden_layers``), rows with ``role ==
    "reference"`` the MAML lines (``order``, ``inner_steps``). One panel per order (first,
    then second), sharing the y-axis; one colour per T; points are means over seeds with
    95% t-intervals, dashed lines and bands the reference's mean and interval.
    """
    F._require(summary, SUMMARY_COLUMNS, "summary")
    grid = summary[summary["role"] == "turtle"]
    refs = summary[summary["role"] == "reference"]
    if grid.empty:
        raise ValueError("summary has no TURTLE rows (role 'turtle')")
    orders = [o for o in ORDER_LABELS if o in set(summary["order"].astype(str))]
    steps = sorted({int(t) for t in summary["inner_steps"]})
    colors = {t: STEP_COLORS[i] if i < len(STEP_COLORS) else FALLBACK_COLORS[i % len(FALLBACK_COLORS)]
              for i, t in enumerate(steps)}
    layers = sorted({int(h) for h in grid["hidden_layers"].dropna()})
    offsets = {t: (k - (len(steps) - 1) / 2) * 0.08 for k, t in enumerate(steps)}

    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(3.2 + 2.6 * len(orders), 3.7), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(orders), sharey=True, squeeze=False)).ravel()
        lows, highs = [], []
        for ax, order in zip(axes, orders):
            for t in steps:
                color = colors[t]
                g = grid[(grid["order"] == order) & (grid["inner_steps"] == t)].sort_values("hidden_layers")
                if not g.empty:
                    x = g["hidden_layers"].to_numpy(int) + offsets[t]
                    m = g["mean"].to_numpy(float)
                    lo = _finite(g["ci95_low"].to_numpy(float), m)
                    hi = _finite(g["ci95_high"].to_numpy(float), m)
                    ax.errorbar(x, m, yerr=[m - lo, hi - m], fmt="-o", ms=4, capsize=3, lw=1.4, color=color,
                                zorder=3)
                    lows.extend(lo)
                    highs.extend(hi)
                r = refs[(refs["order"] == order) & (refs["inner_steps"] == t)]
                if not r.empty:
                    r = r.iloc[0]
                    ax.axhline(r["mean"], color=color, ls="--", lw=1.1, zorder=2)
                    if np.isfinite(r["ci95_low"]) and np.isfinite(r["ci95_high"]):
                        ax.axhspan(r["ci95_low"], r["ci95_high"], color=color, alpha=0.10, lw=0, zorder=1)
                        lows.append(r["ci95_low"])
                        highs.append(r["ci95_high"])
                    lows.append(r["mean"])
                    highs.append(r["mean"])
            maml = "MAML" if order == "second" else "FO-MAML"
            ax.set_title(f"{ORDER_LABELS[order]} (TURTLE vs {maml})")
            ax.set_xticks(layers)
            ax.set_xlabel("Hidden layers of the update network")
            ax.grid(axis="x", visible=False)
        axes[0].set_ylabel(f"MSE after adaptation ({_split_name(summary)} tasks),\nmean and 95% CI over seeds")
        low, high = min(lows), max(highs)
        pad = max((high - low) * 0.15, 0.02 * high)
        axes[0].set_ylim(max(0.0, low - pad), high + pad)
        if low - pad > 0:
            note(axes[0], "y-axis truncated", loc="lower left")
        handles = [Line2D([], [], color=colors[t], marker="o", lw=1.4, label=f"TURTLE, T = {t}") for t in steps]
        handles += [Line2D([], [], color=colors[t], ls="--", lw=1.1, label=f"MAML of the panel's order, T = {t}")
                    for t in steps if not refs[refs["inner_steps"] == t].empty]
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=7.5)
    return fig


# --------------------------------------------------------------------------------------
# Tables for the report
# --------------------------------------------------------------------------------------

def sine_report_tables(comparison: pd.DataFrame, turtle_study: pd.DataFrame) -> dict[str, Markup]:
    """HTML of both summaries (:data:`SUMMARY_COLUMNS`), keyed ``sine_comparison`` and
    ``sine_turtle_study``, ready for the report's ``tables``."""
    F._require(comparison, SUMMARY_COLUMNS, "comparison")
    F._require(turtle_study, SUMMARY_COLUMNS, "turtle_study")
    names = {str(a) for f in (comparison, turtle_study) for a in f["algorithm"]}
    labels = {"algorithm": {a: sine_label(a) for a in names}, "order": ORDER_LABELS}
    numbers = dict(float_cols=["median", "mean", "ci95_low"], int_cols=["n_seeds", "inner_steps", "hidden_layers"],
                   float_digits=3, ci_cols=[("ci95_low", "ci95_high", "95% CI (seeds)")], labels=labels)
    rename = {"algorithm": "Algorithm", "order": "Order", "inner_steps": "T", "hidden_layers": "Hidden layers",
              "n_seeds": "Seeds", "median": "Median MSE", "mean": "Mean MSE"}
    cmp = comparison[["algorithm", "order", "inner_steps", "n_seeds", "median", "mean", "ci95_low", "ci95_high"]]
    study = turtle_study.assign(algorithm=turtle_study["algorithm"].astype(str))
    study = study.sort_values(["order", "inner_steps", "role", "hidden_layers"], kind="stable",
                              key=lambda s: s.map({"first": 0, "second": 1, "reference": 0, "turtle": 1})
                              if s.name in ("order", "role") else s)
    study = study[["order", "inner_steps", "algorithm", "hidden_layers", "n_seeds", "median", "mean", "ci95_low",
                   "ci95_high"]]
    return {"sine_comparison": to_html(format_table(cmp, rename=rename, **numbers)),
            "sine_turtle_study": to_html(format_table(study, rename=rename, **numbers))}


def sine_setup(sine: dict) -> dict:
    """The numbers the report's sine section quotes, from the config's ``sine`` block."""
    study = sine["turtle_study"]
    return {"shots": sine["shots"], "queries": sine["shots"] if sine["queries"] is None else sine["queries"],
            "hidden_units": sine["hidden_units"], "n_seeds": len(sine["seeds"]), "iterations": sine["iterations"],
            "meta_batch": sine["meta_batch"], "inner_steps": sine["inner_steps"], "outer_lr": sine["outer_lr"],
            "eval_tasks": sine["eval_tasks"], "eval_queries": sine["eval_queries"],
            "algorithms": [sine_label(a) for a in sine["comparison"]["algorithms"]],
            "study_inner_steps": list(study["inner_steps"]), "study_hidden_layers": list(study["hidden_layers"]),
            "study_orders": list(study["orders"]), "alpha": study["alpha"],
            "update_units": sine["algorithm_options"]["turtle"]["hidden_units"]}
