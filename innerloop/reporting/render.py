"""Render the study report: one self-contained HTML file and its A4 PDF.

The template (``report/templates/report.html.j2``) is rendered with Jinja2
``StrictUndefined`` and autoescaping: a key missing from the context is an
error, and so is a ``None`` printed into the page (never a silent blank).

The context is a :class:`ReportContext` (a ``TypedDict``, documented below).
Tables arrive as HTML strings from :func:`innerloop.reporting.tables.to_html`
(see :func:`~innerloop.reporting.tables.report_tables`), figures as PNG paths
(an SVG beside the PNG, same stem, is linked from the HTML page).

The figures are drawn before, one rule each (``figure_<key>``: ``draw_<key>`` and
:func:`~innerloop.reporting.figures.save_figure`); the report rule
(``workflow_scripts/report_html.py``) then does::

    ctx = build_context(frames=frames, setup=setup, provenance=prov,
                        figures={"rulegraph": rulegraph_png, **figure_pngs},
                        caption_dir=Path("report/captions"))
    add_parts(ctx, inputs, config)   # each section's tables and context (innerloop.reporting.sections)
    html = render_html(ctx, Path("report/templates"), Path("results/report/report.html"))

and ``workflow_scripts/report_pdf.py`` prints it with :func:`html_to_pdf`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import mimetypes
import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from innerloop.io import atomic_path, write_bytes_atomic
from innerloop.reference import PAPER_REFERENCE, PAPER_TABLE1_ALGORITHM, PAPER_TABLE1_LR
from innerloop.stats.order import setting_order

from . import figures as F
from .format import text_int, text_number, text_p, text_percent, text_pp
from .sections import FIGURES_BY_KEY, SECTIONS, always
from .style import canonical_name
from .tables import report_tables

__all__ = [
    "ReportContext",
    "SetupInfo",
    "DatasetInfo",
    "SplitInfo",
    "TaskInfo",
    "ModelInfo",
    "ProbeInfo",
    "TTestInfo",
    "ProvenanceInfo",
    "FIGURE_KEYS",
    "OPTIONAL_FIGURE_KEYS",
    "TABLE_KEYS",
    "FRAME_KEYS",
    "REPORT_SECTIONS",
    "report_sections",
    "DEFAULT_TITLE",
    "embed_image",
    "load_captions",
    "headline_findings",
    "ttest_info",
    "has_lr_trajectories",
    "build_context",
    "render_html",
    "html_to_pdf",
]

DEFAULT_TITLE = "Negative Inner-Loop Learning Rates Learn Universal Features — a re-run"

#: Figure keys every report has (values: PNG paths; ``rulegraph`` may be ``None``): the figures of
#: the sections shown in every configuration (innerloop.reporting.sections).
FIGURE_KEYS = tuple(f.key for s in SECTIONS if s.context is None and s.shown is always
                    for f in s.figures if f.shown is always and f.context is None)
#: Figures shown only when the configuration has them (Alpha-MAML's learning-rate trajectories,
#: the sections that come with their own context: sine waves, cross-domain, ...).
OPTIONAL_FIGURE_KEYS = tuple(key for key in FIGURES_BY_KEY if key not in FIGURE_KEYS)
#: Table keys the template uses (values: HTML from ``tables.report_tables``).
TABLE_KEYS = ("meta_test_table", "meta_test_runs", "meta_test_summary", "running_time", "lr_table",
              "probe_summary", "probe_changes", "probe_vs_maml")
#: The report's frames with their columns: those the figure rules draw and those :func:`build_context` reads.
FRAME_KEYS: dict[str, tuple[str, ...]] = {
    "train_log": ("algorithm", "seed", "iteration", "loss", "accuracy"),
    "validation": ("algorithm", "seed", "iteration", "accuracy", "ci95"),
    "lr_values": ("algorithm", "seed", "layer", "value"),
    "lr_table": ("algorithm", "layer", "mean", "std", "median", "fraction_negative", "n_seeds", "mean_ci95_low",
                 "mean_ci95_high"),
    "meta_test": ("algorithm", "setting", "seed", "accuracy", "ci95_low", "ci95_high", "n_tasks"),
    "meta_test_summary": ("algorithm", "setting", "n_seeds", "mean", "median", "ci95_low", "ci95_high"),
    "meta_test_table": ("group", "algorithm", "name"),
    "probe_summary": ("algorithm", "phase", "mean", "ci95_low", "ci95_high", "n"),
    "probe_changes": ("algorithm", "change", "mean", "ci95_low", "ci95_high", "n"),
    "probe_ttest": ("comparison", "statistic", "df", "p_value", "test", "n_a", "n_b"),
    "probe_vs_maml": ("algorithm", "reference", "mean", "ci95_low", "ci95_high", "difference",
                      "difference_ci95_low", "difference_ci95_high", "p_value", "test"),
    "run_times": ("algorithm", "setting", "seed", "train_s", "meta_test_s", "feature_probe_s", "total_s"),
    "running_time": ("algorithm", "setting", "n_seeds", "train_s_median", "train_s_min", "train_s_max",
                     "meta_test_s_median", "feature_probe_s_median", "total_s_median", "accuracy_median"),
}
#: The report's sections in order, as (id, title, context key), from their declarations
#: (innerloop.reporting.sections). A section's template is
#: ``report/templates/sections/<id>.html.j2``; a section with a context key appears only when the
#: context has that key and it is not empty (an analysis the configuration did not run).
REPORT_SECTIONS: tuple[tuple[str, str, str | None], ...] = tuple((s.id, s.title, s.context) for s in SECTIONS)


def report_sections(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """``{"id", "title"}`` of every section the context has material for, in report order."""
    return [{"id": sid, "title": title} for sid, title, key in REPORT_SECTIONS if key is None or context.get(key)]


#: Frames that may have no rows (a configuration without rate-learning algorithms, or
#: without both MAML and Meta-SGD).
MAY_BE_EMPTY = ("lr_table", "lr_values", "probe_ttest")


# --------------------------------------------------------------------------
# The context
# --------------------------------------------------------------------------

class SplitInfo(TypedDict):
    split: str          # "train", "val", "test"
    classes: int        # classes in the split
    images: int         # images in the split


class DatasetInfo(TypedDict):
    name: str           # e.g. "Omniglot"
    image_size: str     # e.g. "28×28 px, greyscale"
    split_rule: str     # one phrase, e.g. "alphabet-disjoint (all characters of an alphabet in one split)"
    splits: list[SplitInfo]


class TaskInfo(TypedDict):
    ways: int
    shots: int          # support examples per class
    queries: int        # query examples per class
    meta_batch_size: int  # tasks per outer-loop update


class ModelInfo(TypedDict):
    description: str    # e.g. "4 × [3×3 conv, 64 filters → BatchNorm → ReLU → 2×2 max-pool] → linear"
    n_parameters: int   # meta-parameters of the network (Meta-SGD doubles them with its rates)
    embedding_dim: int  # width of the flattened features the probe uses


class ProbeInfo(TypedDict):
    iterations: int     # probe iterations per run
    inner_steps: int    # adaptation steps in the probe
    queries: int        # evaluation examples per class
    split: str          # split the probe tasks come from, e.g. "meta-test"


class SetupInfo(TypedDict):
    dataset: DatasetInfo
    task: TaskInfo
    model: ModelInfo
    probe: ProbeInfo
    algorithms: list[str]        # display names, e.g. ["MAML", "Meta-SGD"]
    seeds: list[int]
    iterations: int              # meta-training iterations per run
    inner_steps: int             # inner-loop steps in meta-training
    inner_steps_eval: int        # inner-loop steps at validation and meta-test
    validation_every: int        # iterations between validation evaluations
    n_val_tasks: int             # size of the fixed validation task set
    n_test_tasks: int            # size of the fixed meta-test task set
    hyperparameters: dict[str, Any]  # free-form "name -> value", shown as a table in order


class TTestInfo(TypedDict):
    test_name: str      # e.g. "Welch's t-test"
    comparison: str     # e.g. "MAML vs Meta-SGD"
    setting: str        # e.g. "5-way 1-shot" ("" when the frame has no setting)
    statistic: float
    df: float
    p_value: float
    n_a: int
    n_b: int
    paper_p_value: float


class ProvenanceInfo(TypedDict):
    config_yaml: str    # the config as run, YAML text
    git_commit: str
    git_dirty: bool
    packages: dict[str, str]  # name -> version
    device: str         # e.g. "NVIDIA H100 80GB HBM3, CUDA 12.8" or "cpu"
    hostname: str
    cpu: str
    python: str
    platform: str
    command: str        # the command line that produced the results
    started: str        # ISO timestamps
    finished: str


class ReportContext(TypedDict):
    title: str
    generated: str               # ISO timestamp of rendering
    findings: list[str]          # headline sentences, from headline_findings()
    setup: SetupInfo
    figures: dict[str, Any]      # FIGURE_KEYS (+ present OPTIONAL_FIGURE_KEYS) -> PNG path (rulegraph: or None)
    captions: dict[str, str]     # caption stem -> caption text, from load_captions()
    tables: dict[str, str]       # TABLE_KEYS -> HTML, from tables.report_tables()
    ttests: list[TTestInfo]      # from ttest_info(probe_ttest); empty without both MAML and Meta-SGD
    lr_algorithms: list[str]     # display names of the algorithms in the learning-rate table
    probe_reference: str         # "MAML" when the probe comparison has its reference, else ""
    paper: dict[str, Any]        # PAPER_REFERENCE plus "table1" (PAPER_TABLE1_LR)
    provenance: ProvenanceInfo


# --------------------------------------------------------------------------
# Helpers the template uses
# --------------------------------------------------------------------------

def embed_image(path: Path | str) -> str:
    """``data:`` URI (base64) for a PNG/SVG/JPEG file, for a self-contained HTML page."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"figure not found: {path}")
    mime = {".svg": "image/svg+xml", ".png": "image/png"}.get(path.suffix.lower()) \
        or mimetypes.guess_type(path.name)[0]
    if mime is None or not mime.startswith("image/"):
        raise ValueError(f"not an image file: {path}")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _finalize(value: Any) -> Any:
    if value is None:
        raise ValueError("the report template printed None: a context value is missing")
    return value


