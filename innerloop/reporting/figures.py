"""Figures for the report (paper Figs. 5-7, thesis Fig. 3.4, the meta-test accuracies).

``draw_<key>`` draws the figure the workflow writes as ``results/figures/<key>.png``
(rule ``figure_<key>``, script ``workflow_scripts/figure_<key>.py``; the cross-domain
probe is :func:`draw_feature_probe` of other tables). Every function takes the
workflow's tidy pandas frames (columns documented on each function), returns a
:class:`matplotlib.figure.Figure` and touches no global matplotlib state: figures
are built with ``Figure()`` directly (no pyplot, no backend switch) inside a local
``rc_context`` of :data:`~innerloop.reporting.style.RC_PARAMS`. :func:`save_figure`
writes PNG + SVG atomically.

Accuracies arrive as fractions in [0, 1] and are shown as percentages. Figures
that compare many algorithms put one algorithm (and setting) per row, so that up
to the study's 18 algorithms stay readable; rows follow
:func:`innerloop.stats.order.algorithm_order` (transfer baselines, then
meta-learners, each in ``DISPLAY_NAMES`` order).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from innerloop.catalog import DISPLAY_NAMES
from innerloop.io import atomic_path
from innerloop.stats.order import algorithm_group, algorithm_rank, parse_setting, setting_order

from .style import (
    CONFIG_NAMES,
    LINESTYLES,
    PNG_DPI,
    RC_PARAMS,
    TEXT_WIDTH,
    algorithm_color,
    algorithm_marker,
    canonical_name,
    legend_columns,
    lighten,
    note,
)

__all__ = [
    "ALGORITHM_LABELS",
    "LAYER_ORDER",
    "PHASE_LABELS",
    "CHANGE_LABELS",
    "algorithm_label",
    "ordered_algorithms",
    "setting_label",
    "draw_training_curves",
    "draw_lr_histograms",
    "draw_lr_trajectories",
    "draw_feature_probe",
    "draw_cross_domain_probe",
    "draw_meta_test_accuracy",
    "draw_running_time",
    "placeholder",
    "save_figure",
]

# --------------------------------------------------------------------------
# Names shared by every figure and table (their colours and markers: .style)
# --------------------------------------------------------------------------

#: Display names, keyed by the canonical algorithm key (:func:`~.style.canonical_name`).
ALGORITHM_LABELS: dict[str, str] = {canonical_name(k): v for k, v in DISPLAY_NAMES.items()}

#: Learning-rate layers in network order; unknown layers follow, sorted.
LAYER_ORDER: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "logits")

PHASE_ORDER: tuple[str, ...] = ("pre_adaptation", "on_task", "off_task")
PHASE_LABELS: dict[str, str] = {
    "pre_adaptation": "Pre-adaptation",
    "on_task": "On-task",
    "off_task": "Off-task",
}
PHASE_STYLE: dict[str, tuple[str, str]] = {  # colour, marker
    "pre_adaptation": ("#8a8a8a", "o"), "on_task": ("#2b6cb0", "s"), "off_task": ("#dd6b20", "^"),
}
CHANGE_ORDER: tuple[str, ...] = ("on_task_change", "off_task_change", "off_minus_on")
CHANGE_LABELS: dict[str, str] = {
    "on_task_change": "On-task − pre",
    "off_task_change": "Off-task − pre",
    "off_minus_on": "Off-task − on-task",
}
CHANGE_STYLE: dict[str, tuple[str, str]] = {
    "on_task_change": ("#2b6cb0", "s"), "off_task_change": ("#dd6b20", "^"), "off_minus_on": ("#222222", "D"),
}

_MAX_LINE_POINTS = 1500
_ROW = 0.3  # inches per algorithm row


def algorithm_label(name: object) -> str:
    """Display name: ``"metasgd"`` -> ``"Meta-SGD"``; unknown names unchanged."""
    return ALGORITHM_LABELS.get(canonical_name(name), str(name))


def _rank(name: object) -> tuple:
    return algorithm_rank(CONFIG_NAMES.get(canonical_name(name), str(name)))


def ordered_algorithms(*columns: Iterable[object]) -> list[str]:
    """Distinct algorithm names from the given columns, in table order: transfer
    baselines, then meta-learners, each in ``DISPLAY_NAMES`` order; unknown names last."""
    names = {str(a) for col in columns for a in col}
    return sorted(names, key=_rank)


def _ordered(values: Iterable[object], order: Sequence[str]) -> list[str]:
    vals = {str(v) for v in values}
    return [v for v in order if v in vals] + sorted(vals - set(order))


def setting_label(setting: object) -> str:
    """``"5w1s"`` -> ``"5-way 1-shot"``, ``"glyphs_to_digits_5w1s"`` -> ``"glyphs → digits, 5-way
    1-shot"``; other values unchanged."""
    parsed = parse_setting(setting)
    if parsed is None:
        return str(setting)
    label = f"{parsed['ways']}-way {parsed['shots']}-shot"
    return f"{parsed['train']} → {parsed['test']}, {label}" if parsed["train"] else label


