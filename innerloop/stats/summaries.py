"""Tables the report shows, computed from the per-run result tables.

Every summary is per algorithm and, where the frame has a ``setting`` column (``"5w1s"``),
per setting: runs of different settings are never pooled. Rows of runs that diverged in
training (``status`` column ``diverged``, NaN metrics; :mod:`innerloop.divergence`) are
left out of every mean and interval; the report lists those runs on their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from innerloop.catalog import DISPLAY_NAMES
from innerloop.divergence import drop_diverged
from innerloop.intervals import mean_ci
from innerloop.stats.order import GROUP_LABELS, algorithm_group, algorithm_order, setting_order

PROBE_PHASES = ["pre_adaptation", "on_task", "off_task"]
PROBE_CHANGES = ["on_task_change", "off_task_change", "off_minus_on"]
#: The columns in front of every per-run table (``innerloop.runs.RUN_COLUMNS``, written by ``RunId.tag``).
RUN_IDENTITY = ["dataset", "algorithm", "setting", "ways", "shots", "seed"]
LR_LAYER_COLUMNS = ["layer", "mean", "std", "median", "fraction_negative", "n"]
LR_TABLE_COLUMNS = ["algorithm", "setting", "layer", "mean", "std", "median", "fraction_negative", "n_seeds",
                    "mean_ci95_low", "mean_ci95_high"]
TTEST_COLUMNS = ["comparison", "setting", "statistic", "df", "p_value", "test", "n_a", "n_b", "mean_a", "mean_b"]
VS_REFERENCE_COLUMNS = ["algorithm", "setting", "reference", "n", "mean", "ci95_low", "ci95_high", "difference",
                        "difference_ci95_low", "difference_ci95_high", "p_value", "test"]


def _ci_row(values, **keys) -> dict:
    ci = mean_ci(values)
    return {**keys, "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high, "n": ci.n}


def _by(df: pd.DataFrame) -> list[str]:
    """Grouping columns of a summary: algorithm, and setting where the frame has one."""
    return ["algorithm", "setting"] if "setting" in df.columns else ["algorithm"]


def _groups(df: pd.DataFrame):
    """``(keys dict, group)`` per algorithm (and setting), in table order."""
    by = _by(df)
    rank = {a: i for i, a in enumerate(algorithm_order(df["algorithm"]))}
    srank = {s: i for i, s in enumerate(setting_order(df["setting"]))} if "setting" in by else {}
    groups = [(dict(zip(by, k)), g) for k, g in df.groupby(by, sort=False)]
    return sorted(groups, key=lambda kg: (rank[str(kg[0]["algorithm"])], srank.get(str(kg[0].get("setting")), 0)))


def meta_test_runs(tasks: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean meta-test accuracy over its tasks with the 95% t-interval
    (``tasks``: the run identity columns, task, accuracy)."""
    tasks = drop_diverged(tasks)
    identity = [c for c in tasks.columns if c not in ("task", "accuracy")]
    rows = []
    for keys, g in tasks.groupby(identity, sort=False):
        ci = mean_ci(g["accuracy"])
        rows.append({**dict(zip(identity, keys)), "accuracy": ci.mean, "ci95_low": ci.low,
                     "ci95_high": ci.high, "n_tasks": ci.n})
    return pd.DataFrame(rows)


