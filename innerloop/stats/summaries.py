"""Tables the report shows, computed from the per-run result tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from innerloop.stats.intervals import mean_ci

PROBE_PHASES = ["pre_adaptation", "on_task", "off_task"]
PROBE_CHANGES = ["on_task_change", "off_task_change", "off_minus_on"]


def _ci_row(values, **keys) -> dict:
    ci = mean_ci(values)
    return {**keys, "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high, "n": ci.n}


def meta_test_runs(tasks: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean meta-test accuracy over its tasks with the 95% t-interval
    (``tasks``: the run identity columns, task, accuracy)."""
    identity = [c for c in tasks.columns if c not in ("task", "accuracy")]
    rows = []
    for keys, g in tasks.groupby(identity, sort=False):
        ci = mean_ci(g["accuracy"])
        rows.append({**dict(zip(identity, keys)), "accuracy": ci.mean, "ci95_low": ci.low,
                     "ci95_high": ci.high, "n_tasks": ci.n})
    return pd.DataFrame(rows)


def meta_test_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and setting: mean, median and 95% t-interval over seeds of the
    per-run meta-test accuracy (``runs``: algorithm, setting, seed, accuracy)."""
    rows = []
    for (algorithm, setting), g in runs.groupby(["algorithm", "setting"], sort=False):
        row = _ci_row(g["accuracy"], algorithm=algorithm, setting=setting)
        row["median"] = float(np.median(g["accuracy"]))
        row["n_seeds"] = row.pop("n")
        rows.append(row)
    return pd.DataFrame(rows, columns=["algorithm", "setting", "n_seeds", "mean", "median", "ci95_low", "ci95_high"])


def lr_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """The study's Table 1 over seeds (``per_seed``: seed, layer, mean, std, median,
    fraction_negative): each statistic averaged over seeds, plus a 95% t-interval over
    seeds of the layer mean."""
    rows = []
    for layer, g in per_seed.groupby("layer", sort=False):
        ci = mean_ci(g["mean"])
        rows.append({"layer": layer, "mean": ci.mean, "std": g["std"].mean(), "median": g["median"].mean(),
                     "fraction_negative": g["fraction_negative"].mean(), "n_seeds": ci.n,
                     "mean_ci95_low": ci.low, "mean_ci95_high": ci.high})
    return pd.DataFrame(rows)


def with_off_minus_on(probe: pd.DataFrame) -> pd.DataFrame:
    """Adds the per-iteration relative change the paper's t-test compares."""
    return probe.assign(off_minus_on=probe["off_task_change"] - probe["on_task_change"])


def probe_summary(probe: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and phase (pre-adaptation, on-task, off-task): mean accuracy with its
    95% t-interval over all probe iterations of all seeds."""
    rows = [_ci_row(g[phase], algorithm=algorithm, phase=phase)
            for algorithm, g in probe.groupby("algorithm", sort=False) for phase in PROBE_PHASES]
    return pd.DataFrame(rows)


def probe_changes(probe: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: mean on-task change, off-task change and their difference, with CIs."""
    probe = with_off_minus_on(probe)
    rows = [_ci_row(g[change], algorithm=algorithm, change=change)
            for algorithm, g in probe.groupby("algorithm", sort=False) for change in PROBE_CHANGES]
    return pd.DataFrame(rows)


def probe_ttest(probe: pd.DataFrame, a: str = "maml", b: str = "metasgd") -> pd.DataFrame:
    """The study's test: Welch's t-test of the per-iteration relative change
    (off-task change minus on-task change) of algorithm ``a`` against ``b``."""
    probe = with_off_minus_on(probe)
    x = probe.loc[probe["algorithm"] == a, "off_minus_on"].to_numpy()
    y = probe.loc[probe["algorithm"] == b, "off_minus_on"].to_numpy()
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"probe t-test needs >= 2 iterations of {a!r} and {b!r}, got {len(x)} and {len(y)}")
    result = stats.ttest_ind(x, y, equal_var=False)
    return pd.DataFrame([{"comparison": f"{a} vs {b}", "statistic": float(result.statistic),
                          "df": float(result.df), "p_value": float(result.pvalue),
                          "test": "Welch two-sample t-test on off_minus_on", "n_a": len(x), "n_b": len(y),
                          "mean_a": float(x.mean()), "mean_b": float(y.mean())}])