Series = tuple[str, "str | None"]  # (algorithm, setting or None)


def _series(*frames: pd.DataFrame) -> list[Series]:
    """The (algorithm, setting) pairs present; setting is ``None`` unless a frame
    has a ``setting`` column with more than one value (so a single-setting study
    is labelled by algorithm alone)."""
    with_setting = [f for f in frames if "setting" in f.columns]
    settings = setting_order(v for f in with_setting for v in f["setting"])
    algorithms = ordered_algorithms(*(f["algorithm"] for f in frames))
    if len(settings) <= 1:
        return [(a, None) for a in algorithms]
    present = {(str(a), str(st)) for f in with_setting for a, st in zip(f["algorithm"], f["setting"])}
    return [(a, st) for a in algorithms for st in settings if (a, st) in present]


def _settings_of(df: pd.DataFrame) -> list:
    return setting_order(df["setting"]) if "setting" in df.columns else [None]


def _select(df: pd.DataFrame, series: Series) -> pd.DataFrame:
    alg, setting = series
    mask = df["algorithm"].astype(str) == alg
    if setting is not None and "setting" in df.columns:
        mask &= df["setting"].astype(str) == setting
    return df[mask]


def _series_label(series: Series, sep: str = " ") -> str:
    alg, setting = series
    return algorithm_label(alg) + (f"{sep}({setting_label(setting)})" if setting is not None else "")


def _linestyle(series: Series, all_series: Sequence[Series]) -> str:
    settings = setting_order(st for _a, st in all_series if st is not None)
    return LINESTYLES[settings.index(series[1]) % len(LINESTYLES)] if series[1] in settings else "-"


def _require(df: pd.DataFrame, columns: Sequence[str], name: str, *, allow_empty: bool = False) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; has {list(df.columns)}")
    if df.empty and not allow_empty:
        raise ValueError(f"{name} is empty")


_iteration_formatter = FuncFormatter(
    lambda x, _pos: f"{x / 1000:g}k" if abs(x) >= 1000 else f"{x:g}"
)


def _rows_axis(ax, series: Sequence[Series], *, labels: bool = True) -> None:
    """One row per series, top to bottom, with a dotted rule between the transfer
    baselines and the meta-learners (``labels=False``: a panel sharing the rows of one
    that has the labels)."""
    n = len(series)
    if labels:
        ax.set_yticks(range(n), [_series_label(s) for s in series])
    else:
        ax.tick_params(axis="y", labelleft=False, length=0)
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    groups = [algorithm_group(CONFIG_NAMES.get(canonical_name(a), a)) for a, _s in series]
    for i in range(1, n):
        if groups[i] != groups[i - 1]:
            ax.axhline(i - 0.5, color="#999999", lw=0.7, ls=":", zorder=1)


def _row_height(n: int, extra: float = 1.0, minimum: float = 2.4) -> float:
    return max(minimum, extra + _ROW * n)


def _finite_or(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, fallback)


def placeholder(text: str, *, title: str | None = None) -> Figure:
    """A small figure that only says ``text`` (a figure the configuration leaves empty,
    so that the workflow's outputs, and its rule graph, do not depend on the config)."""
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 1.3), layout="constrained")
        ax = fig.subplots(1, 1)
        ax.set_axis_off()
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 90)), ha="center", va="center", fontsize=10,
                color="#555555", transform=ax.transAxes)
        if title:
            ax.set_title(title)
    return fig