def meta_test_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and setting: mean and median over seeds of the per-run meta-test
    accuracy, and the 95% Student-t interval of the mean over seeds,
    ``mean +- t_{0.975, n-1} s / sqrt(n)`` (``s``: standard deviation of the per-seed
    accuracies; NaN with one seed) with its half-width (``runs``: algorithm, setting,
    seed, accuracy)."""
    runs = drop_diverged(runs)
    rows = []
    for keys, g in _groups(runs):
        row = _ci_row(g["accuracy"], **keys)
        row["median"] = float(np.median(g["accuracy"]))
        row["n_seeds"] = row.pop("n")
        row["ci95_half_width"] = (row["ci95_high"] - row["ci95_low"]) / 2
        rows.append(row)
    return pd.DataFrame(rows, columns=["algorithm", "setting", "n_seeds", "mean", "median", "ci95_low", "ci95_high",
                                       "ci95_half_width"])


def meta_test_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Huisman's Tables 3.1-3.3 layout of :func:`meta_test_summary`: one row per algorithm
    (transfer baselines, then meta-learners), and per setting (by ways, then shots) the
    columns ``{setting}_median``, ``{setting}_ci95_half_width`` (of the t-interval over
    seeds), ``{setting}_n_seeds`` and ``{setting}_best`` (the highest median of the
    column; ties are all best). A setting an algorithm was not run in is NaN / 0 / False.
    """
    settings = setting_order(summary["setting"])
    cells = summary.assign(algorithm=summary["algorithm"].astype(str), setting=summary["setting"].astype(str))
    cells = cells.set_index(["algorithm", "setting"])
    rows = []
    for alg in algorithm_order(summary["algorithm"]):
        row = {"group": GROUP_LABELS[algorithm_group(alg)], "algorithm": alg, "name": DISPLAY_NAMES.get(alg, alg)}
        for s in settings:
            r = cells.loc[(alg, s)] if (alg, s) in cells.index else None
            row[f"{s}_median"] = float(r["median"]) if r is not None else np.nan
            row[f"{s}_ci95_half_width"] = float(r["ci95_half_width"]) if r is not None else np.nan
            row[f"{s}_n_seeds"] = int(r["n_seeds"]) if r is not None else 0
            row[f"{s}_best"] = False
        rows.append(row)
    table = pd.DataFrame(rows)
    for s in settings:
        medians = table[f"{s}_median"]
        table[f"{s}_best"] = medians.notna() & (medians == medians.max())
    return table


def lr_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """The study's Table 1 over seeds, per rate-learning algorithm (and setting) and layer
    (``per_seed``: algorithm, [setting,] seed, layer, mean, std, median,
    fraction_negative): each statistic averaged over seeds, plus a 95% t-interval over
    seeds of the layer mean. No rows (and the same columns) when no algorithm learns rates."""
    per_seed = drop_diverged(per_seed)
    rows = []
    if len(per_seed):
        for keys, g in _groups(per_seed):
            for layer, lg in g.groupby("layer", sort=False):
                ci = mean_ci(lg["mean"])
                rows.append({**keys, "layer": layer, "mean": ci.mean, "std": lg["std"].mean(),
                             "median": lg["median"].mean(), "fraction_negative": lg["fraction_negative"].mean(),
                             "n_seeds": ci.n, "mean_ci95_low": ci.low, "mean_ci95_high": ci.high})
    out = pd.DataFrame(rows, columns=LR_TABLE_COLUMNS)
    return out if "setting" in per_seed.columns else out.drop(columns="setting")


def with_off_minus_on(probe: pd.DataFrame) -> pd.DataFrame:
    """Adds the per-iteration relative change the paper's t-test compares."""
    return probe.assign(off_minus_on=probe["off_task_change"] - probe["on_task_change"])


