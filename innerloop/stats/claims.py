"""The quantitative claims of the paper (Starshak) and of the thesis chapter (Huisman), each
with the statistic measured here, its 95% CI and a verdict.

Each :class:`Claim` names the algorithms it needs and a function that computes its
:class:`Measured` statistic from the run's tables (:class:`ClaimData`); :func:`verdict`
turns the statistic into replicated / not replicated / inconclusive by the rule of
:data:`VERDICT_RULE`, which the report's methods section prints. A claim whose
algorithms were not run gets ``"not run"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from innerloop.stats.intervals import mean_ci
from innerloop.stats.order import setting_order
from innerloop.stats.paired import paired_test

REPLICATED, NOT_REPLICATED, INCONCLUSIVE, NOT_RUN = "replicated", "not replicated", "inconclusive", "not run"
CLAIM_COLUMNS = ["id", "source", "claim", "paper", "paper_value", "statistic", "unit", "setting", "estimate",
                 "ci95_low", "ci95_high", "p_value", "n", "direction", "verdict", "note"]

#: The verdict rule, sentence by sentence, as the methods section prints it.
VERDICT_RULE: tuple[str, ...] = (
    "Each claim is a direction (a quantity is above zero, or below zero) or a closeness "
    "(a difference lies within ±{margin_pp} percentage points of zero), stated for the measured "
    "statistic in the claims table, with its two-sided 95% confidence interval.",
    "A direction claim is replicated when the interval lies entirely on the claimed side of zero and, "
    "where the claim is tested within a family of comparisons, the Holm-adjusted p-value is below "
    "{alpha}; it is not replicated when the interval lies entirely on the other side of zero; "
    "otherwise (the interval contains zero, or Holm does not confirm it) it is inconclusive.",
    "A closeness claim is replicated when the interval lies within ±{margin_pp} pp; it is not "
    "replicated when the interval lies entirely outside that band; otherwise it is inconclusive.",
    "A claim without an interval (fewer than two seeds or samples) is inconclusive, and a claim "
    "whose algorithms were not in the configuration is marked not run.",
)


def verdict_rule_text(alpha: float, margin: float) -> list[str]:
    """:data:`VERDICT_RULE` with the significance level and the closeness margin filled in."""
    return [s.format(alpha=f"{alpha:g}", margin_pp=f"{margin * 100:g}") for s in VERDICT_RULE]


def verdict(direction: str, low: float, high: float, p: float | None = None, *, alpha: float = 0.05,
            margin: float = 0.02) -> str:
    """The verdict of :data:`VERDICT_RULE` for an interval ``[low, high]``.

    ``direction``: ``"greater"`` (claimed above zero), ``"less"`` (below zero) or
    ``"equivalent"`` (within ``±margin``); ``p``: a (Holm-adjusted) p-value the
    replicated verdict also needs below ``alpha``, or None."""
    if direction not in ("greater", "less", "equivalent"):
        raise ValueError(f"unknown claim direction {direction!r} (greater, less or equivalent)")
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if direction == "equivalent":
        if -margin <= low and high <= margin:
            return REPLICATED
        return NOT_REPLICATED if (low > margin or high < -margin) else INCONCLUSIVE
    claimed, other = (low > 0, high < 0) if direction == "greater" else (high < 0, low > 0)
    if claimed:
        return REPLICATED if p is None or (not math.isnan(p) and p < alpha) else INCONCLUSIVE
    return NOT_REPLICATED if other else INCONCLUSIVE


@dataclass(frozen=True)
class Measured:
    """A claim's statistic: estimate, 95% CI, a p-value where the verdict uses one, n."""
    estimate: float
    low: float
    high: float
    p_value: float = math.nan
    n: int = 0
    note: str = ""
    p_for_verdict: bool = False