# --------------------------------------------------------------------------
# Fig. 5: training curves
# --------------------------------------------------------------------------

def draw_training_curves(
    train_log: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    smooth_window: int | None = None,
) -> Figure:
    """Paper Fig. 5: validation accuracy and smoothed training query accuracy, one row
    of two panels per setting.

    ``validation``: ``algorithm, seed, iteration, accuracy, ci95``;
    ``train_log``: ``algorithm, seed, iteration, loss, accuracy`` (further columns,
    such as Alpha-MAML's ``alpha`` and ``beta``, are ignored; it may be empty when no
    configured algorithm is meta-trained); both with an optional ``setting``.
    Lines are the mean over seeds; the band is min..max over seeds (or
    ± the run's 95% CI over validation tasks when there is one seed).
    An algorithm that is not meta-trained (train from scratch: an empty training log
    and one validation row at iteration 0) is a dotted horizontal line at its
    validation accuracy. ``smooth_window`` is the rolling-mean window in logged points
    (default: about 1/50 of a run's points).
    """
    _require(train_log, ("algorithm", "seed", "iteration", "loss", "accuracy"), "train_log", allow_empty=True)
    _require(validation, ("algorithm", "seed", "iteration", "accuracy", "ci95"), "validation")
    settings = _settings_of(validation) if "setting" in validation.columns and \
        validation["setting"].nunique() > 1 else [None]
    algorithms = ordered_algorithms(validation["algorithm"], train_log["algorithm"])
    seed_counts = validation.groupby(["algorithm", *(["setting"] if settings[0] else [])])["seed"].nunique()
    uniform = seed_counts.nunique() == 1
    most = int(seed_counts.max())

    with mpl.rc_context(RC_PARAMS):
        labels: dict[str, str] = {}
        for alg in algorithms:
            v = validation[validation["algorithm"].astype(str) == alg]
            labels[alg] = algorithm_label(alg) + (" (not meta-trained)" if len(v) and v["iteration"].max() == 0
                                                  else "")
            if not uniform and not settings[0]:
                n = int(seed_counts.get(alg, 0))
                labels[alg] += f", {n} seed{'s' if n != 1 else ''}"
        ncol = legend_columns(labels.values())
        legend_rows = math.ceil(len(algorithms) / ncol)
        fig = Figure(figsize=(TEXT_WIDTH, 2.75 * len(settings) + 0.2 + 0.17 * legend_rows), layout="constrained")
        axes = fig.subplots(len(settings), 2, squeeze=False)
        handles: dict[str, object] = {}
        for (ax_val, ax_tr), setting in zip(axes, settings):
            for alg in algorithms:
                series = (alg, setting)
                color = algorithm_color(alg)
                v = _select(validation, series)
                if not v.empty and v["iteration"].max() == 0:  # not meta-trained: one point at iteration 0
                    handles[alg] = ax_val.axhline(v["accuracy"].mean() * 100, color=color, lw=1.4, ls=":",
                                                  label=labels[alg])
                elif not v.empty:
                    acc = v.pivot_table(index="iteration", columns="seed", values="accuracy", aggfunc="mean")
                    mean = acc.mean(axis=1) * 100
                    if acc.shape[1] > 1:
                        lo, hi = acc.min(axis=1) * 100, acc.max(axis=1) * 100
                    else:
                        ci = v.pivot_table(index="iteration", columns="seed", values="ci95", aggfunc="mean")
                        ci = ci.iloc[:, 0].reindex(acc.index) * 100
                        lo, hi = mean - ci, mean + ci
                    x = acc.index.to_numpy()
                    ax_val.fill_between(x, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.18, lw=0)
                    handles[alg], = ax_val.plot(x, mean.to_numpy(), color=color, lw=1.6,
                                                marker="o" if len(x) <= 25 else None, ms=3, label=labels[alg])

                t = _select(train_log, series)
                if not t.empty:
                    per_seed = {}
                    for seed, g in t.groupby("seed", sort=True):
                        s = g.groupby("iteration")["accuracy"].mean().sort_index()
                        w = smooth_window or max(1, round(len(s) / 50))
                        per_seed[seed] = s.rolling(w, min_periods=max(1, w // 2)).mean()
                    acc = pd.DataFrame(per_seed).sort_index()
                    step = max(1, len(acc) // _MAX_LINE_POINTS)  # thin long logs: lighter SVG, same picture
                    acc = acc.iloc[::step]
                    x = acc.index.to_numpy()
                    mean = acc.mean(axis=1).to_numpy() * 100
                    if acc.shape[1] > 1:
                        ax_tr.fill_between(x, acc.min(axis=1).to_numpy() * 100, acc.max(axis=1).to_numpy() * 100,
                                           color=color, alpha=0.18, lw=0)
                    line, = ax_tr.plot(x, mean, color=color, lw=1.3, label=labels[alg])
                    handles.setdefault(alg, line)

            if setting:
                ax_val.set_title(f"Validation accuracy, {setting_label(setting)}")
                ax_tr.set_title(f"Training query accuracy (smoothed), {setting_label(setting)}")
            else:
                ax_val.set_title("Validation accuracy (fixed validation tasks)")
                ax_tr.set_title("Training query accuracy (smoothed)")
            for ax in (ax_val, ax_tr):
                ax.set_xlabel("Meta-training iteration")
                ax.xaxis.set_major_formatter(_iteration_formatter)
                ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
            ax_val.set_ylabel("Accuracy")
            band = ("band: ±95% CI over validation tasks" if most <= 1 else
                    f"mean over {most if uniform else 'the'} seeds; band: min–max over seeds")
            note(ax_val, band, loc="upper left")
            note(ax_tr, "rolling mean per seed; band: min–max over seeds" if len(train_log)
                 else "no configured algorithm is meta-trained", loc="upper left")
        fig.legend(handles=[handles[a] for a in algorithms if a in handles], loc="outside lower center", ncol=ncol)
    return fig


# --------------------------------------------------------------------------
# Alpha-MAML: learning-rate trajectories
# --------------------------------------------------------------------------

def draw_lr_trajectories(
    train_log: pd.DataFrame,
    *,
    algorithm: str = "alpha_maml",
    columns: Sequence[tuple[str, str]] = (("alpha", "Inner learning rate α"), ("beta", "Outer learning rate β")),
) -> Figure:
    """The Alpha-MAML poster's learning-rate trajectories: ``alpha`` and ``beta`` per
    meta-training iteration, one line per seed (and setting).

    ``train_log``: ``algorithm, seed, iteration`` and the logged ``columns``; only the
    rows of ``algorithm`` are drawn.
    """
    names = [c for c, _ in columns]
    _require(train_log, ("algorithm", "seed", "iteration", *names), "train_log")
    d = train_log[train_log["algorithm"].astype(str) == algorithm]
    if d.empty or d[names].isna().all().all():
        raise ValueError(f"train_log has no logged {names} of {algorithm!r}")
    all_series = _series(d)
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 2.8), layout="constrained")
        axes = fig.subplots(1, len(columns), squeeze=False).ravel()
        base = algorithm_color(algorithm)
        for series in all_series:
            s = _select(d, series)
            seeds = sorted(s["seed"].unique())
            for k, seed in enumerate(seeds):
                g = s[s["seed"] == seed].sort_values("iteration")
                g = g.iloc[:: max(1, len(g) // _MAX_LINE_POINTS)]
                shade = lighten(base, 0.55 * k / max(len(seeds) - 1, 1))
                label = f"seed {seed}" + (f" ({setting_label(series[1])})" if series[1] is not None else "")
                for ax, col in zip(axes, names):
                    ax.plot(g["iteration"], g[col], color=shade, lw=1.3, ls=_linestyle(series, all_series),
                            label=label)
        for ax, (_col, title) in zip(axes, columns):
            ax.set_title(title)
            ax.set_xlabel("Meta-training iteration")
            ax.xaxis.set_major_formatter(_iteration_formatter)
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4), useOffset=False)
        axes[0].set_ylabel(algorithm_label(algorithm))
        axes[-1].legend(loc="best")
    return fig


# --------------------------------------------------------------------------
# Fig. 6: learned learning-rate histograms
# --------------------------------------------------------------------------

NO_RATES = "No configured algorithm learns per-element inner-loop learning rates."


def draw_lr_histograms(
    lr_values: pd.DataFrame,
    *,
    bins: int = 50,
    clip_quantile: float = 0.001,
) -> Figure:
    """Paper Fig. 6: one histogram per layer of every learned inner-loop rate, one row
    per rate-learning algorithm (and setting).

    ``lr_values``: ``algorithm, seed, layer, value``, pooled over seeds; with no rows
    the figure only says that no configured algorithm learns rates. Each panel's
    x-range covers the central ``1 - 2*clip_quantile`` of its values (and zero); how
    many values fall outside is noted in the panel. Black line at zero, dashed line at
    the mean; the fraction of negative rates is in each panel's title.
    """
    _require(lr_values, ("algorithm", "seed", "layer", "value"), "lr_values", allow_empty=True)
    if lr_values.empty:
        return placeholder(NO_RATES, title="Learned inner-loop learning rates")
    layers = _ordered(lr_values["layer"], LAYER_ORDER)
    rows = _series(lr_values)

    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(TEXT_WIDTH, 1.85 * len(rows) + 0.45), layout="constrained")
        axes = fig.subplots(len(rows), len(layers), squeeze=False)
        for r, series in enumerate(rows):
            d = _select(lr_values, series)
            color = algorithm_color(series[0])
            for c, layer in enumerate(layers):
                ax = axes[r, c]
                vals = d.loc[d["layer"].astype(str) == layer, "value"].to_numpy(dtype=float)
                if vals.size == 0:
                    ax.set_axis_off()
                    continue
                lo, hi = np.quantile(vals, [clip_quantile, 1 - clip_quantile])
                lo, hi = min(lo, 0.0), max(hi, 0.0)
                if hi - lo <= 0:
                    lo, hi = lo - 0.5, hi + 0.5
                outside = int(np.sum((vals < lo) | (vals > hi)))
                frac_neg, mean = float(np.mean(vals < 0)), float(np.mean(vals))
                ax.hist(vals, bins=np.linspace(lo, hi, bins + 1), color=color, alpha=0.8, histtype="stepfilled",
                        lw=0)
                ax.axvline(0.0, color="black", lw=0.9)
                ax.axvline(mean, color="#333333", ls="--", lw=1.1)
                ax.set_xlim(lo, hi)
                ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # headroom for the note
                ax.set_title(f"{layer}: {frac_neg:.1%} < 0", fontsize=8.5)
                text = f"mean {mean:+.3g}" + (f"\n{outside:,} outside" if outside else "")
                note(ax, text, loc="upper left" if mean > (lo + hi) / 2 else "upper right")
                ax.locator_params(axis="x", nbins=3)
                ax.ticklabel_format(axis="both", style="sci", scilimits=(-3, 4))
                ax.tick_params(labelsize=7)
                if c == 0:
                    ax.set_ylabel(f"{_series_label(series, chr(10))}\ncount", fontsize=8.5, color=color)
        fig.supxlabel("Learned inner-loop learning rate (pooled over seeds; black: zero, dashed: mean)",
                      fontsize=8.5)
    return fig


