"""The report's convergence material: learning curves with each run's stop and
best-validation points, the convergence table per algorithm, the per-run table, the plateau
rule in words, and the marks on statistics that rest on a run that did not converge.

Inputs are the collected validation log (``results/tables/validation.csv``: ``algorithm,
setting, seed, iteration, accuracy, ci95``) and the per-run convergence table
(``results/tables/convergence.csv``, :func:`innerloop.convergence.convergence_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Collection

import matplotlib as mpl
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from innerloop.convergence import CONVERGED, DIVERGED, NOT_META_TRAINED, STILL_IMPROVING, PlateauRule, \
    convergence_summary, unconverged

from . import figures as F
from .style import RC_PARAMS, TEXT_WIDTH, algorithm_color
from .tables import format_table, meta_test_table_html, to_html

#: The mark on a statistic that rests on a run that reached its budget still improving.
MARK = "†"
#: Marker of a run's stop point by status, and of its best-validation point.
STOP_MARKERS = {CONVERGED: "s", STILL_IMPROVING: ">", DIVERGED: "X"}
BEST_MARKER = "*"


def draw_learning_curves(validation: pd.DataFrame, runs: pd.DataFrame, *, columns: int = 3) -> Figure:
    """Validation accuracy against iteration, one panel per meta-trained algorithm (and
    setting), one line per seed; each run's stop point is marked by its status (square:
    converged at the plateau; triangle: budget reached still improving; cross: diverged) and
    its best-validation point (the model that is evaluated) by a star."""
    F._require(validation, ("algorithm", "seed", "iteration", "accuracy"), "validation")
    F._require(runs, ("algorithm", "setting", "seed", "status", "iterations", "best_iteration"), "convergence")
    has_setting = "setting" in validation.columns
    v = validation.assign(algorithm=validation["algorithm"].astype(str),
                          setting=validation["setting"].astype(str) if has_setting else "")
    r = runs.assign(algorithm=runs["algorithm"].astype(str), setting=runs["setting"].astype(str))
    trained = r[r["status"].astype(str) != NOT_META_TRAINED]
    settings = F.setting_order(v["setting"]) if has_setting else [""]
    panels = [(a, s) for a in F.ordered_algorithms(trained["algorithm"]) for s in settings
              if ((trained["algorithm"] == a) & (trained["setting"] == s)).any()]
    if not panels:
        return F.placeholder("No configured algorithm is meta-trained: there is no learning curve.",
                             title="Learning curves")
    ncols = min(columns, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 1.75 * nrows + 0.5), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, (algorithm, setting) in zip(axes.flat, panels):
            color = algorithm_color(algorithm)
            seeds = trained[(trained["algorithm"] == algorithm) & (trained["setting"] == setting)]
            for _, run in seeds.sort_values("seed").iterrows():
                curve = v[(v["algorithm"] == algorithm) & (v["setting"] == setting) & (v["seed"] == run["seed"])]
                curve = curve.sort_values("iteration")
                if curve.empty:
                    continue
                x, y = curve["iteration"].to_numpy(), curve["accuracy"].to_numpy() * 100
                ax.plot(x, y, color=color, lw=1.0, alpha=0.85)
                ax.plot(x[-1:], y[-1:], ls="", marker=STOP_MARKERS.get(str(run["status"]), "o"), ms=4.5,
                        mfc="white", mec="#222222", mew=0.9)
                best = curve[curve["iteration"] == run["best_iteration"]]
                if len(best):
                    ax.plot(best["iteration"], best["accuracy"] * 100, ls="", marker=BEST_MARKER, ms=7,
                            color=color, mec="#222222", mew=0.5)
            title = F.algorithm_label(algorithm) + (f", {F.setting_label(setting)}" if len(settings) > 1 else "")
            ax.set_title(title)
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        for ax in axes[-1]:
            ax.set_xlabel("Meta-training iteration")
        for ax in axes[:, 0]:
            ax.set_ylabel("Validation accuracy")
        legend = [Line2D([], [], ls="", marker=STOP_MARKERS[CONVERGED], mfc="white", mec="#222222",
                         label="stop: converged (plateau)"),
                  Line2D([], [], ls="", marker=STOP_MARKERS[STILL_IMPROVING], mfc="white", mec="#222222",
                         label="stop: budget reached, still improving"),
                  Line2D([], [], ls="", marker=STOP_MARKERS[DIVERGED], mfc="white", mec="#222222",
                         label="stop: diverged"),
                  Line2D([], [], ls="", marker=BEST_MARKER, color="#888888", mec="#222222", ms=8,
                         label="best validation (the evaluated model)")]
        fig.legend(handles=legend, loc="outside lower center", ncol=2)
    return fig


def convergence_tables(runs: pd.DataFrame) -> dict[str, Markup]:
    """HTML of ``convergence_summary`` (per algorithm and setting: seeds converged, median
    iterations to the stop, median wall time) and ``convergence_runs`` (every run)."""
    labels = {"algorithm": {a: F.algorithm_label(a) for a in runs["algorithm"].astype(str)},
              "setting": {s: F.setting_label(s) for s in runs["setting"].astype(str)}}
    order = {a: i for i, a in enumerate(F.ordered_algorithms(runs["algorithm"]))}
    runs = runs.assign(algorithm=runs["algorithm"].astype(str), setting=runs["setting"].astype(str))
    runs = runs.sort_values(["algorithm", "setting", "seed"], key=lambda c: c.map(order) if c.name == "algorithm"
                            else c, kind="stable")
    summary = convergence_summary(runs)
    summary = summary.assign(converged=[f"{c} of {n - m}" if n > m else MISSING_TRAINING
                                        for c, n, m in zip(summary["converged"], summary["runs"],
                                                           summary["not_meta_trained"])])
    shown = summary[["algorithm", "setting", "runs", "converged", "still_improving", "diverged",
                     "iterations_median", "best_iteration_median", "wall_seconds_median", "budget"]]
    per_run = runs[["algorithm", "setting", "seed", "status", "iterations", "best_iteration",
                    "best_validation_accuracy", "last_window_slope", "wall_seconds"]]
    per_run = per_run.assign(status=[s + (f" {MARK}" if s == STILL_IMPROVING else "") for s in per_run["status"]],
                             last_window_slope=per_run["last_window_slope"] * 100)
    return {
        "convergence_summary": to_html(format_table(
            shown, int_cols=["runs", "still_improving", "diverged", "budget"],
            float_cols=["iterations_median", "best_iteration_median", "wall_seconds_median"], float_digits=0,
            labels=labels,
            rename={"algorithm": "Algorithm", "setting": "Setting", "runs": "Runs", "converged": "Converged",
                    "still_improving": "Budget reached, still improving", "diverged": "Diverged",
                    "iterations_median": "Iterations to stop (median)",
                    "best_iteration_median": "Best iteration (median)", "wall_seconds_median": "Wall time (s, median)",
                    "budget": "Budget"})),
        "convergence_runs": to_html(format_table(
            per_run, int_cols=["seed", "iterations", "best_iteration"], percent_cols=["best_validation_accuracy"],
            float_cols=["last_window_slope", "wall_seconds"], float_digits=1, percent_digits=1, labels=labels,
            rename={"algorithm": "Algorithm", "setting": "Setting", "seed": "Seed", "status": "Status",
                    "iterations": "Iterations", "best_iteration": "Best iteration",
                    "best_validation_accuracy": "Best validation accuracy",
                    "last_window_slope": "Last-window slope (pp per 1,000 it.)", "wall_seconds": "Wall time (s)"})),
    }


#: The "Converged" cell of an algorithm that is not meta-trained (nothing to converge).
MISSING_TRAINING = "not meta-trained"


def marked_meta_test_table(meta_test_table: pd.DataFrame, marked: Collection[tuple[str, str]],
                           published: dict | None = None) -> Markup:
    """The thesis-style meta-test table with :data:`MARK` on every cell that rests on a run
    that reached its budget still improving (``marked``: (algorithm, setting) pairs), and the
    ``published`` accuracies beside the measured ones (see :func:`meta_test_table_html`)."""
    return meta_test_table_html(meta_test_table, marked=marked, mark=MARK, published=published)


def convergence_context(runs: pd.DataFrame, meta_test_table: pd.DataFrame, plateau: dict | None,
                        budget: int, published: dict | None = None) -> tuple[dict[str, Markup], dict]:
    """The report's convergence tables (the marked ``meta_test_table`` among them) and the
    template's ``convergence`` entry: the plateau rule in words, the budget, how many runs
    converged, reached the budget still improving or diverged, and the mark. ``published``:
    the published accuracies of the run's dataset, shown beside the measured ones."""
    runs = runs.assign(status=runs["status"].astype(str))
    trained = runs[runs["status"] != NOT_META_TRAINED]
    marked = unconverged(runs)
    tables = {**convergence_tables(runs), "meta_test_table": marked_meta_test_table(meta_test_table, marked, published)}
    context = {"rule": PlateauRule.from_config(plateau).describe(), "budget": budget, "runs": len(trained),
               "converged": int((trained["status"] == CONVERGED).sum()),
               "still_improving": int((trained["status"] == STILL_IMPROVING).sum()),
               "diverged": int((trained["status"] == DIVERGED).sum()),
               "not_meta_trained": int((runs["status"] == NOT_META_TRAINED).sum()),
               "mark": MARK, "marked": sorted(F.algorithm_label(a) for a in {a for a, _ in marked})}
    return tables, context
