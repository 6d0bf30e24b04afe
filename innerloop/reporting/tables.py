"""Tables for the report: display formatting, HTML/CSV/LaTeX output, paper values.

Accuracies are fractions in [0, 1] in the data and are shown as percentages; one number's
display text is :mod:`innerloop.reporting.format`'s.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from innerloop.io import write_text_atomic
from innerloop.reference import PAPER_TABLE1_ALGORITHM, PAPER_TABLE1_LR

from innerloop.stats.order import setting_order

from .figures import (
    CHANGE_LABELS,
    CHANGE_ORDER,
    LAYER_ORDER,
    PHASE_LABELS,
    PHASE_ORDER,
    algorithm_label,
    ordered_algorithms,
    setting_label,
)
from .format import MISSING, format_interval, format_number, format_p, is_missing, typographic_minus

__all__ = [
    "format_table",
    "to_html",
    "write_table",
    "latex_table",
    "lr_table_with_paper",
    "meta_test_table_html",
    "cross_domain_tables",
    "rule_times_html",
    "report_tables",
]


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

def format_table(
    df: pd.DataFrame,
    percent_cols: Iterable[str] = (),
    float_cols: Iterable[str] = (),
    int_cols: Iterable[str] = (),
    *,
    ci_cols: Sequence[tuple[str, str, str]] = (),
    signed_cols: Iterable[str] = (),
    percent_digits: int = 1,
    float_digits: int = 3,
    rename: Mapping[str, str] | None = None,
    labels: Mapping[str, Mapping[object, str]] | None = None,
) -> pd.DataFrame:
    """Return a frame of display strings.

    - ``percent_cols``: fractions shown as ``46.1%`` (``percent_digits`` decimals);
    - ``float_cols``: ``float_digits`` decimals; ``int_cols``: thousands separators;
    - ``ci_cols``: ``(low, high, name)`` triples merged into one ``"[lo, hi]"`` column
      placed where ``low`` was (percent if ``low`` is in ``percent_cols``);
    - ``signed_cols``: also show ``+`` on positive values;
    - ``labels``: per-column value -> display-text maps (e.g. algorithm names);
    - ``rename``: final column headers. Other columns are ``str()``-ed; NaN -> "—".
    """
    percent_cols, float_cols = set(percent_cols), set(float_cols)
    int_cols, signed_cols = set(int_cols), set(signed_cols)
    out = pd.DataFrame(index=df.index)
    ci_low = {lo: (hi, name) for lo, hi, name in ci_cols}
    ci_high = {hi for _lo, hi, _name in ci_cols}
    for col in df.columns:
        if col in ci_high:
            continue
        s = df[col]
        if col in ci_low:
            hi, name = ci_low[col]
            pct = col in percent_cols
            d = percent_digits if pct else float_digits
            sg = col in signed_cols
            out[name] = [
                MISSING if is_missing(a) and is_missing(b) else
                f"[{format_number(a, d, percent=pct, signed=sg)}, {format_number(b, d, percent=pct, signed=sg)}]"
                for a, b in zip(s, df[hi])
            ]
            continue
        if labels and col in labels:
            out[col] = [labels[col].get(v, str(v)) if not is_missing(v) else MISSING for v in s]
        elif col in percent_cols:
            out[col] = [format_number(v, percent_digits, percent=True, signed=col in signed_cols) for v in s]
        elif col in float_cols:
            out[col] = [format_number(v, float_digits, signed=col in signed_cols) for v in s]
        elif col in int_cols:
            out[col] = [MISSING if is_missing(v) else f"{int(round(float(v))):,}" for v in s]
        else:
            out[col] = [MISSING if is_missing(v) else str(v) for v in s]
    if rename:
        out = out.rename(columns=dict(rename))
    return out.reset_index(drop=True)


_NUM = r"[+\-−]?(?:\d[\d,]*)?\.?\d+(?:e[+\-]?\d+)?%?(?: pp)?"
_CELL = rf"{_NUM}(?: ± {_NUM})?(?: \[{_NUM}, {_NUM}\])?(?: \(\d+ seeds?\))?"
_NUMERIC_RE = re.compile(rf"^(?:{_CELL}|\[{_NUM}, {_NUM}\]|—)$")


def _is_numeric_column(values: Sequence[str]) -> bool:
    vals = [v for v in values if v != MISSING]
    return bool(vals) and all(_NUMERIC_RE.match(v) for v in vals)


def to_html(df: pd.DataFrame, caption: str | None = None, *, table_id: str | None = None) -> Markup:
    """A clean ``<table class="data">``: escaped text; numeric columns get class ``num``.

    A column is numeric when every cell looks like a number, a percentage or a
    ``[low, high]`` interval; its header and cells are right-aligned by the
    stylesheet, and a leading ``-`` is shown as a typographic minus.
    Returns :class:`markupsafe.Markup` (a ``str``), so Jinja's autoescape leaves it alone.
    """
    e = html.escape
    text = [[MISSING if is_missing(v) else str(v) for v in row] for row in df.itertuples(index=False, name=None)]
    numeric = [_is_numeric_column([row[j] for row in text]) for j in range(df.shape[1])]
    cls = [' class="num"' if n else "" for n in numeric]
    id_attr = f' id="{e(table_id)}"' if table_id else ""
    parts = [f'<table class="data"{id_attr}>']
    if caption:
        parts.append(f"<caption>{e(str(caption))}</caption>")
    parts.append("<thead><tr>" + "".join(f'<th scope="col"{c}>{e(str(h))}</th>' for h, c in zip(df.columns, cls))
                 + "</tr></thead>")
    parts.append("<tbody>")
    for row in text:
        cells = [f"<td{c}>{e(typographic_minus(v) if n else v)}</td>"
                 for v, c, n in zip(row, cls, numeric)]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return Markup("\n".join(parts))


def diverged_runs_html(diverged: pd.DataFrame) -> Markup | str:
    """The runs that diverged in training (:func:`innerloop.divergence.diverged_runs`) as
    HTML; an empty string when there are none, so the report leaves the table out."""
    if diverged.empty:
        return ""
    settings = {str(v): setting_label(v) for v in diverged["setting"]}
    names = {str(a): algorithm_label(a) for a in diverged["algorithm"]}
    shown = diverged[["algorithm", "setting", "seed", "iteration", "last_finite_loss", "rates", "reason"]]
    return to_html(format_table(
        shown.fillna({"rates": ""}), float_cols=["last_finite_loss"], int_cols=["seed", "iteration"],
        labels={"algorithm": names, "setting": settings},
        rename={"algorithm": "Algorithm", "setting": "Setting", "seed": "Seed", "iteration": "Diverged at iteration",
                "last_finite_loss": "Last finite loss", "rates": "Learning rates", "reason": "Why"}))


def tuning_html(tuning: pd.DataFrame) -> Markup | str:
    """The tuning stage's candidates (:func:`innerloop.tuning.tuning_table`) with their best
    meta-validation accuracy, the chosen one marked; empty when nothing was tuned."""
    if tuning.empty:
        return ""
    shown = tuning.assign(chosen=["chosen" if c else "" for c in tuning["chosen"].astype(bool)])
    shown = shown[["algorithm", "setting", "candidate", "status", "best_score", "best_iteration", "iterations", "chosen"]]
    return to_html(format_table(
        shown, percent_cols=["best_score"], int_cols=["best_iteration", "iterations"],
        labels={"algorithm": {str(a): algorithm_label(a) for a in shown["algorithm"]},
                "setting": {str(v): setting_label(v) for v in shown["setting"]}},
        rename={"algorithm": "Algorithm", "setting": "Setting", "candidate": "Candidate", "status": "Status",
                "best_score": "Best validation accuracy", "best_iteration": "at iteration",
                "iterations": "Iterations run", "chosen": "Choice"}))


def protocol_html(protocol: pd.DataFrame) -> Markup:
    """The protocol table (:func:`innerloop.reporting.protocol.protocol_table`) as HTML:
    accuracy and untrained reference in %, their difference in percentage points."""
    shown = protocol.assign(margin=protocol["margin"] * 100)[
        ["name", "setting", "training", "train_inner_steps", "eval_steps", "rates", "n_seeds", "accuracy", "untrained",
         "margin"]]
    settings = {str(v): setting_label(v) for v in protocol["setting"]}
    return to_html(format_table(
        shown, percent_cols=["accuracy", "untrained"], float_cols=["margin"], int_cols=["train_inner_steps",
                                                                                        "eval_steps", "n_seeds"],
        signed_cols=["margin"], float_digits=1, labels={"setting": settings},
        rename={"name": "Algorithm", "setting": "Setting", "training": "Trained on", "train_inner_steps":
                "Inner steps (training)", "eval_steps": "Steps (evaluation)", "rates": "Rates (how chosen)",
                "n_seeds": "Seeds", "accuracy": "Meta-test accuracy", "untrained": "Untrained reference",
                "margin": "Difference (pp)"}))


def write_table(df: pd.DataFrame, stem: Path | str, *, caption: str | None = None) -> list[Path]:
    """Write ``stem.csv`` and ``stem.tex`` (``DataFrame.to_latex``, booktabs) atomically."""
    stem = Path(stem)
    csv_path = stem.with_name(stem.name + ".csv")
    tex_path = stem.with_name(stem.name + ".tex")
    write_text_atomic(csv_path, df.to_csv(index=False, lineterminator="\n"))
    write_text_atomic(tex_path, df.to_latex(index=False, escape=True, caption=caption, na_rep=MISSING))
    return [csv_path, tex_path]


def latex_table(df: pd.DataFrame, caption: str | None = None) -> str:
    """A result table as LaTeX (booktabs): floats to four significant digits, NaN as "—",
    underscores and other special characters escaped."""
    formatters = {c: (lambda v: MISSING if is_missing(v) else f"{v:.4g}")
                  for c in df.columns if pd.api.types.is_float_dtype(df[c])}
    return df.to_latex(index=False, escape=True, caption=caption, na_rep=MISSING, formatters=formatters)


# --------------------------------------------------------------------------
# Paper comparison
# --------------------------------------------------------------------------

def _layer_key(layer: str) -> tuple[int, str]:
    return (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER), layer)


def lr_table_with_paper(lr_table: pd.DataFrame) -> pd.DataFrame:
    """The measured per-layer learning-rate table beside the paper's Table 1.

    Input columns: ``[algorithm, [setting,]] layer, mean, std, median,
    fraction_negative, n_seeds, mean_ci95_low, mean_ci95_high`` (no ``algorithm``
    column: Meta-SGD's). Output (numbers, one row per algorithm (and setting) and layer,
    algorithms in table order, layers in network order): ``algorithm, [setting,] layer,
    mean, mean_ci95_low, mean_ci95_high, paper_mean, std, paper_std, median,
    fraction_negative, n_seeds, sign_agrees`` (measured mean has the paper's sign).
    The paper's values are given for Meta-SGD only; a Meta-SGD layer missing on either
    side gets NaN, and so do the paper columns of every other algorithm.
    """
    cols = ["layer", "mean", "std", "median", "fraction_negative", "n_seeds", "mean_ci95_low", "mean_ci95_high"]
    missing = [c for c in cols if c not in lr_table.columns]
    if missing:
        raise ValueError(f"lr_table is missing columns {missing}")
    if "algorithm" not in lr_table.columns:
        lr_table = lr_table.assign(algorithm=PAPER_TABLE1_ALGORITHM)
    keys = ["algorithm"] + (["setting"] if "setting" in lr_table.columns else [])
    measured = lr_table[keys + cols].copy()
    for k in keys + ["layer"]:
        measured[k] = measured[k].astype(str)
    paper = pd.DataFrame([(k, m, s) for k, (m, s) in PAPER_TABLE1_LR.items()],
                         columns=["layer", "paper_mean", "paper_std"])
    parts = []
    for key, g in measured.groupby(keys, sort=False):
        if g["algorithm"].iloc[0] == PAPER_TABLE1_ALGORITHM:
            g = g.merge(paper, on="layer", how="outer")
            g[keys] = g[keys].ffill().bfill()
        else:
            g = g.assign(paper_mean=np.nan, paper_std=np.nan)
        parts.append(g)
    columns = keys + ["layer", "mean", "mean_ci95_low", "mean_ci95_high", "paper_mean", "std", "paper_std",
                      "median", "fraction_negative", "n_seeds", "sign_agrees"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    rank = {a: i for i, a in enumerate(ordered_algorithms(out["algorithm"]))}
    srank = {v: i for i, v in enumerate(setting_order(out["setting"]))} if "setting" in keys else {}
    lrank = {v: i for i, v in enumerate(sorted(set(out["layer"]), key=_layer_key))}
    ranks = {"algorithm": rank, "setting": srank, "layer": lrank}
    out = out.sort_values(keys + ["layer"], kind="stable", key=lambda c: c.map(ranks[c.name])).reset_index(drop=True)
    agree = [
        (pd.NA if (pd.isna(m) or pd.isna(p)) else bool((m < 0) == (p < 0)))
        for m, p in zip(out["mean"], out["paper_mean"])
    ]
    out["sign_agrees"] = pd.array(agree, dtype="boolean")
    return out[columns]


# --------------------------------------------------------------------------
# Huisman's Tables 3.1-3.3: meta-test accuracy, algorithms x settings
# --------------------------------------------------------------------------

def _settings_in(table: pd.DataFrame) -> list[str]:
    return [c[: -len("_median")] for c in table.columns if c.endswith("_median")]


def meta_test_table_html(table: pd.DataFrame, *, marked=(), mark: str = "†",
                         published: Mapping[str, Mapping[str, tuple[float, str]]] | None = None) -> Markup:
    """Thesis-style HTML of :func:`innerloop.stats.meta_test_table`: one row per
    algorithm under its group's heading (when both groups are present), one column per
    setting, cells ``median ± half-width`` in percent, the best median of each column in
    bold. A cell's seed count is shown where it differs from the table's usual count, and
    ``mark`` follows the cells of the (algorithm, setting) pairs in ``marked``. With
    ``published`` (setting -> algorithm -> (accuracy, source), e.g.
    :data:`innerloop.reference.PUBLISHED_META_TEST` of the run's dataset) each setting that
    has published numbers gets a column of them beside its measured one, with the source."""
    e = html.escape
    settings = _settings_in(table)
    counts = pd.Series([int(n) for st in settings for n in table[f"{st}_n_seeds"] if int(n) > 0])
    usual = int(counts.mode().iloc[0]) if len(counts) else 0
    published = {st: published[st] for st in settings if published and published.get(st)}
    head = "".join(f'<th scope="col" class="num">{e(setting_label(st))}</th>'
                   + (f'<th scope="col" class="num">{e(setting_label(st))}, published</th>' if st in published else "")
                   for st in settings)
    width = len(settings) + len(published)
    parts = ['<table class="data thesis">', f'<thead><tr><th scope="col">Algorithm</th>{head}</tr></thead>',
             "<tbody>"]
    show_groups = table["group"].nunique() > 1
    group = None
    for _, row in table.iterrows():
        if show_groups and row["group"] != group:
            group = row["group"]
            parts.append(f'<tr class="group"><th scope="rowgroup" colspan="{width + 1}">'
                         f"{e(str(group))}</th></tr>")
        cells = []
        for st in settings:
            n = int(row[f"{st}_n_seeds"])
            if st in published:
                value = published[st].get(str(row["algorithm"]))
                cells.append(f'<td class="num">{e(format_number(value[0] * 100, 1) + " (" + value[1] + ")")}</td>'
                             if value else f'<td class="num">{MISSING}</td>')
            if n == 0:
                cells.insert(len(cells) - (st in published), f'<td class="num">{MISSING}</td>')
                continue
            text = format_number(row[f"{st}_median"] * 100, 1)
            if not is_missing(row[f"{st}_ci95_half_width"]):
                text += " ± " + format_number(row[f"{st}_ci95_half_width"] * 100, 1)
            if n != usual:
                text += f" ({n} seed{'s' if n != 1 else ''})"
            if (str(row["algorithm"]), st) in marked:
                text += f" {mark}"
            text = e(text)
            cells.insert(len(cells) - (st in published),
                         f'<td class="num">{"<strong>" + text + "</strong>" if row[f"{st}_best"] else text}</td>')
        parts.append(f'<tr><th scope="row">{e(str(row["name"]))}</th>{"".join(cells)}</tr>')
    parts.append("</tbody></table>")
    return Markup("\n".join(parts))


# --------------------------------------------------------------------------
# The report's tables, ready for the template
# --------------------------------------------------------------------------

def _sort_by(df: pd.DataFrame, col: str, order: Sequence[str]) -> pd.DataFrame:
    rank = {v: i for i, v in enumerate(order)}
    return df.sort_values(col, key=lambda s: s.astype(str).map(lambda v: rank.get(v, len(rank))), kind="stable")


def _with_setting(df: pd.DataFrame, cols: list[str]) -> list[str]:
    """``cols`` with ``setting`` after ``algorithm`` when the frame has that column."""
    return cols[:1] + ["setting"] + cols[1:] if "setting" in df.columns and "setting" not in cols else cols


def _display_order(df: pd.DataFrame, inner: str | None = None, inner_order: Sequence[str] = ()) -> pd.DataFrame:
    """Rows by algorithm (table order), then setting, then ``inner``."""
    df = df.assign(algorithm=df["algorithm"].astype(str))
    if inner is not None:
        df = _sort_by(df, inner, inner_order) if inner_order else df.sort_values(inner, kind="stable")
    if "setting" in df.columns:
        df = _sort_by(df, "setting", setting_order(df["setting"]))
    return _sort_by(df, "algorithm", ordered_algorithms(df["algorithm"]))


def _wide(df: pd.DataFrame, key: str, order: Sequence[str], labels: Mapping[str, str], **cell) -> pd.DataFrame:
    """One row per algorithm (and setting), one ``mean [CI]`` column per value of ``key``."""
    by = ["algorithm"] + (["setting"] if "setting" in df.columns else [])
    rows = []
    for keys, g in _display_order(df).groupby(by, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        g = g.assign(**{key: g[key].astype(str)}).set_index(key)
        row = dict(zip(by, keys))
        for value in order:
            if value in g.index:
                r = g.loc[value]
                row[labels.get(value, value)] = format_interval(r["mean"], r["ci95_low"], r["ci95_high"], **cell)
        rows.append(row)
    return pd.DataFrame(rows)


def cross_domain_tables(table: pd.DataFrame, probe_changes: pd.DataFrame) -> dict[str, Markup]:
    """HTML of the cross-domain tables: ``cross_domain_table`` (thesis Table 3.4 layout, one
    column per direction and setting) and ``cross_domain_probe_changes`` (the probe's changes
    under the domain shift, one row per algorithm and direction)."""
    labels = {"algorithm": {a: algorithm_label(a) for a in probe_changes["algorithm"].astype(str)},
              "setting": {v: setting_label(v) for v in probe_changes["setting"].astype(str)}}
    pc = _wide(probe_changes, "change", CHANGE_ORDER, CHANGE_LABELS, unit=" pp", digits=2, signed=True)
    return {"cross_domain_table": meta_test_table_html(table),
            "cross_domain_probe_changes": to_html(format_table(
                pc, labels=labels, rename={"algorithm": "Algorithm", "setting": "Direction and setting"}))}


def rule_times_html(times: pd.DataFrame) -> Markup:
    """The provenance table of :func:`innerloop.stats.rule_times`."""
    return to_html(format_table(
        times, float_cols=["wall_s", "cpu_s", "wall_s_max", "max_rss_mb"], int_cols=["jobs"], float_digits=0,
        rename={"rule": "Rule", "jobs": "Jobs", "wall_s": "Wall clock (s, sum)", "cpu_s": "CPU (s, sum)",
                "wall_s_max": "Longest job (s)", "max_rss_mb": "Peak memory (MB)"}))


def report_tables(
    *,
    meta_test: pd.DataFrame,
    meta_test_summary: pd.DataFrame,
    meta_test_table: pd.DataFrame,
    lr_table: pd.DataFrame,
    probe_summary: pd.DataFrame,
    probe_changes: pd.DataFrame,
    probe_vs_maml: pd.DataFrame,
    running_time: pd.DataFrame,
) -> dict[str, Markup]:
    """HTML for every table in the report, keyed as ``ReportContext['tables']`` expects.

    Keys: ``meta_test_table`` (thesis layout), ``meta_test_runs``,
    ``meta_test_summary``, ``running_time``, ``lr_table`` (empty string when no
    algorithm learns rates), ``probe_summary``, ``probe_changes``, ``probe_vs_maml``.
    A ``setting`` column (e.g. ``"5w1s"``), where a frame has one, is shown as
    "5-way 1-shot".
    """
    frames = (meta_test, meta_test_summary, probe_summary, probe_changes, probe_vs_maml, running_time, lr_table)
    names = {str(a) for f in frames if "algorithm" in f.columns for a in f["algorithm"]}
    settings = {str(v) for f in frames if "setting" in f.columns for v in f["setting"]}
    labels = {"algorithm": {a: algorithm_label(a) for a in names},
              "setting": {v: setting_label(v) for v in settings}}
    common = {"algorithm": "Algorithm", "setting": "Setting", "seed": "Seed", "n": "n"}
    out: dict[str, Markup] = {"meta_test_table": meta_test_table_html(meta_test_table)}

    runs = _display_order(meta_test, "seed")
    out["meta_test_runs"] = to_html(format_table(
        runs[_with_setting(runs, ["algorithm", "seed", "accuracy", "ci95_low", "ci95_high", "n_tasks"])],
        percent_cols=["accuracy", "ci95_low"], int_cols=["n_tasks"], percent_digits=2,
        ci_cols=[("ci95_low", "ci95_high", "95% CI (tasks)")], labels=labels,
        rename={**common, "accuracy": "Accuracy", "n_tasks": "Tasks"}))

    summ = _display_order(meta_test_summary)
    out["meta_test_summary"] = to_html(format_table(
        summ[["algorithm", "setting", "n_seeds", "median", "mean", "ci95_low", "ci95_high"]],
        percent_cols=["median", "mean", "ci95_low"], int_cols=["n_seeds"], percent_digits=2,
        ci_cols=[("ci95_low", "ci95_high", "95% CI of the mean (seeds)")], labels=labels,
        rename={**common, "n_seeds": "Seeds", "median": "Median", "mean": "Mean"}))

    rt = _display_order(running_time)
    out["running_time"] = to_html(format_table(
        rt[["algorithm", "setting", "n_seeds", "train_s_median", "train_s_min", "train_s_max", "meta_test_s_median",
            "feature_probe_s_median", "total_s_median", "accuracy_median"]],
        float_cols=["train_s_median", "train_s_min", "meta_test_s_median", "feature_probe_s_median",
                    "total_s_median"], percent_cols=["accuracy_median"], int_cols=["n_seeds"], float_digits=1,
        ci_cols=[("train_s_min", "train_s_max", "Training range (s)")], labels=labels,
        rename={**common, "n_seeds": "Seeds", "train_s_median": "Training (s)", "meta_test_s_median": "Meta-test (s)",
                "feature_probe_s_median": "Probe (s)", "total_s_median": "Total (s)",
                "accuracy_median": "Accuracy"}))

    lr = lr_table_with_paper(lr_table)
    if len(lr):
        lr = lr.assign(sign_agrees=lr["sign_agrees"].map(lambda b: MISSING if pd.isna(b) else ("yes" if b else "no")))
        out["lr_table"] = to_html(format_table(
            lr.drop(columns=["n_seeds"]), percent_cols=["fraction_negative"],
            float_cols=["mean", "mean_ci95_low", "paper_mean", "std", "paper_std", "median"],
            ci_cols=[("mean_ci95_low", "mean_ci95_high", "95% CI of mean")],
            float_digits=4, percent_digits=1, labels=labels,
            rename={**common, "layer": "Layer", "mean": "Mean", "paper_mean": "Paper mean", "std": "Std. dev.",
                    "paper_std": "Paper std.", "median": "Median", "fraction_negative": "Negative",
                    "sign_agrees": "Paper sign"}))
    else:
        out["lr_table"] = Markup("")

    ps = _wide(probe_summary, "phase", PHASE_ORDER, PHASE_LABELS)
    out["probe_summary"] = to_html(format_table(ps, labels=labels, rename=common))

    pc = _wide(probe_changes, "change", CHANGE_ORDER, CHANGE_LABELS, unit=" pp", digits=2, signed=True)
    out["probe_changes"] = to_html(format_table(pc, labels=labels, rename=common))

    vs = _display_order(probe_vs_maml)
    rows = []
    for _, r in vs.iterrows():
        row = {"algorithm": r["algorithm"], **({"setting": r["setting"]} if "setting" in vs.columns else {}),
               "Off-task − on-task (pp)": format_interval(r["mean"], r["ci95_low"], r["ci95_high"], unit="",
                                                         signed=True),
               f"Difference from {algorithm_label(r['reference'])} (pp)": format_interval(
                   r["difference"], r["difference_ci95_low"], r["difference_ci95_high"], unit="", signed=True),
               "p": format_p(r["p_value"]),
               "Test": MISSING if is_missing(r["test"]) or not str(r["test"]) else str(r["test"]).split(" t-test")[0]}
        rows.append(row)
    out["probe_vs_maml"] = to_html(format_table(pd.DataFrame(rows), labels=labels, rename=common))
    return out