# --------------------------------------------------------------------------
# Fig. 7: feature probe
# --------------------------------------------------------------------------

def _dot_rows(ax, frame: pd.DataFrame, rows: Sequence[Series], key: str, order: Sequence[str],
              styles: dict[str, tuple[str, str]], labels: dict[str, str], scale: float = 100.0) -> list[float]:
    """For each row (series) and each ``key`` value, a marker at ``mean`` with its 95% CI
    as a horizontal error bar; returns every drawn bound (for zooming)."""
    present = _ordered(frame[key], order)
    offsets = (np.arange(len(present)) - (len(present) - 1) / 2) * (0.6 / max(len(present), 1))
    bounds: list[float] = []
    for j, value in enumerate(present):
        color, marker = styles.get(value, ("#444444", "o"))
        ys, ms, los, his = [], [], [], []
        for i, series in enumerate(rows):
            d = _select(frame, series)
            d = d[d[key].astype(str) == value]
            if d.empty:
                continue
            row = d.iloc[0]
            ys.append(i + offsets[j])
            ms.append(row["mean"] * scale)
            los.append(row["ci95_low"] * scale)
            his.append(row["ci95_high"] * scale)
        ms, los, his = np.array(ms), np.array(los), np.array(his)
        los, his = _finite_or(los, ms), _finite_or(his, ms)  # no interval (n < 2): the point alone
        ax.errorbar(ms, ys, xerr=[ms - los, his - ms], fmt=marker, ms=4.5, capsize=2, lw=1.1, color=color,
                    label=labels.get(value, value), zorder=3)
        bounds += [*los, *his]
    return bounds


