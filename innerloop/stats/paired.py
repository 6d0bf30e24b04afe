"""Paired comparisons between algorithms, a mixed model over seeds and tasks, and the
one-sample tests of the learned learning rates.

Every run is evaluated on the same meta-test tasks and probed on the same task sequence
(both fixed by the evaluation seed), so an algorithm and its reference are paired by
(seed, task) on the meta-test and by (seed, iteration) in the probe. Per comparison: the
mean difference (algorithm minus reference) with its 95% t-interval, the paired t-test,
the Wilcoxon signed-rank test, Cohen's d_z (mean difference over the standard deviation
of the differences), and the Holm-adjusted t-test p-value over the comparisons of one
family (one table, one setting). A coarser view pairs the per-seed means: its interval
is over seeds.

Tests over (seed, task) or (seed, iteration) units are conditional on the trained
networks: they say whether these networks differ on these tasks, not whether the
algorithms do. The claims are inferred over seeds (:mod:`innerloop.stats.claims`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from innerloop.intervals import mean_ci
from innerloop.stats.order import algorithm_order, setting_order
from innerloop.stats.summaries import with_off_minus_on

#: The thesis' second-order comparisons (Huisman Tables 3.1, 3.4): (second order, first order).
SECOND_ORDER_PAIRS: tuple[tuple[str, str], ...] = (("turtle", "fo_turtle"), ("lstm_meta_plus", "lstm_meta"))

PAIRED_COLUMNS = ["family", "measure", "algorithm", "reference", "setting", "n_pairs", "mean_algorithm",
                  "mean_reference", "difference", "difference_ci95_low", "difference_ci95_high", "t_statistic",
                  "df", "p_t", "wilcoxon_statistic", "p_wilcoxon", "cohens_dz", "p_holm", "significant_holm",
                  "n_seeds", "seed_difference_ci95_low", "seed_difference_ci95_high"]
MIXED_COLUMNS = ["response", "setting", "term", "algorithm", "estimate", "std_error", "ci95_low", "ci95_high",
                 "p_value", "n_obs", "n_seeds", "n_tasks", "model", "converged", "note"]
LR_TEST_COLUMNS = ["algorithm", "setting", "layer", "n_seeds", "mean", "ci95_low", "ci95_high", "t_statistic",
                   "p_t_less", "wilcoxon_statistic", "p_wilcoxon_less", "p_holm", "below_zero_holm"]


# --------------------------------------------------------------------------
# One paired comparison, and Holm over a family
# --------------------------------------------------------------------------

def paired_test(x, y) -> dict:
    """Paired comparison of ``x`` with ``y`` (equal-length samples, element i of both
    measured on the same unit): ``n_pairs``, ``difference`` (mean of x - y) with its 95%
    t-interval, the paired t-test (``t_statistic``, ``df``, ``p_t``), the Wilcoxon
    signed-rank test (``wilcoxon_statistic``, ``p_wilcoxon``; zero differences dropped,
    p = 1 when every difference is zero) and Cohen's d_z. With constant non-zero
    differences t and d_z are infinite and p_t is 0; with fewer than two pairs the
    interval, tests and d_z are NaN."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired_test needs two 1-D samples of one length, got shapes {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("paired_test got no pairs")
    d = x - y
    ci = mean_ci(d)
    out = {"n_pairs": int(d.size), "mean_algorithm": float(x.mean()), "mean_reference": float(y.mean()),
           "difference": ci.mean, "difference_ci95_low": ci.low, "difference_ci95_high": ci.high,
           "t_statistic": math.nan, "df": math.nan, "p_t": math.nan, "wilcoxon_statistic": math.nan,
           "p_wilcoxon": math.nan, "cohens_dz": math.nan}
    if d.size < 2:
        return out
    out["df"] = float(d.size - 1)
    sd = float(d.std(ddof=1))
    if sd == 0.0:  # constant differences: t is 0 or infinite (scipy would return NaN)
        mean = float(d[0])
        out.update(t_statistic=0.0 if mean == 0 else math.copysign(math.inf, mean), p_t=1.0 if mean == 0 else 0.0,
                   cohens_dz=0.0 if mean == 0 else math.copysign(math.inf, mean))
    else:
        t = stats.ttest_rel(x, y)
        out.update(t_statistic=float(t.statistic), p_t=float(t.pvalue), cohens_dz=float(d.mean() / sd))
    if np.all(d == 0):
        out.update(wilcoxon_statistic=0.0, p_wilcoxon=1.0)
    else:
        w = stats.wilcoxon(x, y, zero_method="wilcox")
        out.update(wilcoxon_statistic=float(w.statistic), p_wilcoxon=float(w.pvalue))
    return out


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels ``multipletests``); NaN entries stay NaN and do
    not count towards the family size."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def _add_holm(rows: list[dict], alpha: float) -> list[dict]:
    adjusted = holm([r["p_t"] for r in rows])
    for r, p in zip(rows, adjusted):
        r["p_holm"] = float(p)
        r["significant_holm"] = bool(p < alpha) if not np.isnan(p) else False
    return rows


