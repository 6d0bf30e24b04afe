"""The quantitative claims of the paper (Starshak) and of the thesis chapter (Huisman), each
with the statistic measured here over seeds, its 95% CI, its minimum detectable effect,
its raw and Holm-adjusted p-value and a verdict.

The unit of inference is the training run. Each :class:`Claim` names the algorithms it
needs and a function that computes its :class:`Measured` statistic from the run's tables
(:class:`ClaimData`): a mean over seeds of per-seed values, or of per-seed differences
paired by seed (the seed fixes the initialisation and the training tasks), with a t-interval
and a two-sided t-test over seeds. A test over tasks or probe iterations is shown beside
it (:class:`Conditional`): it is conditional on the trained networks and decides nothing.

:func:`claims_table` puts every claim with a p-value into one Holm family, decides whether
each claim is testable at this scale (:func:`not_testable_because`: unconverged runs, too
few seeds, a minimum detectable effect above the paper's effect, learned rates still at
their init) and gives each testable one replicated / not replicated / inconclusive by
:func:`verdict`; :data:`VERDICT_RULE` is the rule as the report's methods section prints it.
A claim whose algorithms were not run gets ``"not run"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from innerloop.reference import PAPER_REFERENCE, PAPER_TABLE1_LR, THESIS_TABLE31_1SHOT
from innerloop.intervals import mean_ci
from innerloop.stats.order import setting_order
from innerloop.stats.paired import holm, paired_test
from innerloop.stats.power import min_detectable_effect, welch_implied_difference
from innerloop.stats.scale import describe_unconverged, runs_status

REPLICATED, NOT_REPLICATED, INCONCLUSIVE = "replicated", "not replicated", "inconclusive"
NOT_TESTABLE, NOT_RUN = "not testable at this scale", "not run"
VERDICTS = (REPLICATED, NOT_REPLICATED, INCONCLUSIVE, NOT_TESTABLE, NOT_RUN)
#: Power at which the minimum detectable effect is stated.
POWER = 0.8
CLAIM_COLUMNS = ["id", "source", "claim", "paper", "paper_value", "paper_effect", "statistic", "unit", "setting",
                 "direction", "estimate", "ci95_low", "ci95_high", "sd_seeds", "n_seeds", "mde", "p_value", "p_holm",
                 "conditional_test", "conditional_estimate", "conditional_ci95_low", "conditional_ci95_high",
                 "conditional_p", "conditional_n", "runs", "runs_converged", "testable", "not_testable_because",
                 "verdict", "note"]

#: The verdict rule, sentence by sentence, as the methods section prints it.
VERDICT_RULE: tuple[str, ...] = (
    "Every claim is inferred over training runs: its statistic is the mean over seeds of a per-seed value (of a "
    "per-seed difference where two algorithms are compared, paired by seed, which fixes the initialisation and "
    "the training tasks), with a two-sided 95% t-interval and a two-sided t-test over seeds. Tests over tasks or "
    "probe iterations are shown beside it as conditional on these trained networks and decide no verdict.",
    "Every claim with a p-value is in one Holm family, the whole claims table; each row shows its raw and its "
    "Holm-adjusted p.",
    "A claim is not testable at this scale when any of its runs did not converge ({plateau}; a run that diverged "
    "is not converged), when fewer than two seeds give it a value, when its minimum detectable effect exceeds the "
    "paper's effect (for a closeness claim: the ±{margin_pp} pp margin), or, for a claim about learned rates, when "
    "a seed's learned rates are still indistinguishable from their initial distribution (one-sample "
    "Kolmogorov-Smirnov test per run and layer against the uniform init, Holm over the runs and layers). Its row "
    "names the condition. The minimum detectable effect is the true effect that the seed-level t-test detects at "
    "α = {alpha} with 80% power, given the number of seeds and the measured seed-level standard deviation; where "
    "the paper gives no number for the statistic, it is shown but not compared.",
    "A testable direction claim (a quantity is above, or below, zero) is replicated when the interval lies "
    "entirely on the claimed side of zero and the Holm-adjusted p-value is below {alpha}; it is not replicated "
    "when the interval lies entirely on the other side of zero and the Holm-adjusted p-value is below {alpha}; "
    "otherwise it is inconclusive.",
    "A testable closeness claim (a difference lies within ±{margin_pp} percentage points of zero) is replicated "
    "when the interval lies within that band and the Holm-adjusted p of its two one-sided tests is below {alpha}; "
    "it is not replicated when the interval lies entirely outside the band; otherwise it is inconclusive. A claim "
    "whose algorithms were not in the configuration is marked not run.",
)

#: How the verdict rule names the convergence check when it is given no wording of the plateau rule.
DEFAULT_PLATEAU_TEXT = "the plateau rule on its validation log"


def verdict_rule_text(alpha: float, margin: float, plateau: str = DEFAULT_PLATEAU_TEXT) -> list[str]:
    """:data:`VERDICT_RULE` with the significance level, the closeness margin and the
    convergence rule (a phrase, e.g. :meth:`innerloop.convergence.PlateauRule.describe`) filled in."""
    return [s.format(alpha=f"{alpha:g}", margin_pp=f"{margin * 100:g}", plateau=plateau) for s in VERDICT_RULE]


def verdict(direction: str, low: float, high: float, p: float | None = None, *, alpha: float = 0.05,
            margin: float = 0.02) -> str:
    """The verdict of :data:`VERDICT_RULE` for a testable claim's interval ``[low, high]``.

    ``direction``: ``"greater"`` (claimed above zero), ``"less"`` (below zero) or
    ``"equivalent"`` (within ``±margin``); ``p``: the Holm-adjusted p-value a replicated
    (and, for a direction claim, a not replicated) verdict also needs below ``alpha``, or
    None where none is needed."""
    if direction not in ("greater", "less", "equivalent"):
        raise ValueError(f"unknown claim direction {direction!r} (greater, less or equivalent)")
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    confirmed = p is None or (not math.isnan(p) and p < alpha)
    if direction == "equivalent":
        if -margin <= low and high <= margin:
            return REPLICATED if confirmed else INCONCLUSIVE
        return NOT_REPLICATED if (low > margin or high < -margin) else INCONCLUSIVE
    claimed, other = (low > 0, high < 0) if direction == "greater" else (high < 0, low > 0)
    if (claimed or other) and confirmed:
        return REPLICATED if claimed else NOT_REPLICATED
    return INCONCLUSIVE


@dataclass(frozen=True)
class Conditional:
    """A test over tasks or probe iterations of the trained networks (descriptive)."""
    test: str
    estimate: float
    low: float
    high: float
    p_value: float
    n: int


@dataclass(frozen=True)
class Measured:
    """A claim's seed-level statistic: estimate, 95% CI over seeds, two-sided p, the number
    of seeds and the standard deviation of the per-seed values; the seeds it used; a
    conditional test; the paper's effect where the claim computes it (the implied effect
    of a reported p-value), else None (the claim's own)."""
    estimate: float
    low: float
    high: float
    p_value: float = math.nan
    n: int = 0
    sd: float = math.nan
    seeds: tuple[int, ...] = ()
    conditional: Conditional | None = None
    paper_effect: float | None = None
    note: str = ""


def _nan_measured(note: str, conditional: Conditional | None = None) -> Measured:
    return Measured(math.nan, math.nan, math.nan, note=note, conditional=conditional)


@dataclass
class ClaimData:
    """The tables the claims are measured on (empty frames for what was not run).

    ``tasks``: per-task meta-test accuracy (algorithm, setting, seed, task, accuracy);
    ``probe``: probe iterations (algorithm, setting, seed, iteration, pre_adaptation,
    on_task_change, off_task_change, ...); ``lr_per_seed``: each run's mean learned rate
    per layer (algorithm, setting, seed, layer, mean); ``convergence``: each run's
    convergence status (:func:`innerloop.stats.scale.run_convergence`; None: no run counts
    as converged); ``rates_vs_init``: :func:`innerloop.stats.rates.rates_vs_init` (None: no
    learned rate counts as moved from its init)."""
    tasks: pd.DataFrame
    probe: pd.DataFrame
    lr_per_seed: pd.DataFrame
    convergence: pd.DataFrame | None = None
    rates_vs_init: pd.DataFrame | None = None
    setting: str | None = None
    alpha: float = 0.05
    margin: float = 0.02

    def algorithms(self) -> set[str]:
        found = set()
        for df in (self.tasks, self.probe, self.lr_per_seed):
            if len(df) and "algorithm" in df.columns:
                found |= set(self.in_setting(df)["algorithm"].astype(str))
        return found

    def seeds(self, algorithms) -> list[int]:
        """The seeds of ``algorithms`` that appear in any table (a diverged run included)."""
        found = set()
        for df in (self.tasks, self.probe, self.lr_per_seed):
            if len(df) and "seed" in df.columns:
                rows = self.in_setting(df)
                found |= set(rows.loc[rows["algorithm"].astype(str).isin(list(algorithms)), "seed"].astype(int))
        return sorted(found)

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
    rate_layer: str | None = None  # a claim about Meta-SGD's learned rates of this layer

    def paper_effect(self, margin: float) -> float:
        """The effect the minimum detectable effect is compared with: the margin for a
        closeness claim, else the size of the paper's number (NaN where it gives none)."""
        return margin if self.direction == "equivalent" else abs(self.paper_value)


# --------------------------------------------------------------------------
# Statistics over seeds, and the conditional tests beside them
# --------------------------------------------------------------------------

def over_seeds(per_seed: pd.Series, margin: float | None = None, **extra) -> Measured:
    """The seed-level statistic of per-seed values (``per_seed``, indexed by seed; NaN
    dropped): mean, 95% t-interval, standard deviation and the two-sided one-sample t-test
    of mean zero, or, for a closeness claim (``margin`` given), the two one-sided tests of
    ``±margin`` at level α/2 each (p = 2 × the larger one-sided p, at most 1, so that p < α
    exactly when the 95% interval lies within the margin)."""
    per_seed = per_seed.dropna()
    x = per_seed.to_numpy(dtype=float)
    seeds = tuple(int(s) for s in per_seed.index)
    if x.size == 0:
        return Measured(math.nan, math.nan, math.nan, seeds=seeds, **extra)
    ci = mean_ci(x)
    if x.size < 2:
        return Measured(ci.mean, ci.low, ci.high, n=1, seeds=seeds, **extra)
    sd = float(x.std(ddof=1))
    if margin is not None:
        if sd == 0:
            p = 0.0 if -margin < ci.mean < margin else 1.0
        else:
            p_low = stats.ttest_1samp(x, -margin, alternative="greater").pvalue
            p_high = stats.ttest_1samp(x, margin, alternative="less").pvalue
            p = min(1.0, 2 * float(max(p_low, p_high)))
    elif sd == 0:  # constant values: t is 0 or infinite (scipy would return NaN)
        p = 1.0 if ci.mean == 0 else 0.0
    else:
        p = float(stats.ttest_1samp(x, 0.0).pvalue)
    return Measured(ci.mean, ci.low, ci.high, p, int(x.size), sd, seeds, **extra)


def _seed_means(data: ClaimData, df: pd.DataFrame, algorithm: str, column: str) -> pd.Series:
    rows = data.in_setting(df, algorithm)
    rows = rows[rows[column].notna()] if column in rows.columns else rows.iloc[:0]
    return rows.groupby("seed")[column].mean() if len(rows) else pd.Series(dtype=float)


def _paired_by_seed(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a - b`` on the seeds both have."""
    return (a - b).dropna()


def _conditional_one_sample(x: np.ndarray, test: str) -> Conditional | None:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return None
    ci = mean_ci(x)
    p = float(stats.ttest_1samp(x, 0.0).pvalue) if x.std() > 0 else (1.0 if ci.mean == 0 else 0.0)
    return Conditional(test, ci.mean, ci.low, ci.high, p, int(x.size))


def _conditional_paired(x, y, test: str) -> Conditional | None:
    if len(x) < 2:
        return None
    r = paired_test(x, y)
    return Conditional(test, r["difference"], r["difference_ci95_low"], r["difference_ci95_high"], r["p_t"],
                       r["n_pairs"])


def _welch(x: np.ndarray, y: np.ndarray, test: str) -> Conditional | None:
    if len(x) < 2 or len(y) < 2:
        return None
    t = stats.ttest_ind(x, y, equal_var=False)
    ci = t.confidence_interval(0.95)
    return Conditional(test, float(x.mean() - y.mean()), float(ci.low), float(ci.high), float(t.pvalue),
                       len(x) + len(y))


# --------------------------------------------------------------------------
# Statistics the claims use
# --------------------------------------------------------------------------

def _lr_layer(algorithm: str, layer: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        rows = data.in_setting(data.lr_per_seed, algorithm)
        rows = rows[rows["layer"].astype(str) == layer]
        if rows.empty:
            return _nan_measured(f"no {layer} layer in the learning-rate table")
        return over_seeds(rows.groupby("seed")["mean"].mean())
    return measure


def _probe_change(algorithm: str, change: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        x = data.in_setting(data.probe, algorithm)[change].to_numpy(dtype=float)
        cond = _conditional_one_sample(x, "t-test over probe iterations of all seeds")
        return over_seeds(_seed_means(data, data.probe, algorithm, change), conditional=cond)
    return measure


def _off_minus_on(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(off_minus_on=df["off_task_change"] - df["on_task_change"])


def _off_minus_on_claim(data: ClaimData) -> Measured:
    """Meta-SGD minus MAML in the off-minus-on change: over seeds (paired by seed), and the
    paper's Welch t-test over the probe iterations of all seeds beside it."""
    probe = _off_minus_on(data.probe)
    x = data.in_setting(probe, "metasgd")["off_minus_on"].dropna().to_numpy(dtype=float)
    y = data.in_setting(probe, "maml")["off_minus_on"].dropna().to_numpy(dtype=float)
    cond = _welch(x, y, "the paper's Welch t-test over probe iterations")
    n_paper = PAPER_REFERENCE["probe_iterations"]
    implied = (welch_implied_difference(PAPER_REFERENCE["ttest_p_value"], n_paper, n_paper, x.std(ddof=1),
                                        y.std(ddof=1)) if len(x) > 1 and len(y) > 1 else math.nan)
    diff = _paired_by_seed(_seed_means(data, probe, "metasgd", "off_minus_on"),
                           _seed_means(data, probe, "maml", "off_minus_on"))
    note = (f"paper's effect: the difference its p = {PAPER_REFERENCE['ttest_p_value']:g} implies over "
            f"{n_paper:,} iterations per algorithm, taking this run's per-iteration standard deviations")
    return over_seeds(diff, conditional=cond, paper_effect=implied, note=note)


def _paired_probe(algorithm: str, reference: str, column: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        keys = ["seed", "iteration"]
        a = data.in_setting(data.probe, algorithm)[keys + [column]]
        r = data.in_setting(data.probe, reference)[keys + [column]]
        m = a.merge(r, on=keys, suffixes=("", "_ref")).dropna()
        cond = _conditional_paired(m[column], m[f"{column}_ref"], "paired t-test over (seed, iteration)")
        diff = _paired_by_seed(_seed_means(data, data.probe, algorithm, column),
                               _seed_means(data, data.probe, reference, column))
        return over_seeds(diff, conditional=cond)
    return measure


def _probe_vs_meta_test(algorithm: str) -> Callable[[ClaimData], Measured]:
    """Pre-adaptation probe accuracy minus meta-test accuracy on the same tasks: probe
    iteration i's task A is meta-test task 2i (both come from one sampler fixed by the
    evaluation seed, :func:`innerloop.evaluation.probe.adapted_pair`), so the two are
    paired by (seed, task) where both exist, and their per-seed means by seed."""
    def measure(data: ClaimData) -> Measured:
        probe = data.in_setting(data.probe, algorithm)[["seed", "iteration", "pre_adaptation"]]
        tasks = data.in_setting(data.tasks, algorithm)[["seed", "task", "accuracy"]]
        m = probe.assign(task=2 * probe["iteration"]).merge(tasks, on=["seed", "task"]).dropna()
        if m.empty:
            return _nan_measured("no probe task is also a meta-test task (meta-test tasks 2i of probe iterations i)")
        cond = _conditional_paired(m["pre_adaptation"], m["accuracy"], "paired t-test over (seed, task)")
        per_seed = m.groupby("seed")["pre_adaptation"].mean() - m.groupby("seed")["accuracy"].mean()
        return over_seeds(per_seed, data.margin, conditional=cond,
                          note="the probe's task A of iteration i is meta-test task 2i: the same tasks, "
                               "paired by (seed, task)")
    return measure


def _paired_meta_test(algorithm: str, reference: str) -> Callable[[ClaimData], Measured]:
    def measure(data: ClaimData) -> Measured:
        keys = ["seed", "task"]
        a = data.in_setting(data.tasks, algorithm)[keys + ["accuracy"]]
        r = data.in_setting(data.tasks, reference)[keys + ["accuracy"]]
        m = a.merge(r, on=keys, suffixes=("", "_ref")).dropna()
        cond = _conditional_paired(m["accuracy"], m["accuracy_ref"], "paired t-test over (seed, task)")
        diff = _paired_by_seed(_seed_means(data, data.tasks, algorithm, "accuracy"),
                               _seed_means(data, data.tasks, reference, "accuracy"))
        return over_seeds(diff, conditional=cond)
    return measure


# --------------------------------------------------------------------------
# The claims
# --------------------------------------------------------------------------

def _table1(layer: str) -> float:
    return PAPER_TABLE1_LR[layer][0]


def _paper(key: str) -> float:
    return PAPER_REFERENCE[key]


def _thesis(a: str, b: str) -> tuple[float, str, str]:
    """Thesis Table 3.1's difference a - b (1-shot), as a number, as "+5 pp" and as "0.48 vs 0.43"."""
    t = THESIS_TABLE31_1SHOT
    d = t[a] - t[b]
    return d, f"{d * 100:+.0f} pp", f"{t[a]:.2f} vs {t[b]:.2f}"


def claims() -> list[Claim]:
    """Every claim, in the order of the paper and the thesis (the table sorts testable claims first)."""
    turtle_fo, turtle_fo_pp, turtle_fo_text = _thesis("turtle", "fo_turtle")
    lstm, lstm_pp, lstm_text = _thesis("lstm_meta_plus", "lstm_meta")
    turtle_maml, turtle_maml_pp, turtle_maml_text = _thesis("turtle", "maml")
    per_seed_rate = "mean over seeds of the layer's mean learned rate"
    out = [Claim(f"metasgd_{layer}_negative", "paper Sec. 5.2, Table 1",
                 f"Meta-SGD's mean learned inner-loop learning rate in {layer} is negative.", per_seed_rate, "less",
                 ("metasgd",), _lr_layer("metasgd", layer), _table1(layer), f"{_table1(layer):+.3f}", "rate",
                 rate_layer=layer)
           for layer in ("conv1", "conv2", "conv3", "conv4")]
    out += [
        Claim("metasgd_logits_positive", "paper Sec. 5.2, Table 1",
              "Meta-SGD's mean learned inner-loop learning rate in the logits layer is positive.", per_seed_rate,
              "greater", ("metasgd",), _lr_layer("metasgd", "logits"), _table1("logits"),
              f"{_table1('logits'):+.3f}", "rate", rate_layer="logits"),
        Claim("maml_on_task_down", "paper Sec. 5.3",
              "MAML's probe accuracy drops on-task after adaptation (\"both models perform worse in the on-task "
              "regime\").", "mean over seeds of the mean on-task change", "less", ("maml",),
              _probe_change("maml", "on_task_change"), paper="below zero"),
        Claim("maml_off_task_down", "paper Sec. 5.3, Fig. 7",
              "MAML's probe accuracy drops off-task after adaptation.",
              "mean over seeds of the mean off-task change", "less", ("maml",),
              _probe_change("maml", "off_task_change"), _paper("off_task_change_maml"),
              f"{_paper('off_task_change_maml') * 100:+.1f} pp"),
        Claim("metasgd_on_task_down", "paper Sec. 5.3",
              "Meta-SGD's probe accuracy drops on-task after adaptation.",
              "mean over seeds of the mean on-task change", "less", ("metasgd",),
              _probe_change("metasgd", "on_task_change"), paper="below zero"),
        Claim("metasgd_off_task_up", "paper Sec. 5.3, Fig. 7",
              "Meta-SGD's probe accuracy rises off-task after adaptation.",
              "mean over seeds of the mean off-task change", "greater", ("metasgd",),
              _probe_change("metasgd", "off_task_change"), _paper("off_task_change_metasgd"),
              f"{_paper('off_task_change_metasgd') * 100:+.1f} pp"),
        Claim("off_minus_on_ttest", "paper Sec. 5.3",
              "The off-task minus on-task change is higher for Meta-SGD than for MAML (the paper's t-test).",
              "Meta-SGD minus MAML, mean off-minus-on change, paired by seed", "greater", ("maml", "metasgd"),
              _off_minus_on_claim, paper=f"p = {_paper('ttest_p_value'):g}"),
        Claim("metasgd_probe_above_maml", "paper Sec. 5.3, Fig. 7",
              "Meta-SGD's features give a higher probe accuracy than MAML's.",
              "Meta-SGD minus MAML, pre-adaptation probe accuracy, paired by seed", "greater", ("maml", "metasgd"),
              _paired_probe("metasgd", "maml", "pre_adaptation"), paper="above zero (Fig. 7)"),
        Claim("feature_reuse_maml", "paper Sec. 5.3 (Raghu et al. 2020)",
              "Feature reuse: MAML's meta-initialisation without its head or adaptation keeps almost all of its "
              "meta-test accuracy.", "pre-adaptation probe accuracy minus meta-test accuracy on the same tasks",
              "equivalent", ("maml",), _probe_vs_meta_test("maml"), paper="slightly above zero"),
        Claim("feature_reuse_metasgd", "paper Sec. 5.3 (Raghu et al. 2020)",
              "Feature reuse: Meta-SGD's meta-initialisation without its head or adaptation keeps almost all of its "
              "meta-test accuracy.", "pre-adaptation probe accuracy minus meta-test accuracy on the same tasks",
              "equivalent", ("metasgd",), _probe_vs_meta_test("metasgd"), paper="slightly below zero"),
        Claim("second_order_turtle", "thesis Sec. 3.5, Table 3.1",
              "Second-order gradients raise TURTLE's meta-test accuracy over first-order TURTLE "
              f"(miniImageNet 5-way 1-shot {turtle_fo_text}).", "TURTLE minus FO-TURTLE, meta-test accuracy, "
              "paired by seed", "greater", ("turtle", "fo_turtle"), _paired_meta_test("turtle", "fo_turtle"),
              turtle_fo, turtle_fo_pp),
        Claim("second_order_lstm", "thesis Sec. 3.5, Table 3.1",
              "The enhanced (second-order) meta-learner LSTM is more accurate than the original "
              f"({lstm_text}).", "enhanced minus original meta-learner LSTM, meta-test accuracy, paired by seed",
              "greater", ("lstm_meta_plus", "lstm_meta"), _paired_meta_test("lstm_meta_plus", "lstm_meta"), lstm,
              lstm_pp, "accuracy",
              ("the enhanced LSTM also takes raw gradients and makes more updates, so the comparison is not of "
               "the order alone",)),
        Claim("turtle_vs_maml", "thesis Sec. 3.5, Table 3.1",
              f"TURTLE is more accurate than MAML ({turtle_maml_text}; better in half of the settings, competitive "
              "in the rest).", "TURTLE minus MAML, meta-test accuracy, paired by seed", "greater",
              ("turtle", "maml"), _paired_meta_test("turtle", "maml"), turtle_maml, turtle_maml_pp),
    ]
    return out


# --------------------------------------------------------------------------
# Testable at this scale, and the table
# --------------------------------------------------------------------------

def _fmt(x: float, unit: str) -> str:
    return f"{x:.4g}" if unit == "rate" else f"{x * 100:.2f} pp"


def _rates_at_init(data: ClaimData, layer: str, seeds: list[int]) -> str:
    """Why Meta-SGD's rates of ``layer`` cannot carry a claim yet ("" when they have moved
    from their init in every seed)."""
    table = data.rates_vs_init
    rows = data.in_setting(table, "metasgd") if table is not None and len(table) else None
    if rows is None or rows.empty:
        return "no learned-rate values to compare with their initial distribution"
    rows = rows[rows["layer"].astype(str) == layer]
    moved = {int(r.seed): bool(r.moved) for r in rows.itertuples(index=False)}
    still = [s for s in seeds if not moved.get(int(s), False)]
    if not still:
        return ""
    r = rows.iloc[0] if len(rows) else None
    init = f" U[{r['init_low']:g}, {r['init_high']:g}]" if r is not None else ""
    return (f"the {layer} rates of seed{'s' if len(still) > 1 else ''} {', '.join(map(str, still))} are "
            f"indistinguishable from their initial distribution{init} (Kolmogorov-Smirnov, Holm p ≥ {data.alpha:g})")


def not_testable_because(claim: Claim, m: Measured, data: ClaimData, seeds: list[int], mde: float,
                         paper_effect: float) -> list[str]:
    """The conditions of :data:`VERDICT_RULE` under which ``claim`` is not testable at this
    scale, each as a phrase (empty: testable)."""
    reasons = []
    unconverged = describe_unconverged(runs_status(data.convergence, claim.needs, data.setting, seeds))
    if unconverged:
        reasons.append(f"runs not converged: {unconverged}")
    if m.n < 2:
        reasons.append(f"{'one seed' if m.n == 1 else 'no seed'} with a value: no interval over seeds")
    elif not math.isnan(paper_effect) and not (mde <= paper_effect):
        what = "the closeness margin" if claim.direction == "equivalent" else "the paper's effect"
        reasons.append(f"minimum detectable effect {_fmt(mde, claim.unit)} over {m.n} seeds exceeds {what} "
                       f"{_fmt(paper_effect, claim.unit)}")
    if claim.rate_layer is not None:
        at_init = _rates_at_init(data, claim.rate_layer, seeds)
        if at_init:
            reasons.append(at_init)
    return reasons


def _default_setting(data: ClaimData) -> None:
    if data.setting is None:
        settings = [s for df in (data.tasks, data.probe) if "setting" in df.columns for s in df["setting"]]
        if settings:
            data.setting = setting_order(settings)[0]


def claims_table(data: ClaimData, claim_list: list[Claim] | None = None) -> pd.DataFrame:
    """One row per claim: the seed-level statistic with its 95% CI, standard deviation over
    seeds, minimum detectable effect (80% power at ``data.alpha``), raw and Holm p (one
    family: every claim with a p-value), the conditional test beside it, the runs it rests
    on and how many converged, whether it is testable at this scale (and why not), and the
    verdict. Testable claims come first, then those not testable, then those not run, each
    group in the order of ``claim_list``.

    ``data.setting`` None: the first setting of the data (the paper's 5-way 1-shot comes
    first in the default configuration)."""
    _default_setting(data)
    present = data.algorithms()
    rows = []
    for c in claim_list if claim_list is not None else claims():
        row = {"id": c.id, "source": c.source, "claim": c.text, "paper": c.paper, "paper_value": c.paper_value,
               "paper_effect": c.paper_effect(data.margin), "statistic": c.statistic, "unit": c.unit,
               "setting": data.setting, "direction": c.direction, "n_seeds": 0, "runs": 0, "runs_converged": 0,
               "testable": False, "not_testable_because": "", "conditional_test": ""}
        missing = [a for a in c.needs if a not in present]
        if missing:
            rows.append({**row, "verdict": NOT_RUN, "note": f"not configured: {', '.join(missing)}"})
            continue
        m = c.measure(data)
        seeds = data.seeds(c.needs)
        effect = row["paper_effect"] if m.paper_effect is None else m.paper_effect
        mde = min_detectable_effect(m.sd, m.n, data.alpha, POWER)
        statuses = runs_status(data.convergence, c.needs, data.setting, seeds)
        reasons = not_testable_because(c, m, data, seeds, mde, effect)
        notes = [m.note, *c.notes]
        if math.isnan(effect):
            notes.append("the paper gives no number for this statistic: its minimum detectable effect is not "
                         "compared")
        row.update(paper_effect=effect, estimate=m.estimate, ci95_low=m.low, ci95_high=m.high, sd_seeds=m.sd,
                   n_seeds=m.n, mde=mde, p_value=m.p_value, runs=len(statuses),
                   runs_converged=sum(s == "converged" for _, _, s in statuses), testable=not reasons,
                   not_testable_because="; ".join(reasons), note="; ".join(filter(None, notes)))
        if m.conditional is not None:
            k = m.conditional
            row.update(conditional_test=f"{k.test} (these networks)", conditional_estimate=k.estimate,
                       conditional_ci95_low=k.low, conditional_ci95_high=k.high, conditional_p=k.p_value,
                       conditional_n=k.n)
        rows.append(row)
    out = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    out["p_holm"] = holm(out["p_value"].astype(float))
    out["verdict"] = [r["verdict"] if r["verdict"] == NOT_RUN else NOT_TESTABLE if not r["testable"] else
                      verdict(r["direction"], r["ci95_low"], r["ci95_high"], r["p_holm"], alpha=data.alpha,
                              margin=data.margin) for _, r in out.iterrows()]
    group = out["verdict"].map(lambda v: 2 if v == NOT_RUN else 1 if v == NOT_TESTABLE else 0)
    out = out.assign(_group=group).sort_values("_group", kind="stable").drop(columns="_group")
    return out.astype({"testable": bool}).reset_index(drop=True)