def draw_feature_probe(
    probe_summary: pd.DataFrame,
    probe_changes: pd.DataFrame | None = None,
    *,
    change_label: str = "Change in probe accuracy (pp)",
) -> Figure:
    """Paper Fig. 7: prototype-probe accuracy pre-adaptation, on-task, off-task.

    ``probe_summary``: ``algorithm, phase, mean, ci95_low, ci95_high, n``
    (phase in pre_adaptation/on_task/off_task; optional ``setting``). One row per
    algorithm (and setting), the three phases as markers with 95% CI error bars; the
    x-axis is zoomed to the data (it does not start at zero). With ``probe_changes``
    (``algorithm, change, mean, ci95_low, ci95_high, n``) a second panel, sharing the
    rows, shows the changes (×100, i.e. percentage points for accuracy differences)
    with CIs and a zero line.
    """
    _require(probe_summary, ("algorithm", "phase", "mean", "ci95_low", "ci95_high", "n"), "probe_summary")
    if probe_changes is not None:
        _require(probe_changes, ("algorithm", "change", "mean", "ci95_low", "ci95_high", "n"), "probe_changes")
    rows = _series(probe_summary) if probe_changes is None else _series(probe_summary, probe_changes)

    with mpl.rc_context(RC_PARAMS):
        height = _row_height(len(rows), extra=1.25)
        if probe_changes is not None:
            fig = Figure(figsize=(TEXT_WIDTH, height), layout="constrained")
            ax, ax_ch = fig.subplots(1, 2, sharey=True)
        else:
            fig = Figure(figsize=(TEXT_WIDTH * 0.62, height), layout="constrained")
            ax, ax_ch = fig.subplots(1, 1), None

        bounds = _dot_rows(ax, probe_summary, rows, "phase", PHASE_ORDER, PHASE_STYLE, PHASE_LABELS)
        lo, hi = min(bounds), max(bounds)
        pad = max((hi - lo) * 0.08, 0.05)
        ax.set_xlim(lo - pad, hi + pad)
        _rows_axis(ax, rows)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=None))
        ax.set_xlabel("Probe accuracy (truncated axis)")
        handles = ax.get_legend_handles_labels()[0]

        if ax_ch is not None:
            _dot_rows(ax_ch, probe_changes, rows, "change", CHANGE_ORDER, CHANGE_STYLE, CHANGE_LABELS)
            ax_ch.axvline(0.0, color="black", lw=0.9, zorder=1)
            _rows_axis(ax_ch, rows, labels=False)
            ax_ch.set_xlabel(change_label)
            changes = ax_ch.get_legend_handles_labels()[0]
            # Column-major legend: first row the phases, second row the changes.
            handles = [h for pair in zip(handles, changes) for h in pair] if len(handles) == len(changes) \
                else handles + changes
        fig.legend(handles=handles, loc="outside upper center", ncol=3 if ax_ch is not None else len(handles),
                   handletextpad=0.3, columnspacing=1.2)
    return fig