# --------------------------------------------------------------------------
# Families of comparisons
# --------------------------------------------------------------------------

def _settings(df: pd.DataFrame) -> list:
    return setting_order(df["setting"]) if "setting" in df.columns else [None]


def _of(df: pd.DataFrame, algorithm: str, setting) -> pd.DataFrame:
    mask = df["algorithm"].astype(str) == algorithm
    if setting is not None:
        mask &= df["setting"].astype(str) == str(setting)
    return df[mask]


def compare_pairs(df: pd.DataFrame, value: str, unit: Sequence[str], pairs: Sequence[tuple[str, str]], *,
                  family: str, alpha: float = 0.05) -> list[dict]:
    """One row per (algorithm, reference) pair of ``pairs`` and per setting in which both
    were run: :func:`paired_test` of ``value`` over the units both have (``unit``, e.g.
    ``["seed", "task"]``, must identify a row within a run), the same on the per-seed
    means (``seed_difference_ci95_*``), and Holm over the family (per setting)."""
    missing = [c for c in ["algorithm", "seed", value, *unit] if c not in df.columns]
    if missing:
        raise ValueError(f"paired comparison of {value!r}: the table has no column(s) {missing}")
    rows = []
    for setting in _settings(df):
        family_rows = []
        for algorithm, reference in pairs:
            a, r = _of(df, algorithm, setting), _of(df, reference, setting)
            if a.empty or r.empty:
                continue
            for name, g in (("algorithm", a), ("reference", r)):
                if g.duplicated(list(unit)).any():
                    raise ValueError(f"{family}: {name} {g['algorithm'].iloc[0]!r} has repeated {list(unit)} "
                                     "units; they cannot be paired")
            m = a[list(unit) + [value]].merge(r[list(unit) + [value]], on=list(unit), suffixes=("", "_ref"))
            if m.empty:
                continue
            row = {"family": family, "measure": value, "algorithm": algorithm, "reference": reference,
                   "setting": setting, **paired_test(m[value], m[f"{value}_ref"])}
            seeds = m.groupby("seed")[[value, f"{value}_ref"]].mean()
            seed_ci = mean_ci((seeds[value] - seeds[f"{value}_ref"]).to_numpy())
            row.update(n_seeds=int(len(seeds)), seed_difference_ci95_low=seed_ci.low,
                       seed_difference_ci95_high=seed_ci.high)
            family_rows.append(row)
        rows += _add_holm(family_rows, alpha)
    return rows