@dataclass
class ClaimData:
    """The tables the claims are measured on (empty frames for what was not run).

    ``tasks``: per-task meta-test accuracy (algorithm, setting, seed, task, accuracy);
    ``probe``: probe iterations (algorithm, setting, seed, iteration, pre_adaptation,
    on_task_change, off_task_change, ...); ``lr_below_zero``: :func:`innerloop.stats.paired.lr_below_zero`;
    ``paired_meta_test``: :func:`innerloop.stats.paired.paired_meta_test`."""
    tasks: pd.DataFrame
    probe: pd.DataFrame
    lr_below_zero: pd.DataFrame
    paired_meta_test: pd.DataFrame
    setting: str | None = None
    alpha: float = 0.05
    margin: float = 0.02

    def algorithms(self) -> set[str]:
        found = set()
        for df in (self.tasks, self.probe, self.lr_below_zero):
            if len(df) and "algorithm" in df.columns:
                found |= set(self.in_setting(df)["algorithm"].astype(str))
        return found

    def in_setting(self, df: pd.DataFrame, algorithm: str | None = None) -> pd.DataFrame:
        mask = pd.Series(True, index=df.index)
        if self.setting is not None and "setting" in df.columns:
            mask &= df["setting"].astype(str) == self.setting
        if algorithm is not None:
            mask &= df["algorithm"].astype(str) == algorithm
        return df[mask]


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    text: str
    statistic: str
    direction: str
    needs: tuple[str, ...]
    measure: Callable[[ClaimData], Measured]
    paper_value: float = math.nan  # the paper's number for this statistic, NaN where it gives none
    paper: str = ""                # the paper's number as the table shows it (may be of another statistic)
    unit: str = "accuracy"         # "accuracy" (a fraction) or "rate" (a learned learning rate)
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------
# Statistics the claims use
# --------------------------------------------------------------------------

def _lr_layer(algorithm: str, layer: str, with_p: bool) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        rows = data.in_setting(data.lr_below_zero, algorithm)
        rows = rows[rows["layer"].astype(str) == layer]
        if rows.empty:
            return Measured(math.nan, math.nan, math.nan, note=f"no {layer} layer in the learning-rate table")
        r = rows.iloc[0]
        return Measured(float(r["mean"]), float(r["ci95_low"]), float(r["ci95_high"]),
                        float(r["p_holm"]) if with_p else math.nan, int(r["n_seeds"]), p_for_verdict=with_p,
                        note="p: one-sided t-test over seeds, Holm over every row of lr_below_zero.csv" if with_p else "")
    return measure