def load_captions(caption_dir: Path | str) -> dict[str, str]:
    """``{stem: text}`` for every ``*.rst`` caption, RST inline markup reduced to plain text."""
    out = {}
    for p in sorted(Path(caption_dir).glob("*.rst")):
        text = p.read_text(encoding="utf-8")
        text = re.sub(r"``(.+?)``", r"\1", text)
        text = re.sub(r"\*\*?(.+?)\*\*?", r"\1", text)
        out[p.stem] = " ".join(text.split())
    return out


# --------------------------------------------------------------------------
# Headline findings (sentences written from the numbers)
# --------------------------------------------------------------------------

def _and(items: list[str]) -> str:
    """``"A, B and C"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _lr_sentence(name: str, lr: pd.DataFrame, where: str = "") -> str | None:
    conv = lr[lr["layer"].str.startswith("conv")]
    if not len(conv):
        return None
    k = int((conv["mean"] < 0).sum())
    s = (f"{where}{name}'s mean learned inner-loop learning rate is negative in {k} of {len(conv)} "
         "convolutional layers")
    if name == F.algorithm_label(PAPER_TABLE1_ALGORITHM):
        paper_k = sum(1 for layer, (m, _s) in PAPER_TABLE1_LR.items() if layer.startswith("conv") and m < 0)
        s += f" (paper: {paper_k} of 4)"
    if conv["mean_ci95_high"].notna().all():
        k_ci = int((conv["mean_ci95_high"] < 0).sum())
        s += f"; the 95% CI over seeds lies entirely below zero in {k_ci} of {len(conv)}"
    else:
        s += "; with fewer than two seeds there is no interval over seeds"
    s += (f". Per conv layer, {text_percent(conv['fraction_negative'].min(), 0)}"
          f"–{text_percent(conv['fraction_negative'].max(), 0)} of the rates are negative.")
    logits = lr[lr["layer"] == "logits"]
    if len(logits):
        m = float(logits["mean"].iloc[0])
        s += (f" In the logits layer the mean rate is {text_number(m, 4, signed=True)} "
              f"({'positive' if m > 0 else 'not positive'}")
        if name == F.algorithm_label(PAPER_TABLE1_ALGORITHM):
            s += f"; paper: {text_number(PAPER_TABLE1_LR['logits'][0], 3, signed=True)}"
        s += ")."
    return s


def _accuracy_entry(r: pd.Series) -> str:
    n = int(r["n_seeds"])
    ci = (f"95% CI of the mean {text_percent(r['ci95_low'], 1)}–{text_percent(r['ci95_high'], 1)}, "
          if pd.notna(r["ci95_low"]) and pd.notna(r["ci95_high"]) else "")
    return (f"{F.algorithm_label(r['algorithm'])} {text_percent(r['median'], 1)} "
            f"({ci}{n} seed{'s' if n != 1 else ''})")


def headline_findings(
    *,
    lr_table: pd.DataFrame,
    meta_test_summary: pd.DataFrame,
    probe_changes: pd.DataFrame,
    probe_ttest: pd.DataFrame,
    probe_vs_maml: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> list[str]:
    """The report's headline sentences, each stated from the measured numbers.

    Works for any set of algorithms: sentences about MAML and Meta-SGD (the paper's
    pair) appear only when they were run.
    """
    out: list[str] = []

    # 1. learned learning rates, per rate-learning algorithm (and setting)
    if not len(lr_table):
        out.append("No configured algorithm learns per-element inner-loop learning rates, so the paper's "
                   "Table 1 and Fig. 6 have nothing to show in this run.")
    else:
        lr = lr_table.assign(layer=lr_table["layer"].astype(str),
                             algorithm=lr_table.get("algorithm", PAPER_TABLE1_ALGORITHM))
        by = ["algorithm"] + (["setting"] if "setting" in lr.columns and lr["setting"].nunique() > 1 else [])
        order = {a: i for i, a in enumerate(F.ordered_algorithms(lr["algorithm"]))}
        for keys, g in sorted(lr.groupby(by, sort=False), key=lambda kg: order[str(kg[0][0])]):
            where = f"{F.setting_label(keys[1])}: " if len(keys) > 1 else ""
            sentence = _lr_sentence(F.algorithm_label(keys[0]), g, where)
            if sentence:
                out.append(sentence)

    # 2. meta-test accuracy, per setting: every algorithm when few, else the best and the paper's pair
    for setting in setting_order(meta_test_summary["setting"]):
        g = meta_test_summary[meta_test_summary["setting"].astype(str) == setting]
        rows = {str(r["algorithm"]): r for _, r in g.iterrows()}
        order = F.ordered_algorithms(rows)
        head = f"Meta-test accuracy ({F.setting_label(setting)}), median over seeds: "
        if len(order) <= 4:
            out.append(head + "; ".join(_accuracy_entry(rows[a]) for a in order) + ".")
            continue
        best = max(order, key=lambda a: rows[a]["median"])
        parts = [f"highest {_accuracy_entry(rows[best])}"]
        parts += [_accuracy_entry(rows[a]) for a in ("maml", "metasgd") if a in rows and a != best]
        out.append(head + "; ".join(parts) + f" ({len(order)} algorithms, all in the meta-test table).")

    # 3. feature probe: the paper's pair
    ch = probe_changes.assign(algorithm=probe_changes["algorithm"].map(canonical_name))
    if "setting" in ch.columns and ch["setting"].nunique() > 1:  # the first setting speaks for the pattern
        ch = ch[ch["setting"].astype(str) == setting_order(ch["setting"])[0]]
    rows = {(a, c): r for a, c, r in zip(ch["algorithm"], ch["change"].astype(str),
                                         (ch.iloc[i] for i in range(len(ch))))}
    sentences = []
    for change, what in (("on_task_change", "on-task"), ("off_task_change", "off-task")):
        parts = []
        for alg in ("maml", "metasgd"):
            r = rows.get((alg, change))
            if r is not None:
                ci = (f" [{text_pp(r['ci95_low'])}, {text_pp(r['ci95_high'])}]"
                      if pd.notna(r["ci95_low"]) and pd.notna(r["ci95_high"]) else "")
                parts.append(f"{text_pp(r['mean'])}{ci} for {F.ALGORITHM_LABELS[alg]}")
        if parts:
            sentences.append(f"{what} accuracy changed by {' and '.join(parts)}")
    if sentences:
        s = "Feature probe, change from pre-adaptation (95% CI): " + "; ".join(sentences) + "."
        maml, msgd = rows.get(("maml", "off_task_change")), rows.get(("metasgd", "off_task_change"))
        if maml is not None and msgd is not None:
            same = maml["mean"] < 0 < msgd["mean"]
            s += (" The paper's off-task pattern (MAML worse off-task, "
                  f"{text_pp(PAPER_REFERENCE['off_task_change_maml'], 1)}; "
                  f"Meta-SGD better, {text_pp(PAPER_REFERENCE['off_task_change_metasgd'], 1)}) is "
                  + ("reproduced in sign" if same else "not reproduced"))
            if same and pd.notna(maml["ci95_high"]) and pd.notna(msgd["ci95_low"]):
                both = maml["ci95_high"] < 0 < msgd["ci95_low"]
                s += (", and both 95% intervals exclude zero" if both
                      else ", but not both 95% intervals exclude zero")
            s += "."
        out.append(s)

    # 4. every algorithm against MAML
    if probe_vs_maml is not None and probe_vs_maml["difference"].notna().any():
        vs = probe_vs_maml[probe_vs_maml["difference"].notna()]
        if "setting" in vs.columns and vs["setting"].nunique() > 1:
            vs = vs[vs["setting"].astype(str) == setting_order(vs["setting"])[0]]
        higher = [F.algorithm_label(a) for a, d, p in zip(vs["algorithm"], vs["difference"], vs["p_value"])
                  if p < alpha and d > 0]
        lower = [F.algorithm_label(a) for a, d, p in zip(vs["algorithm"], vs["difference"], vs["p_value"])
                 if p < alpha and d < 0]
        ref = F.algorithm_label(vs["reference"].iloc[0])
        s = (f"Off-task minus on-task probe change compared with {ref} ({len(vs)} other algorithm"
             f"{'s' if len(vs) != 1 else ''}, p < {alpha:g} over probe iterations, conditional on these networks): ")
        s += "; ".join(filter(None, [f"higher for {_and(higher)}" if higher else "",
                                      f"lower for {_and(lower)}" if lower else ""])) or "no significant difference"
        out.append(s + ".")

    # 5. the paper's t-test
    tests = ttest_info(probe_ttest)
    for t in tests:
        sig = t["p_value"] < alpha
        where = f" ({t['setting']})" if t["setting"] and len(tests) > 1 else ""
        out.append(f"{t['test_name']} on the per-iteration off-task minus on-task change, {t['comparison']}{where}: "
                   f"t = {text_number(t['statistic'], 2)}, p = {text_p(t['p_value'])} (paper: p = "
                   f"{text_p(t['paper_p_value'])}); {'significant' if sig else 'not significant'} at α = {alpha:g} as a test "
                   "over iterations of these trained networks (the claims table tests it over seeds).")
    if not tests:
        out.append("The paper's t-test (MAML vs Meta-SGD) was not run: it needs both algorithms in the configuration.")
    return out


def ttest_info(probe_ttest: pd.DataFrame) -> list[TTestInfo]:
    """The rows of ``probe_ttest`` (one per setting; none when MAML or Meta-SGD was not
    run) as the template's ``ttests`` list."""
    out = []
    for _, r in probe_ttest.iterrows():
        test = str(r["test"])
        name = "Welch's t-test" if "welch" in test.lower() else test
        comparison = str(r["comparison"])
        for key, label in F.ALGORITHM_LABELS.items():
            comparison = re.sub(rf"\b{key}\b", label, comparison, flags=re.I)
        comparison = re.sub(r"\s*(_vs_|-vs-| vs\.? )\s*", " vs ", comparison)
        setting = F.setting_label(r["setting"]) if "setting" in r.index and pd.notna(r["setting"]) else ""
        out.append(TTestInfo(test_name=name, comparison=comparison, setting=setting,
                             statistic=float(r["statistic"]), df=float(r["df"]), p_value=float(r["p_value"]),
                             n_a=int(r["n_a"]), n_b=int(r["n_b"]), paper_p_value=PAPER_REFERENCE["ttest_p_value"]))
    return out