def _frame(rows: list[dict], df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    return out if "setting" in df.columns else out.drop(columns="setting")


def paired_meta_test(tasks: pd.DataFrame, reference: str = "maml",
                     extra_pairs: Sequence[tuple[str, str]] = SECOND_ORDER_PAIRS, alpha: float = 0.05) -> pd.DataFrame:
    """Per-task meta-test accuracy (``tasks``: algorithm, [setting,] seed, task, accuracy)
    paired by (seed, task): every algorithm against ``reference`` (family
    ``"vs <reference>"``), and the ``extra_pairs`` (family ``"second order"``: the
    thesis' second-order against first-order variants), each family Holm-corrected."""
    algorithms = [a for a in algorithm_order(tasks["algorithm"]) if a != reference]
    rows = compare_pairs(tasks, "accuracy", ["seed", "task"], [(a, reference) for a in algorithms],
                         family=f"vs {reference}", alpha=alpha)
    rows += compare_pairs(tasks, "accuracy", ["seed", "task"], list(extra_pairs), family="second order", alpha=alpha)
    return _frame(rows, tasks)


def paired_probe(probe: pd.DataFrame, reference: str = "maml", measures: Sequence[str] = ("off_minus_on",),
                 alpha: float = 0.05) -> pd.DataFrame:
    """Probe iterations (``probe``: algorithm, [setting,] seed, iteration, the probe's
    accuracies and changes) paired by (seed, iteration), every algorithm against
    ``reference``; one Holm family per measure (``off_minus_on``: off-task change minus
    on-task change, the quantity of the paper's t-test; or any probe column, e.g.
    ``pre_adaptation``)."""
    probe = with_off_minus_on(probe)
    algorithms = [a for a in algorithm_order(probe["algorithm"]) if a != reference]
    rows = []
    for measure in measures:
        rows += compare_pairs(probe, measure, ["seed", "iteration"], [(a, reference) for a in algorithms],
                              family=f"{measure} vs {reference}", alpha=alpha)
    return _frame(rows, probe)


# --------------------------------------------------------------------------
# Mixed model
# --------------------------------------------------------------------------

def _fit(model, **kwargs):
    """Fit, returning (result, list of warning messages); exceptions propagate."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(**kwargs)
    return result, [str(w.message).split("\n")[0] for w in caught]


def mixed_model(df: pd.DataFrame, value: str = "accuracy", unit: Sequence[str] = ("seed", "task"),
                reference: str = "maml", alpha: float = 0.05) -> pd.DataFrame:
    """Per setting, a linear mixed model (statsmodels ``MixedLM``, REML) of ``value``
    (per-task meta-test accuracy by default; e.g. the probe's ``off_minus_on`` change with
    ``unit=("seed", "iteration")``): ``value ~ C(algorithm, Treatment(reference))`` with a
    random intercept per ``unit``, what every algorithm is evaluated on. Rows: the
    intercept (``reference``'s mean), one coefficient per other algorithm (its difference
    from ``reference``) with 95% Wald intervals and p-values, and the variance estimates
    of the unit intercept and the residual (``term`` ``var:<unit>`` and ``var:residual``,
    no CI); ``response`` names ``value``.

    The unit intercept is a simplification of a seed random intercept with a task-in-seed
    variance component: units are nested in seeds, so seed-to-seed variation of the task
    set's difficulty is part of the unit variance, while variation of an algorithm's
    training between seeds is left in the residual (see the per-seed intervals of
    :func:`paired_meta_test`). The full model, three groups with a 200-level variance
    component each, took over a minute on two CPU cores and did not converge on
    simulated data of the default run's size.

    When the fit fails or the optimiser reports no convergence, ordinary least squares
    with unit-clustered standard errors is fitted instead; ``model`` names what was
    fitted, ``converged`` says whether the mixed model converged and ``note`` lists the
    warnings it raised (e.g. an estimate on the boundary, a zero unit variance). No rows
    for a setting without ``reference``; ``n_tasks`` counts the levels of the unit's
    second column."""
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLM

    unit = list(unit)
    unit_name = ", ".join(unit)
    rows = []
    for setting in _settings(df):
        data = df if setting is None else df[df["setting"].astype(str) == str(setting)]
        if reference not in set(data["algorithm"].astype(str)):
            continue
        data = data[data[value].notna()]
        data = data.assign(algorithm=data["algorithm"].astype(str), response=data[value],
                           unit=data[unit].astype(str).agg(":".join, axis=1)).reset_index(drop=True)
        formula = f"response ~ C(algorithm, Treatment({reference!r}))"
        name, notes, converged, result = f"MixedLM, ({unit_name}) random intercept", [], False, None
        try:
            result, caught = _fit(smf.mixedlm(formula, data, groups="unit"), reml=True)
            converged = bool(result.converged) and bool(np.all(np.isfinite(result.bse)))
            notes = list(dict.fromkeys(caught))
        except (np.linalg.LinAlgError, ValueError) as error:
            notes = [f"fit failed: {error}"]
        if not converged:
            name = f"OLS, ({unit_name})-clustered standard errors (MixedLM did not converge)"
            result = smf.ols(formula, data).fit(cov_type="cluster",
                                                cov_kwds={"groups": pd.factorize(data["unit"])[0]})
        conf = result.conf_int(alpha=alpha)
        base = {"response": value, "setting": setting, "n_obs": int(len(data)),
                "n_seeds": int(data["seed"].nunique()), "n_tasks": int(data[unit[-1]].nunique()), "model": name,
                "converged": converged, "note": "; ".join(notes)}
        prefix = f"C(algorithm, Treatment({reference!r}))[T."
        for term in result.model.exog_names:
            algorithm = reference if term == "Intercept" else term[len(prefix):-1] if term.startswith(prefix) else ""
            rows.append({**base, "term": term, "algorithm": algorithm, "estimate": float(result.params[term]),
                         "std_error": float(result.bse[term]), "ci95_low": float(conf.loc[term, 0]),
                         "ci95_high": float(conf.loc[term, 1]), "p_value": float(result.pvalues[term])})
        if isinstance(result.model, MixedLM):
            for term, estimate in ((f"var:{':'.join(unit)}", float(result.cov_re.iloc[0, 0])),
                                   ("var:residual", float(result.scale))):
                rows.append({**base, "term": term, "algorithm": "", "estimate": estimate, "std_error": math.nan,
                             "ci95_low": math.nan, "ci95_high": math.nan, "p_value": math.nan})
    out = pd.DataFrame(rows, columns=MIXED_COLUMNS)
    return out if "setting" in df.columns else out.drop(columns="setting")


def mixed_models(tasks: pd.DataFrame, probe: pd.DataFrame, reference: str = "maml",
                 alpha: float = 0.05) -> pd.DataFrame:
    """The mixed models of the report, one after the other in one table: per-task meta-test
    accuracy (units: seed, task) and the probe's off-task minus on-task change, the
    quantity of the paper's t-test (units: seed, iteration; ``probe`` as
    :func:`paired_probe` takes it)."""
    probe = with_off_minus_on(probe)
    return pd.concat([mixed_model(tasks, "accuracy", ("seed", "task"), reference, alpha),
                      mixed_model(probe, "off_minus_on", ("seed", "iteration"), reference, alpha)],
                     ignore_index=True)


# --------------------------------------------------------------------------
# Learned learning rates below zero
# --------------------------------------------------------------------------

def lr_below_zero(per_seed: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per learned quantity (:func:`innerloop.stats.rates.rate_quantities`: Meta-SGD's
    layers, Alpha-MAML's one scalar alpha; TURTLE's output scale is left out) and setting:
    whether the mean learned rate is below zero, over seeds (``per_seed``: algorithm,
    [setting,] seed, layer, mean — each seed's mean learned rate of the layer). One-sided
    one-sample t-test and Wilcoxon signed-rank test (alternative: below zero), the
    two-sided 95% t-interval of the mean over seeds, and Holm over all rows: one test per
    learned quantity. With three seeds the Wilcoxon test cannot go below p = 0.125. No
    rows (the same columns) when no algorithm learns rates."""
    from innerloop.stats.rates import rate_quantities

    per_seed = rate_quantities(per_seed)
    rows = []
    by = ["algorithm", "setting"] if "setting" in per_seed.columns else ["algorithm"]
    if len(per_seed):
        rank = {a: i for i, a in enumerate(algorithm_order(per_seed["algorithm"]))}
        groups = sorted(per_seed.groupby(by, sort=False), key=lambda kg: rank[str(kg[0][0])])
        for keys, g in groups:
            for layer, lg in g.groupby("layer", sort=False):
                x = lg["mean"].to_numpy(dtype=float)
                ci = mean_ci(x)
                row = {**dict(zip(by, keys)), "layer": layer, "n_seeds": ci.n, "mean": ci.mean, "ci95_low": ci.low,
                       "ci95_high": ci.high, "t_statistic": math.nan, "p_t_less": math.nan,
                       "wilcoxon_statistic": math.nan, "p_wilcoxon_less": math.nan}
                if x.size >= 2 and x.std(ddof=1) > 0:
                    t = stats.ttest_1samp(x, 0.0, alternative="less")
                    row.update(t_statistic=float(t.statistic), p_t_less=float(t.pvalue))
                if x.size >= 1 and np.any(x != 0):
                    w = stats.wilcoxon(x, alternative="less")
                    row.update(wilcoxon_statistic=float(w.statistic), p_wilcoxon_less=float(w.pvalue))
                rows.append(row)
    rows = _add_holm([{**r, "p_t": r["p_t_less"]} for r in rows], alpha)
    for r in rows:
        r["below_zero_holm"] = r.pop("significant_holm")
        del r["p_t"]
    out = pd.DataFrame(rows, columns=LR_TEST_COLUMNS)
    return out if "setting" in per_seed.columns else out.drop(columns="setting")