# --------------------------------------------------------------------------
# Meta-test accuracy per run
# --------------------------------------------------------------------------


def draw_cross_domain_probe(probe_summary: pd.DataFrame, probe_changes: pd.DataFrame | None = None) -> Figure:
    """:func:`draw_feature_probe` of the runs probed on the cross-domain test sets (one row per
    algorithm and direction, ``setting`` naming both)."""
    return draw_feature_probe(probe_summary, probe_changes)


def draw_meta_test_accuracy(meta_test: pd.DataFrame) -> Figure:
    """Per-run meta-test accuracy with its 95% CI over tasks: one panel per setting,
    one row per algorithm, one point per seed; a dark tick marks the median over seeds.

    ``meta_test``: ``algorithm, seed, accuracy, ci95_low, ci95_high, n_tasks``
    (one row per run; optional ``setting``).
    """
    _require(meta_test, ("algorithm", "seed", "accuracy", "ci95_low", "ci95_high", "n_tasks"), "meta_test")
    settings = _settings_of(meta_test)
    algorithms = [(a, None) for a in ordered_algorithms(meta_test["algorithm"])]
    with mpl.rc_context(RC_PARAMS):
        width = min(TEXT_WIDTH, 3.2 + 2.4 * len(settings))
        fig = Figure(figsize=(width, _row_height(len(algorithms), extra=0.9)), layout="constrained")
        axes = fig.subplots(1, len(settings), sharey=True, squeeze=False).ravel()
        for ax, setting in zip(axes, settings):
            d_set = meta_test if setting is None else meta_test[meta_test["setting"].astype(str) == setting]
            for i, (alg, _s) in enumerate(algorithms):
                d = d_set[d_set["algorithm"].astype(str) == alg].sort_values("seed")
                if d.empty:
                    continue
                n = len(d)
                ys = i + (np.arange(n) - (n - 1) / 2) * (0.5 / max(n - 1, 1)) if n > 1 else np.array([float(i)])
                acc = d["accuracy"].to_numpy(float) * 100
                lo = _finite_or(d["ci95_low"].to_numpy(float) * 100, acc)
                hi = _finite_or(d["ci95_high"].to_numpy(float) * 100, acc)
                ax.errorbar(acc, ys, xerr=[acc - lo, hi - acc], fmt=algorithm_marker(alg), ms=4, capsize=2,
                            lw=1.0, color=algorithm_color(alg), zorder=3)
                ax.vlines(float(np.median(acc)), i - 0.38, i + 0.38, color="#333333", lw=2, zorder=2,
                          label="median over seeds" if i == 0 else None)
            _rows_axis(ax, algorithms, labels=ax is axes[0])
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=None))
            ax.set_xlabel("Meta-test accuracy")
            if setting is not None:
                ax.set_title(setting_label(setting))
            ax.margins(x=0.08)
        fig.suptitle("Per-run meta-test accuracy, 95% CI over tasks; dark tick: median over seeds", fontsize=9)
    return fig