# --------------------------------------------------------------------------
# Assembling
# --------------------------------------------------------------------------

def has_lr_trajectories(train_log: pd.DataFrame) -> bool:
    """Whether the training log has Alpha-MAML's logged learning rates."""
    return ("alpha" in train_log.columns and "beta" in train_log.columns
            and train_log.loc[train_log["algorithm"].astype(str) == "alpha_maml", "alpha"].notna().any())


def build_context(
    *,
    frames: Mapping[str, pd.DataFrame],
    setup: SetupInfo,
    provenance: ProvenanceInfo,
    figures: Mapping[str, Any],
    caption_dir: Path | str,
    title: str = DEFAULT_TITLE,
    generated: str | None = None,
) -> ReportContext:
    """A complete :class:`ReportContext` from the result frames and the run's metadata.

    ``frames`` needs ``lr_table, meta_test, meta_test_summary, meta_test_table,
    probe_summary, probe_changes, probe_ttest, probe_vs_maml, running_time``;
    ``figures`` maps every key of :data:`FIGURE_KEYS` to a PNG path (``rulegraph`` may
    be ``None``), and may map keys of :data:`OPTIONAL_FIGURE_KEYS`.
    """
    missing = [k for k in FIGURE_KEYS if k not in figures]
    if missing:
        raise KeyError(f"figures missing {missing}")
    for key in ("lr_table", "meta_test", "meta_test_summary", "meta_test_table", "probe_summary", "probe_changes",
                "probe_ttest", "probe_vs_maml", "running_time"):
        F._require(frames[key], FRAME_KEYS[key], key, allow_empty=key in MAY_BE_EMPTY)
    captions = load_captions(caption_dir)
    lr_table, vs = frames["lr_table"], frames["probe_vs_maml"]
    return ReportContext(
        title=title,
        generated=generated or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        findings=headline_findings(lr_table=lr_table, meta_test_summary=frames["meta_test_summary"],
                                   probe_changes=frames["probe_changes"], probe_ttest=frames["probe_ttest"],
                                   probe_vs_maml=vs),
        setup=setup,
        figures=dict(figures),
        captions=captions,
        tables=dict(report_tables(**{k: frames[k] for k in (
            "meta_test", "meta_test_summary", "meta_test_table", "lr_table", "probe_summary", "probe_changes",
            "probe_vs_maml", "running_time")})),
        ttests=ttest_info(frames["probe_ttest"]),
        lr_algorithms=[F.algorithm_label(a) for a in F.ordered_algorithms(lr_table["algorithm"])],
        probe_reference=F.algorithm_label(vs["reference"].iloc[0])
        if len(vs) and (vs["algorithm"].astype(str) == vs["reference"].astype(str)).any() else "",
        paper={**PAPER_REFERENCE, "table1": PAPER_TABLE1_LR},
        provenance=provenance,
    )


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

