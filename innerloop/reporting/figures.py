"""Figures for the report (paper Figs. 5-7 and the meta-test accuracies).

Every function takes the workflow's tidy pandas frames (columns documented on
each function), returns a :class:`matplotlib.figure.Figure` and touches no
global matplotlib state: figures are built with ``Figure()`` directly (no
pyplot, no backend switch) inside a local ``rc_context``. :func:`save_figure`
writes PNG + SVG atomically.

Accuracies arrive as fractions in [0, 1] and are shown as percentages.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from innerloop.io import atomic_path

__all__ = [
    "ALGORITHM_COLORS",
    "ALGORITHM_LABELS",
    "LAYER_ORDER",
    "PHASE_LABELS",
    "CHANGE_LABELS",
    "algorithm_color",
    "algorithm_label",
    "ordered_algorithms",
    "setting_label",
    "training_curves",
    "lr_histograms",
    "feature_probe",
    "meta_test_accuracy",
    "save_figure",
]

# --------------------------------------------------------------------------
# Names and colours shared by every figure and table
# --------------------------------------------------------------------------

#: Display names, keyed by the canonical algorithm key (lower case, no "-"/"_").
ALGORITHM_LABELS: dict[str, str] = {"maml": "MAML", "metasgd": "Meta-SGD"}

#: Fixed colours for the algorithms of the paper; others get a stable colour
#: from ``_FALLBACK_COLORS`` chosen by a hash of their name (not by the order
#: in which they appear, so a colour never changes between figures).
ALGORITHM_COLORS: dict[str, str] = {"maml": "#1f6fb4", "metasgd": "#d1495b"}
_FALLBACK_COLORS: tuple[str, ...] = (
    "#2a9d8f", "#e9a03b", "#7b5ea7", "#5c946e", "#8c564b", "#e377c2",
    "#7f7f7f", "#17becf", "#bcbd22",
)

#: Learning-rate layers in network order; unknown layers follow, sorted.
LAYER_ORDER: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "logits")

PHASE_ORDER: tuple[str, ...] = ("pre_adaptation", "on_task", "off_task")
PHASE_LABELS: dict[str, str] = {
    "pre_adaptation": "Pre-adaptation",
    "on_task": "On-task",
    "off_task": "Off-task",
}
CHANGE_ORDER: tuple[str, ...] = ("on_task_change", "off_task_change", "off_minus_on")
CHANGE_LABELS: dict[str, str] = {
    "on_task_change": "On-task − pre",
    "off_task_change": "Off-task − pre",
    "off_minus_on": "Off-task − on-task",
}

_STYLE = {
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
_MAX_LINE_POINTS = 1500


def _canonical(name: object) -> str:
    return str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def algorithm_label(name: object) -> str:
    """Display name: ``"metasgd"`` -> ``"Meta-SGD"``; unknown names unchanged."""
    return ALGORITHM_LABELS.get(_canonical(name), str(name))


def algorithm_color(name: object) -> str:
    """A colour that is the same for an algorithm in every figure."""
    key = _canonical(name)
    if key in ALGORITHM_COLORS:
        return ALGORITHM_COLORS[key]
    return _FALLBACK_COLORS[zlib.crc32(key.encode()) % len(_FALLBACK_COLORS)]


def ordered_algorithms(*columns: Iterable[object]) -> list[str]:
    """Distinct algorithm names from the given columns: paper algorithms first, then sorted."""
    names = {str(a) for col in columns for a in col}
    known = list(ALGORITHM_LABELS)
    return sorted(names, key=lambda a: (known.index(_canonical(a)) if _canonical(a) in known else len(known), a))


def _ordered(values: Iterable[object], order: Sequence[str]) -> list[str]:
    vals = {str(v) for v in values}
    return [v for v in order if v in vals] + sorted(vals - set(order))


def setting_label(setting: object) -> str:
    """``"5w1s"`` -> ``"5-way 1-shot"``; other values unchanged."""
    m = re.fullmatch(r"(\d+)w(\d+)s", str(setting).strip())
    return f"{m[1]}-way {m[2]}-shot" if m else str(setting)


Series = tuple[str, "str | None"]  # (algorithm, setting or None)
_LINESTYLES = ("-", "--", ":", "-.")


def _series(*frames: pd.DataFrame) -> list[Series]:
    """The (algorithm, setting) pairs present; setting is ``None`` unless a frame
    has a ``setting`` column with more than one value (so a single-setting study
    is labelled by algorithm alone)."""
    with_setting = [f for f in frames if "setting" in f.columns]
    settings = sorted({str(v) for f in with_setting for v in f["setting"]})
    algorithms = ordered_algorithms(*(f["algorithm"] for f in frames))
    if len(settings) <= 1:
        return [(a, None) for a in algorithms]
    present = {(str(a), str(st)) for f in with_setting for a, st in zip(f["algorithm"], f["setting"])}
    return [(a, st) for a in algorithms for st in settings if (a, st) in present]


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
    settings = sorted({st for _a, st in all_series if st is not None})
    return _LINESTYLES[settings.index(series[1]) % len(_LINESTYLES)] if series[1] in settings else "-"


def _require(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; has {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{name} is empty")


_iteration_formatter = FuncFormatter(
    lambda x, _pos: f"{x / 1000:g}k" if abs(x) >= 1000 else f"{x:g}"
)


def _note(ax, text: str, loc: str = "lower right") -> None:
    x, ha = (0.98, "right") if "right" in loc else (0.02, "left")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=7, color="#555555", zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})


# --------------------------------------------------------------------------
# Fig. 5: training curves
# --------------------------------------------------------------------------

def training_curves(
    train_log: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    smooth_window: int | None = None,
) -> Figure:
    """Paper Fig. 5: validation accuracy and smoothed training query accuracy.

    ``validation``: ``algorithm, seed, iteration, accuracy, ci95``;
    ``train_log``: ``algorithm, seed, iteration, loss, accuracy``.
    Lines are the mean over seeds; the band is min..max over seeds (or
    ± the run's 95% CI over validation tasks when there is one seed).
    ``smooth_window`` is the rolling-mean window in logged points (default:
    about 1/50 of a run's points).
    """
    _require(train_log, ("algorithm", "seed", "iteration", "loss", "accuracy"), "train_log")
    _require(validation, ("algorithm", "seed", "iteration", "accuracy", "ci95"), "validation")

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(7.6, 3.1), layout="constrained")
        ax_val, ax_tr = fig.subplots(1, 2)
        all_series = _series(validation, train_log)
        for series in all_series:
            color, label = algorithm_color(series[0]), _series_label(series)
            ls = _linestyle(series, all_series)

            v = _select(validation, series)
            if not v.empty:
                acc = v.pivot_table(index="iteration", columns="seed", values="accuracy", aggfunc="mean")
                n = acc.shape[1]
                mean = acc.mean(axis=1) * 100
                if n > 1:
                    lo, hi = acc.min(axis=1) * 100, acc.max(axis=1) * 100
                else:
                    ci = v.pivot_table(index="iteration", columns="seed", values="ci95", aggfunc="mean")
                    ci = ci.iloc[:, 0].reindex(acc.index) * 100
                    lo, hi = mean - ci, mean + ci
                x = acc.index.to_numpy()
                ax_val.fill_between(x, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.18, lw=0)
                ax_val.plot(x, mean.to_numpy(), color=color, lw=1.6, ls=ls,
                            marker="o" if len(x) <= 25 else None, ms=3,
                            label=f"{label}, {n} seed{'s' if n != 1 else ''}")

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
                ax_tr.plot(x, mean, color=color, lw=1.3, ls=ls, label=label)

        ax_val.set_title("Validation accuracy (fixed validation tasks)")
        ax_tr.set_title("Training query accuracy (smoothed)")
        for ax in (ax_val, ax_tr):
            ax.set_xlabel("Meta-training iteration")
            ax.xaxis.set_major_formatter(_iteration_formatter)
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        ax_val.set_ylabel("Accuracy")
        ax_val.legend(loc="lower right")
        n_seeds = pd.Series([_select(validation, sr)["seed"].nunique() for sr in all_series] or [0])
        _note(ax_val, "mean over seeds; band: min–max over seeds" if n_seeds.max() > 1
              else "band: ±95% CI over validation tasks", loc="upper left")
        _note(ax_tr, "rolling mean per seed; band: min–max over seeds", loc="upper left")
    return fig


# --------------------------------------------------------------------------
# Fig. 6: learned learning-rate histograms
# --------------------------------------------------------------------------

def lr_histograms(
    lr_values: pd.DataFrame,
    *,
    bins: int = 60,
    clip_quantile: float = 0.001,
) -> Figure:
    """Paper Fig. 6: one histogram per layer of every learned inner-loop rate.

    ``lr_values``: ``algorithm, seed, layer, value``, pooled over seeds. The
    x-range covers the central ``1 - 2*clip_quantile`` of the values (and
    zero); how many values fall outside is noted in the panel. Black line at
    zero, dashed line at the mean; the fraction of negative rates is in the
    title (per algorithm in the legend when there are several).
    """
    _require(lr_values, ("algorithm", "seed", "layer", "value"), "lr_values")
    layers = _ordered(lr_values["layer"], LAYER_ORDER)
    all_series = _series(lr_values)
    ncols = 3
    nrows = math.ceil(len(layers) / ncols)

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(7.6, 2.35 * nrows + 0.2), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, layer in zip(axes, layers):
            d = lr_values[lr_values["layer"].astype(str) == layer]
            vals_all = d["value"].to_numpy(dtype=float)
            lo, hi = np.quantile(vals_all, [clip_quantile, 1 - clip_quantile])
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            if hi - lo <= 0:
                lo, hi = lo - 0.5, hi + 0.5
            edges = np.linspace(lo, hi, bins + 1)
            titles = []
            outside = int(np.sum((vals_all < lo) | (vals_all > hi)))
            for series in all_series:
                vals = _select(d, series)["value"].to_numpy(dtype=float)
                if vals.size == 0:
                    continue
                color = algorithm_color(series[0])
                frac_neg = float(np.mean(vals < 0))
                mean = float(np.mean(vals))
                ax.hist(vals, bins=edges, color=color, alpha=0.55 if len(all_series) > 1 else 0.8,
                        histtype="stepfilled" if len(all_series) == 1 else "step",
                        lw=0 if len(all_series) == 1 else 1.4, ls=_linestyle(series, all_series),
                        label=f"{_series_label(series)}: {frac_neg:.0%} < 0")
                ax.axvline(mean, color=color, ls="--", lw=1.2)
                titles.append((series, frac_neg, mean))
            ax.axvline(0.0, color="black", lw=0.9)
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # headroom for the note
            if len(titles) == 1:
                _alg, frac_neg, mean = titles[0]
                ax.set_title(f"{layer}: {frac_neg:.1%} negative")
                text = f"mean {mean:+.4f}\nn = {int(vals_all.size):,}"
                if outside:
                    text += f"\n{outside:,} outside x-range"
                _note(ax, text, loc="upper left" if mean > (lo + hi) / 2 else "upper right")
            else:
                ax.set_title(layer)
                ax.legend(loc="upper right")
                if outside:
                    _note(ax, f"{outside:,} outside x-range", loc="upper left")
            ax.set_xlabel("Learned inner-loop learning rate")
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
            ax.locator_params(axis="x", nbins=5)
        for ax in axes[: len(layers)][::ncols]:
            ax.set_ylabel("Count (pooled over seeds)")
        spare = axes[len(layers):]
        for ax in spare:
            ax.set_axis_off()
        if len(spare):
            from matplotlib.lines import Line2D
            from matplotlib.patches import Patch

            handles = [Patch(color=algorithm_color(sr[0]), alpha=0.8, label=_series_label(sr)) for sr in all_series]
            handles += [Line2D([], [], color="black", lw=0.9, label="zero"),
                        Line2D([], [], color="#555555", ls="--", lw=1.2, label="mean")]
            spare[0].legend(handles=handles, loc="center", fontsize=8.5)
    return fig


# --------------------------------------------------------------------------
# Fig. 7: feature probe
# --------------------------------------------------------------------------

def _lighten(color: str, amount: float) -> tuple[float, float, float]:
    r, g, b = mpl.colors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def feature_probe(
    probe_summary: pd.DataFrame,
    probe_changes: pd.DataFrame | None = None,
    *,
    change_label: str = "Change in probe accuracy (pp)",
) -> Figure:
    """Paper Fig. 7: prototype-probe accuracy pre-adaptation, on-task, off-task.

    ``probe_summary``: ``algorithm, phase, mean, ci95_low, ci95_high, n``
    (phase in pre_adaptation/on_task/off_task). Bars grouped per algorithm
    with 95% CI error bars; the y-axis is zoomed to the data (it does not
    start at zero). With ``probe_changes`` (``algorithm, change, mean,
    ci95_low, ci95_high, n``) a second panel shows the changes (×100, i.e.
    percentage points for accuracy differences) with CIs and a zero line.
    """
    _require(probe_summary, ("algorithm", "phase", "mean", "ci95_low", "ci95_high", "n"), "probe_summary")
    if probe_changes is not None:
        _require(probe_changes, ("algorithm", "change", "mean", "ci95_low", "ci95_high", "n"), "probe_changes")
    groups = _series(probe_summary)
    phases = _ordered(probe_summary["phase"], PHASE_ORDER)
    shades = np.linspace(0.55, 0.0, len(phases)) if len(phases) > 1 else np.zeros(1)
    hatches = ["", "///", "..."] + [""] * max(0, len(phases) - 3)

    with mpl.rc_context(_STYLE):
        if probe_changes is not None:
            fig = Figure(figsize=(7.6, 3.3), layout="constrained")
            ax, ax_ch = fig.subplots(1, 2, width_ratios=[1.15, 1])
        else:
            fig = Figure(figsize=(4.6, 3.3), layout="constrained")
            ax, ax_ch = fig.subplots(1, 1), None

        width = 0.8 / len(phases)
        lows, highs, ticks, ticklabels = [], [], [], []
        for i, group in enumerate(groups):
            base = algorithm_color(group[0])
            d = _select(probe_summary, group).set_index("phase")
            for j, phase in enumerate(phases):
                if phase not in d.index:
                    continue
                row = d.loc[phase]
                x = i + (j - (len(phases) - 1) / 2) * width
                m, lo, hi = row["mean"] * 100, row["ci95_low"] * 100, row["ci95_high"] * 100
                if not (np.isfinite(lo) and np.isfinite(hi)):  # no interval (n < 2)
                    lo = hi = m
                ax.bar(x, m, width=width * 0.92, color=_lighten(base, shades[j]), edgecolor=base,
                       lw=0.8, hatch=hatches[j], zorder=2)
                ax.errorbar(x, m, yerr=[[m - lo], [hi - m]], color="#222222", capsize=3, lw=1, zorder=3)
                lows.append(lo)
                highs.append(hi)
                ticks.append(x)
                ticklabels.append(PHASE_LABELS.get(phase, phase).replace("-adaptation", "").replace("-task", ""))
        lo, hi = min(lows), max(highs)
        pad = max((hi - lo) * 0.35, 0.05)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xticks(ticks, ticklabels)
        for i, group in enumerate(groups):
            ax.text(i, -0.16, _series_label(group, "\n"), transform=ax.get_xaxis_transform(), ha="center",
                    va="top", fontsize=9, fontweight="bold", color=algorithm_color(group[0]))
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=None))
        ax.set_ylabel("Probe accuracy (nearest centroid)")
        ax.set_title("Probe accuracy, 95% CI")
        ax.grid(axis="x", visible=False)
        _note(ax, "y-axis truncated", loc="upper left")

        if ax_ch is not None:
            changes = _ordered(probe_changes["change"], CHANGE_ORDER)
            ch_groups = _series(probe_changes)
            n_alg = len(ch_groups)
            offs = (np.arange(n_alg) - (n_alg - 1) / 2) * (0.6 / max(n_alg, 1))
            for k, group in enumerate(ch_groups):
                d = _select(probe_changes, group).set_index("change")
                xs, ms, los, his = [], [], [], []
                for j, ch in enumerate(changes):
                    if ch not in d.index:
                        continue
                    row = d.loc[ch]
                    xs.append(j + offs[k])
                    ms.append(row["mean"] * 100)
                    los.append(row["ci95_low"] * 100)
                    his.append(row["ci95_high"] * 100)
                ms, los, his = np.array(ms), np.array(los), np.array(his)
                los, his = np.where(np.isfinite(los), los, ms), np.where(np.isfinite(his), his, ms)
                ax_ch.errorbar(xs, ms, yerr=[ms - los, his - ms], fmt="o", ms=5, capsize=3, lw=1.2,
                               color=algorithm_color(group[0]), label=_series_label(group), zorder=3)
            ax_ch.axhline(0.0, color="black", lw=0.9, zorder=1)
            ax_ch.set_xticks(range(len(changes)),
                             [CHANGE_LABELS.get(c, c).replace(" − ", "\n− ") for c in changes])
            ax_ch.set_xlim(-0.5, len(changes) - 0.5)
            ax_ch.set_ylabel(change_label)
            ax_ch.set_title("Change with adaptation, 95% CI")
            ax_ch.grid(axis="x", visible=False)
            ax_ch.legend(loc="best")
    return fig


# --------------------------------------------------------------------------
# Meta-test accuracy per run
# --------------------------------------------------------------------------

def meta_test_accuracy(meta_test: pd.DataFrame) -> Figure:
    """Per-run meta-test accuracy with its 95% CI over tasks, per algorithm.

    ``meta_test``: ``algorithm, seed, accuracy, ci95_low, ci95_high, n_tasks``
    (one row per run). A grey bar marks the median over seeds.
    """
    _require(meta_test, ("algorithm", "seed", "accuracy", "ci95_low", "ci95_high", "n_tasks"), "meta_test")
    groups = _series(meta_test)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(max(3.6, 1.5 + 1.3 * len(groups)), 3.2), layout="constrained")
        ax = fig.subplots(1, 1)
        for i, group in enumerate(groups):
            d = _select(meta_test, group).sort_values("seed")
            n = len(d)
            xs = i + (np.arange(n) - (n - 1) / 2) * (0.5 / max(n - 1, 1)) if n > 1 else np.array([float(i)])
            acc = d["accuracy"].to_numpy(float) * 100
            lo = d["ci95_low"].to_numpy(float) * 100
            hi = d["ci95_high"].to_numpy(float) * 100
            lo, hi = np.where(np.isfinite(lo), lo, acc), np.where(np.isfinite(hi), hi, acc)
            color = algorithm_color(group[0])
            ax.errorbar(xs, acc, yerr=[acc - lo, hi - acc], fmt="o", ms=5, capsize=3, lw=1.2, color=color,
                        zorder=3)
            med = float(np.median(acc))
            ax.hlines(med, i - 0.35, i + 0.35, color="#444444", lw=2, zorder=2,
                      label="median over seeds" if i == 0 else None)
            if n <= 8:
                for x, a, s in zip(xs, hi, d["seed"]):
                    ax.annotate(f"s{s}", (x, a), textcoords="offset points", xytext=(0, 3), ha="center",
                                fontsize=6.5, color="#555555")
        ax.set_xticks(range(len(groups)), [_series_label(g, "\n") for g in groups])
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=None))
        ax.set_ylabel("Meta-test accuracy")
        ax.set_title("Per-run meta-test accuracy, 95% CI over tasks")
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.15)
        ax.legend(loc="best")
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
        with mpl.rc_context(_STYLE):
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