# --------------------------------------------------------------------------
# Thesis Fig. 3.4: running time
# --------------------------------------------------------------------------

def draw_running_time(times: pd.DataFrame, meta_test: pd.DataFrame | None = None) -> Figure:
    """Huisman Fig. 3.4: training time per algorithm, and meta-test accuracy against it.

    ``times``: one row per run, ``algorithm, setting, seed, train_s``; ``meta_test``:
    ``algorithm, setting, seed, accuracy``. Left: training seconds per algorithm (and
    setting), one point per seed, a dark tick at the median. Right, one panel per
    setting: per-seed (accuracy, training seconds) as small points and the medians of
    both as a large marker per algorithm. The time axis is logarithmic when the times
    span more than a factor of 30.
    """
    _require(times, ("algorithm", "setting", "seed", "train_s"), "times")
    settings = _settings_of(times)
    t = times["train_s"].to_numpy(float)
    t = t[np.isfinite(t) & (t > 0)]
    log = t.size > 0 and t.max() / t.min() > 30
    merged = None
    if meta_test is not None and len(meta_test):
        _require(meta_test, ("algorithm", "setting", "seed", "accuracy"), "meta_test")
        merged = times.merge(meta_test[["algorithm", "setting", "seed", "accuracy"]],
                             on=["algorithm", "setting", "seed"], how="inner")
    algorithms = ordered_algorithms(times["algorithm"])
    rows = [(a, None) for a in algorithms]
    fills = ("full", "none", "left", "bottom")
    with mpl.rc_context(RC_PARAMS):
        n_scatter = len(settings) if merged is not None else 0
        ncol = legend_columns(algorithm_label(a) for a in algorithms)
        legend_rows = math.ceil(len(algorithms) / ncol)
        fig = Figure(figsize=(TEXT_WIDTH, _row_height(len(rows), extra=1.1, minimum=2.8) + 0.17 * legend_rows),
                     layout="constrained")
        axes = fig.subplots(1, 1 + n_scatter, squeeze=False, width_ratios=[1.25] + [1] * n_scatter).ravel()
        ax = axes[0]
        # Settings of one algorithm share its row: offset, and filled / hollow / half markers.
        offsets = (np.arange(len(settings)) - (len(settings) - 1) / 2) * (0.5 / len(settings))
        for i, (alg, _none) in enumerate(rows):
            for k, setting in enumerate(settings):
                d = _select(times, (alg, setting)).sort_values("seed")
                x = d["train_s"].to_numpy(float)
                if not np.isfinite(x).any():
                    continue
                n = len(x)
                spread = 0.4 / len(settings)
                ys = i + offsets[k] + ((np.arange(n) - (n - 1) / 2) * (spread / max(n - 1, 1)) if n > 1 else 0.0)
                ax.plot(x, np.broadcast_to(ys, x.shape), ls="", marker=algorithm_marker(alg), ms=4.5,
                        color=algorithm_color(alg), fillstyle=fills[k % len(fills)], mew=0.9, zorder=3)
                half = 0.45 / len(settings)
                ax.vlines(float(np.nanmedian(x)), i + offsets[k] - half, i + offsets[k] + half, color="#333333",
                          lw=1.8, zorder=2)
        _rows_axis(ax, rows)
        ax.set_xlabel("Training time (s); tick: median")
        ax.set_title("Meta-training wall-clock time")
        if log:
            ax.set_xscale("log")
        if len(settings) > 1:
            ax.legend(handles=[Line2D([], [], ls="", marker="o", color="#555555", fillstyle=fills[k % len(fills)],
                                      label=setting_label(st)) for k, st in enumerate(settings)],
                      loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=len(settings), handletextpad=0.2)

        handles = []
        for ax_s, setting in zip(axes[1:], settings):
            d_set = merged if setting is None else merged[merged["setting"].astype(str) == setting]
            for alg in algorithms:
                d = d_set[d_set["algorithm"].astype(str) == alg]
                if d.empty:
                    continue
                color, marker = algorithm_color(alg), algorithm_marker(alg)
                ax_s.scatter(d["train_s"], d["accuracy"] * 100, s=12, marker=marker, color=color, alpha=0.45, lw=0)
                ax_s.scatter([d["train_s"].median()], [d["accuracy"].median() * 100], s=48, marker=marker,
                             color=color, edgecolor="black", lw=0.6, zorder=4)
            ax_s.set_xlabel("Training time (s)")
            ax_s.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=None))
            ax_s.set_title(setting_label(setting) if setting is not None else "Accuracy vs time")
            if log:
                ax_s.set_xscale("log")
            ax_s.margins(0.1)
        if n_scatter:
            axes[1].set_ylabel("Meta-test accuracy")
            handles = [Line2D([], [], ls="", marker=algorithm_marker(a), color=algorithm_color(a),
                              markeredgecolor="black", markeredgewidth=0.6, ms=6, label=algorithm_label(a))
                       for a in algorithms]
            fig.legend(handles=handles, loc="outside lower center", ncol=ncol)
    return fig

# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------

def save_figure(fig: Figure, stem: Path | str, *, dpi: int = PNG_DPI,
                formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` atomically, close ``fig``, return the paths.

    Each file is written under a temporary name in the target folder and moved
    into place with ``os.replace``, so a reader never sees a half-written file.
    Output is deterministic (no timestamps in the metadata).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}
    try:
        with mpl.rc_context(RC_PARAMS):
            for fmt in formats:
                target = stem.with_name(f"{stem.name}.{fmt}")
                with atomic_path(target) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata.get(fmt), facecolor="white")
                paths.append(target)
    finally:
        _close(fig)
    return paths


def _close(fig: Figure) -> None:
    """Release a figure; also unregisters it from pyplot if it was made there."""
    manager = getattr(fig.canvas, "manager", None)
    if manager is not None:  # created through pyplot
        import matplotlib.pyplot as plt

        plt.close(fig)
    fig.clear()