def _environment(template_dir: Path, out_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def svg_href(png: Any) -> str:
        """Relative link to the SVG beside a PNG figure, or "" if there is none."""
        svg = Path(png).with_suffix(".svg")
        if not svg.is_file():
            return ""
        rel = os.path.relpath(svg.resolve(), out_dir.resolve())
        return urllib.parse.quote(Path(rel).as_posix())

    env.filters.update(
        embed_image=embed_image, svg_href=svg_href, num=text_number, pct=text_percent, pp=text_pp, pval=text_p,
        intcomma=text_int,
        and_join=lambda items: _and([str(i) for i in items]) if items else "",
    )
    env.globals["embed_image"] = embed_image
    return env


def render_html(
    context: Mapping[str, Any],
    template_dir: Path | str,
    out_path: Path | str,
    *,
    template_name: str = "report.html.j2",
    css_path: Path | str | None = None,
) -> Path:
    """Render the report template to one self-contained HTML file (atomic write).

    Figures are embedded as base64 ``data:`` URIs; the stylesheet
    (``css_path``, default ``template_dir/../style.css``) is inlined.
    Raises ``jinja2.UndefinedError`` for a missing context key.
    """
    template_dir, out_path = Path(template_dir), Path(out_path)
    css_path = Path(css_path) if css_path is not None else template_dir.parent / "style.css"
    env = _environment(template_dir, out_path.parent)
    text = env.get_template(template_name).render(
        **context, sections=report_sections(context), css=Markup(css_path.read_text(encoding="utf-8"))
    )
    return write_bytes_atomic(out_path, text.encode("utf-8"))


def html_to_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """Print the HTML report to an A4 PDF with WeasyPrint (atomic write)."""
    import weasyprint  # slow import; only needed here

    html_path, pdf_path = Path(html_path), Path(pdf_path)
    with atomic_path(pdf_path) as tmp:
        weasyprint.HTML(filename=str(html_path)).write_pdf(tmp)
    return pdf_path