def _probe_change(algorithm: str, change: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        x = data.in_setting(data.probe, algorithm)[change].to_numpy(dtype=float)
        ci = mean_ci(x)
        return Measured(ci.mean, ci.low, ci.high, n=ci.n)
    return measure


def _off_minus_on(df: pd.DataFrame) -> np.ndarray:
    return (df["off_task_change"] - df["on_task_change"]).to_numpy(dtype=float)


def _ttest_off_minus_on(data: ClaimData) -> Measured:
    """Meta-SGD minus MAML in off-minus-on change, Welch interval and p (the paper's test)."""
    x = _off_minus_on(data.in_setting(data.probe, "metasgd"))
    y = _off_minus_on(data.in_setting(data.probe, "maml"))
    if len(x) < 2 or len(y) < 2:
        return Measured(math.nan, math.nan, math.nan, n=len(x) + len(y), note="fewer than two probe iterations")
    t = stats.ttest_ind(x, y, equal_var=False)
    ci = t.confidence_interval(0.95)
    return Measured(float(x.mean() - y.mean()), float(ci.low), float(ci.high), float(t.pvalue), len(x) + len(y),
                    note=f"Welch t = {float(t.statistic):.2f}, df = {float(t.df):.1f}", p_for_verdict=True)


def _paired_probe(algorithm: str, reference: str, column: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        keys = ["seed", "iteration"]
        a = data.in_setting(data.probe, algorithm)[keys + [column]]
        r = data.in_setting(data.probe, reference)[keys + [column]]
        m = a.merge(r, on=keys, suffixes=("", "_ref"))
        if m.empty:
            return Measured(math.nan, math.nan, math.nan, note="no matching probe iterations")
        res = paired_test(m[column], m[f"{column}_ref"])
        return Measured(res["difference"], res["difference_ci95_low"], res["difference_ci95_high"], res["p_t"],
                        res["n_pairs"], note="paired t-test over (seed, iteration)", p_for_verdict=True)
    return measure


def _probe_vs_meta_test(algorithm: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        x = data.in_setting(data.probe, algorithm)["pre_adaptation"].to_numpy(dtype=float)
        y = data.in_setting(data.tasks, algorithm)["accuracy"].to_numpy(dtype=float)
        if len(x) < 2 or len(y) < 2:
            return Measured(math.nan, math.nan, math.nan, n=len(x) + len(y), note="fewer than two samples")
        t = stats.ttest_ind(x, y, equal_var=False)
        ci = t.confidence_interval(0.95)
        return Measured(float(x.mean() - y.mean()), float(ci.low), float(ci.high), float(t.pvalue), len(x) + len(y),
                        note="Welch interval: probe iterations and meta-test tasks are different tasks")
    return measure


def _paired_meta_test(algorithm: str, reference: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        t = data.in_setting(data.paired_meta_test)
        rows = t[(t["algorithm"].astype(str) == algorithm) & (t["reference"].astype(str) == reference)]
        if rows.empty:
            return Measured(math.nan, math.nan, math.nan, note=f"{algorithm} vs {reference} not in the paired table")
        r = rows.iloc[0]
        return Measured(float(r["difference"]), float(r["difference_ci95_low"]), float(r["difference_ci95_high"]),
                        float(r["p_holm"]), int(r["n_pairs"]), p_for_verdict=True,
                        note=f"paired over (seed, task); p Holm-adjusted in family '{r['family']}'; "
                             f"interval over seed means [{r['seed_difference_ci95_low']:.4f}, "
                             f"{r['seed_difference_ci95_high']:.4f}]")
    return measure


# --------------------------------------------------------------------------
# The claims
# --------------------------------------------------------------------------

def _table1(layer: str) -> float:
    from innerloop.reporting.tables import PAPER_TABLE1_LR  # the one place the paper's numbers live

    return PAPER_TABLE1_LR[layer][0]


def _paper(key: str) -> float:
    from innerloop.reporting.tables import PAPER_REFERENCE

    return PAPER_REFERENCE[key]


def _thesis(a: str, b: str) -> tuple[float, str, str]:
    """Thesis Table 3.1's difference a - b (1-shot), as a number, as "+5 pp" and as "0.48 vs 0.43"."""
    from innerloop.reporting.tables import THESIS_TABLE31_1SHOT as T

    d = T[a] - T[b]
    return d, f"{d * 100:+.0f} pp", f"{T[a]:.2f} vs {T[b]:.2f}"


def claims() -> list[Claim]:
    """Every claim, in the order of the claims table."""
    turtle_fo, turtle_fo_pp, turtle_fo_text = _thesis("turtle", "fo_turtle")
    lstm, lstm_pp, lstm_text = _thesis("lstm_meta_plus", "lstm_meta")
    turtle_maml, turtle_maml_pp, turtle_maml_text = _thesis("turtle", "maml")
    out = [Claim(f"metasgd_{layer}_negative", "paper Sec. 5.2, Table 1",
                 f"Meta-SGD's mean learned inner-loop learning rate in {layer} is negative.",
                 "mean over seeds of the layer's mean learned rate", "less", ("metasgd",),
                 _lr_layer("metasgd", layer, with_p=True), _table1(layer), f"{_table1(layer):+.3f}", "rate")
           for layer in ("conv1", "conv2", "conv3", "conv4")]
    out += [
        Claim("metasgd_logits_positive", "paper Sec. 5.2, Table 1",
              "Meta-SGD's mean learned inner-loop learning rate in the logits layer is positive.",
              "mean over seeds of the layer's mean learned rate", "greater", ("metasgd",),
              _lr_layer("metasgd", "logits", with_p=False), _table1("logits"), f"{_table1('logits'):+.3f}", "rate"),
        Claim("maml_on_task_down", "paper Sec. 5.3",
              "MAML's probe accuracy drops on-task after adaptation (\"both models perform worse in the on-task "
              "regime\").", "mean on-task change over probe iterations", "less", ("maml",),
              _probe_change("maml", "on_task_change"), paper="below zero"),
        Claim("maml_off_task_down", "paper Sec. 5.3, Fig. 7",
              "MAML's probe accuracy drops off-task after adaptation.",
              "mean off-task change over probe iterations", "less", ("maml",),
              _probe_change("maml", "off_task_change"), _paper("off_task_change_maml"),
              f"{_paper('off_task_change_maml') * 100:+.1f} pp"),
        Claim("metasgd_on_task_down", "paper Sec. 5.3",
              "Meta-SGD's probe accuracy drops on-task after adaptation.",
              "mean on-task change over probe iterations", "less", ("metasgd",),
              _probe_change("metasgd", "on_task_change"), paper="below zero"),
        Claim("metasgd_off_task_up", "paper Sec. 5.3, Fig. 7",
              "Meta-SGD's probe accuracy rises off-task after adaptation.",
              "mean off-task change over probe iterations", "greater", ("metasgd",),
              _probe_change("metasgd", "off_task_change"), _paper("off_task_change_metasgd"),
              f"{_paper('off_task_change_metasgd') * 100:+.1f} pp"),
        Claim("off_minus_on_ttest", "paper Sec. 5.3",
              "The off-task minus on-task change is higher for Meta-SGD than for MAML (the paper's t-test).",
              "Meta-SGD minus MAML, mean off-minus-on change; Welch's t-test", "greater", ("maml", "metasgd"),
              _ttest_off_minus_on, paper=f"p = {_paper('ttest_p_value'):g}"),
        Claim("metasgd_probe_above_maml", "paper Sec. 5.3, Fig. 7",
              "Meta-SGD's features give a higher probe accuracy than MAML's.",
              "Meta-SGD minus MAML, pre-adaptation probe accuracy", "greater", ("maml", "metasgd"),
              _paired_probe("metasgd", "maml", "pre_adaptation"), paper="above zero (Fig. 7)"),
        Claim("feature_reuse_maml", "paper Sec. 5.3 (Raghu et al. 2020)",
              "Feature reuse: MAML's meta-initialisation without its head or adaptation keeps almost all of its "
              "meta-test accuracy.", "pre-adaptation probe accuracy minus meta-test accuracy", "equivalent",
              ("maml",), _probe_vs_meta_test("maml"), paper="slightly above zero"),
        Claim("feature_reuse_metasgd", "paper Sec. 5.3 (Raghu et al. 2020)",
              "Feature reuse: Meta-SGD's meta-initialisation without its head or adaptation keeps almost all of its "
              "meta-test accuracy.", "pre-adaptation probe accuracy minus meta-test accuracy", "equivalent",
              ("metasgd",), _probe_vs_meta_test("metasgd"), paper="slightly below zero"),
        Claim("second_order_turtle", "thesis Sec. 3.5, Table 3.1",
              "Second-order gradients raise TURTLE's meta-test accuracy over first-order TURTLE "
              f"(miniImageNet 5-way 1-shot {turtle_fo_text}).", "TURTLE minus FO-TURTLE, meta-test accuracy", "greater",
              ("turtle", "fo_turtle"), _paired_meta_test("turtle", "fo_turtle"), turtle_fo, turtle_fo_pp),
        Claim("second_order_lstm", "thesis Sec. 3.5, Table 3.1",
              "The enhanced (second-order) meta-learner LSTM is more accurate than the original "
              f"({lstm_text}).", "enhanced minus original meta-learner LSTM, meta-test accuracy", "greater",
              ("lstm_meta_plus", "lstm_meta"), _paired_meta_test("lstm_meta_plus", "lstm_meta"), lstm, lstm_pp, "accuracy",
              ("the enhanced LSTM also takes raw gradients and makes more updates, so the comparison is not of "
               "the order alone",)),
        Claim("turtle_vs_maml", "thesis Sec. 3.5, Table 3.1",
              f"TURTLE is more accurate than MAML ({turtle_maml_text}; better in half of the settings, competitive "
              "in the rest).", "TURTLE minus MAML, meta-test accuracy", "greater", ("turtle", "maml"),
              _paired_meta_test("turtle", "maml"), turtle_maml, turtle_maml_pp),
    ]
    return out


def claims_table(data: ClaimData, claim_list: list[Claim] | None = None) -> pd.DataFrame:
    """One row per claim: the statistic, its 95% CI, p-value, n and the verdict.

    ``data.setting`` None: the first setting of the data (the paper's 5-way 1-shot comes
    first in the default configuration)."""
    if data.setting is None:
        settings = [s for df in (data.tasks, data.probe) if "setting" in df.columns for s in df["setting"]]
        if settings:
            data.setting = setting_order(settings)[0]
    present = data.algorithms()
    rows = []
    for c in claim_list if claim_list is not None else claims():
        row = {"id": c.id, "source": c.source, "claim": c.text, "paper": c.paper, "paper_value": c.paper_value,
               "statistic": c.statistic, "unit": c.unit, "setting": data.setting, "estimate": math.nan, "ci95_low": math.nan,
               "ci95_high": math.nan, "p_value": math.nan, "n": 0, "direction": c.direction}
        missing = [a for a in c.needs if a not in present]
        if missing:
            rows.append({**row, "verdict": NOT_RUN, "note": f"not configured: {', '.join(missing)}"})
            continue
        m = c.measure(data)
        v = verdict(c.direction, m.low, m.high, m.p_value if m.p_for_verdict else None, alpha=data.alpha,
                    margin=data.margin)
        rows.append({**row, "estimate": m.estimate, "ci95_low": m.low, "ci95_high": m.high, "p_value": m.p_value,
                     "n": m.n, "verdict": v, "note": "; ".join(filter(None, (m.note, *c.notes)))})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