def probe_summary(probe: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm (and setting) and phase (pre-adaptation, on-task, off-task): mean
    accuracy with its 95% t-interval over all probe iterations of all seeds."""
    probe = drop_diverged(probe)
    rows = [_ci_row(g[phase], **keys, phase=phase) for keys, g in _groups(probe) for phase in PROBE_PHASES]
    return pd.DataFrame(rows)


def probe_changes(probe: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm (and setting): mean on-task change, off-task change and their
    difference, with 95% t-intervals over all probe iterations of all seeds."""
    probe = drop_diverged(probe)
    probe = with_off_minus_on(probe)
    rows = [_ci_row(g[change], **keys, change=change) for keys, g in _groups(probe) for change in PROBE_CHANGES]
    return pd.DataFrame(rows)


def _settings(probe: pd.DataFrame) -> list:
    return setting_order(probe["setting"]) if "setting" in probe.columns else [None]


def _in_setting(probe: pd.DataFrame, algorithm: str, setting) -> pd.DataFrame:
    mask = probe["algorithm"].astype(str) == algorithm
    if setting is not None:
        mask &= probe["setting"].astype(str) == setting
    return probe[mask]


def probe_ttest(probe: pd.DataFrame, a: str = "maml", b: str = "metasgd") -> pd.DataFrame:
    """The study's test: Welch's t-test of the per-iteration relative change
    (off-task change minus on-task change) of algorithm ``a`` against ``b``, per setting.

    No rows (the columns of :data:`TTEST_COLUMNS`) when ``a`` or ``b`` was not run in a setting.
    """
    probe = drop_diverged(probe)
    probe = with_off_minus_on(probe)
    rows = []
    for setting in _settings(probe):
        x = _in_setting(probe, a, setting)["off_minus_on"].to_numpy()
        y = _in_setting(probe, b, setting)["off_minus_on"].to_numpy()
        if len(x) == 0 or len(y) == 0:
            continue
        if len(x) < 2 or len(y) < 2:
            raise ValueError(f"probe t-test needs >= 2 iterations of {a!r} and {b!r}, got {len(x)} and {len(y)}")
        result = stats.ttest_ind(x, y, equal_var=False)
        rows.append({"comparison": f"{a} vs {b}", "setting": setting, "statistic": float(result.statistic),
                     "df": float(result.df), "p_value": float(result.pvalue),
                     "test": "Welch two-sample t-test on off_minus_on", "n_a": len(x), "n_b": len(y),
                     "mean_a": float(x.mean()), "mean_b": float(y.mean())})
    return pd.DataFrame(rows, columns=TTEST_COLUMNS)


def _difference(x: pd.DataFrame, ref: pd.DataFrame) -> dict:
    """Mean difference of ``off_minus_on`` (x - ref), its 95% CI and p-value.

    Paired t-test when both have exactly the same (seed, iteration) pairs (every run is
    probed on the same task sequence, so pair i of seed s saw the same tasks); Welch's
    t-test otherwise.
    """
    keys = ["seed", "iteration"]
    if all(k in x.columns and k in ref.columns for k in keys) and len(x) == len(ref) \
            and not x.duplicated(keys).any() and not ref.duplicated(keys).any():
        merged = x[keys + ["off_minus_on"]].merge(ref[keys + ["off_minus_on"]], on=keys, suffixes=("", "_ref"))
        if len(merged) == len(x):
            d = (merged["off_minus_on"] - merged["off_minus_on_ref"]).to_numpy()
            ci = mean_ci(d)
            if np.allclose(d, d[0], rtol=1e-9, atol=1e-12):  # constant differences: t is 0 or infinite
                p = 1.0 if d[0] == 0 else 0.0
            else:
                p = float(stats.ttest_rel(merged["off_minus_on"], merged["off_minus_on_ref"]).pvalue)
            return {"difference": ci.mean, "difference_ci95_low": ci.low, "difference_ci95_high": ci.high,
                    "p_value": p, "test": "paired t-test over (seed, iteration)"}
    result = stats.ttest_ind(x["off_minus_on"], ref["off_minus_on"], equal_var=False)
    interval = result.confidence_interval(0.95)
    return {"difference": float(x["off_minus_on"].mean() - ref["off_minus_on"].mean()),
            "difference_ci95_low": float(interval.low), "difference_ci95_high": float(interval.high),
            "p_value": float(result.pvalue), "test": "Welch two-sample t-test"}


def probe_vs_reference(probe: pd.DataFrame, reference: str = "maml") -> pd.DataFrame:
    """Per algorithm (and setting): its mean off-task minus on-task change with the 95%
    t-interval, and its difference from ``reference`` (MAML) with a 95% CI and p-value
    (see :func:`_difference`). The difference columns are NaN for the reference itself
    and where the reference was not run."""
    probe = drop_diverged(probe)
    probe = with_off_minus_on(probe)
    rows = []
    for keys, g in _groups(probe):
        row = {"reference": reference, **_ci_row(g["off_minus_on"], **keys)}
        ref = _in_setting(probe, reference, keys.get("setting"))
        diff = dict.fromkeys(VS_REFERENCE_COLUMNS[-5:], np.nan)
        diff["test"] = ""
        if str(keys["algorithm"]) != reference and len(ref) >= 2 and len(g) >= 2:
            diff = _difference(g, ref)
        rows.append({**row, **diff})
    out = pd.DataFrame(rows, columns=VS_REFERENCE_COLUMNS)
    return out if "setting" in probe.columns else out.drop(columns="setting")
