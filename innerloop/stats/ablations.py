"""The ablations' tables: paired comparisons of each variant with its reference.

Statistics over the result tables of :mod:`innerloop.evaluation.ablations` (learned-rate
signs, test-time procedures, the inner-steps sweep, the convergence grid): each variant's
mean with its 95% t-interval and its paired difference from the reference variant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from innerloop.evaluation.ablations import CONVERGENCE_METHODS
from innerloop.evaluation.learning_rates import LAYERS
from innerloop.intervals import mean_ci
from innerloop.stats.summaries import with_off_minus_on

PAIRED_COLUMNS = ["n", "mean", "ci95_low", "ci95_high", "difference", "difference_ci95_low",
                  "difference_ci95_high", "statistic", "p_value", "test"]


# -- paired statistics -----------------------------------------------------------------------
def paired_vs_reference(df: pd.DataFrame, *, by: Sequence[str], variant: str, reference: str, value: str,
                        pair: Sequence[str]) -> pd.DataFrame:
    """Per group of ``by`` and value of column ``variant``: mean of ``value`` with its 95%
    t-interval, and its difference from the ``reference`` variant paired on ``pair`` (the
    same seed and task / iteration): mean difference with a 95% t-interval and the paired
    t-test (scipy ``ttest_rel``). The reference's own row has NaN differences.

    Raises ``ValueError`` when a variant's pairs differ from the reference's.
    """
    rows = []
    by = list(by)
    groups = df.groupby(by, sort=False) if by else [((), df)]
    for keys, g in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        ref = g[g[variant] == reference].set_index(list(pair))[value]
        for name, v in g.groupby(variant, sort=False):
            x = v.set_index(list(pair))[value]
            ci = mean_ci(x.to_numpy())
            row = {**dict(zip(by, keys)), variant: name, "reference": reference, "n": ci.n, "mean": ci.mean,
                   "ci95_low": ci.low, "ci95_high": ci.high}
            diff = dict.fromkeys(PAIRED_COLUMNS[4:], np.nan)
            diff["test"] = ""
            if name != reference and len(ref):
                if set(x.index) != set(ref.index) or len(x) != len(ref):
                    raise ValueError(f"{variant}={name!r} in {dict(zip(by, keys))} is not paired with {reference!r} "
                                     f"on {list(pair)}: different {value} rows")
                d = (x - ref.loc[x.index]).to_numpy()
                dci = mean_ci(d)
                if len(d) < 2 or np.allclose(d, d[0], rtol=0, atol=1e-12):
                    statistic, p = np.nan, (1.0 if len(d) and d[0] == 0 else np.nan)
                else:
                    result = stats.ttest_rel(x.to_numpy(), ref.loc[x.index].to_numpy())
                    statistic, p = float(result.statistic), float(result.pvalue)
                diff = {"difference": dci.mean, "difference_ci95_low": dci.low, "difference_ci95_high": dci.high,
                        "statistic": statistic, "p_value": p, "test": f"paired t-test over ({', '.join(pair)})"}
            rows.append({**row, **diff})
    return pd.DataFrame(rows, columns=[*by, variant, "reference", *PAIRED_COLUMNS])


# -- tables ----------------------------------------------------------------------------------
def _settings_by(df: pd.DataFrame, *columns: str) -> list[str]:
    return [c for c in (*columns, "setting") if c in df.columns]


def rate_ablation_table(variants: pd.DataFrame, positive: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per setting and rate variant (plus ``positive_trained``, the Meta-SGD runs trained
    with positive-constrained rates, when given): mean on-task and off-task change and the
    paired comparison of off-task minus on-task change with the as-trained rates over
    (seed, iteration). Every variant and the positive runs are probed on the same tasks.

    ``variants``: rows of :func:`rate_ablation_probe` with the run identity columns;
    ``positive``: probe rows of the positive-constrained runs (run identity columns).
    """
    frames = [variants.drop(columns=["fraction_negative"], errors="ignore")]
    if positive is not None and len(positive):
        frames.append(positive.assign(variant="positive_trained"))
    df = with_off_minus_on(pd.concat(frames, ignore_index=True))
    by = _settings_by(df)
    out = paired_vs_reference(df, by=by, variant="variant", reference="as_trained", value="off_minus_on",
                              pair=["seed", "iteration"])
    means = df.groupby([*by, "variant"], sort=False)[["on_task_change", "off_task_change"]].mean().reset_index()
    out = out.merge(means, on=[*by, "variant"], how="left")
    if "fraction_negative" in variants.columns:
        fractions = variants.groupby([*by, "variant"])["fraction_negative"].mean().reset_index()
        out = out.merge(fractions, on=[*by, "variant"], how="left")
    return out


def procedure_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm (and setting) and procedure: mean accuracy with its 95% t-interval and
    the paired difference from adapting to the task itself (``task``) over (seed, task)."""
    return paired_vs_reference(df, by=_settings_by(df, "algorithm"), variant="procedure", reference="task",
                               value="accuracy", pair=["seed", "task"])


#: The dataset columns of the inner-steps sweep: trained on, and probed on.
SWEEP_DATASET_COLUMNS = ("dataset", "probe_dataset")


def with_inner_steps(runs: pd.DataFrame, steps: dict[str, int]) -> pd.DataFrame:
    """Rows of the inner-steps sweep's runs with their ``study`` (``"steps<K>"``) replaced by
    ``inner_steps``, the K it trained with (``steps``: the plan's study -> K,
    :func:`innerloop.runs.sweep_studies`)."""
    return runs.drop(columns="study").assign(inner_steps=runs["study"].map(steps))


def sweep_probes(probes: pd.DataFrame, cross_probes: pd.DataFrame | None, steps: dict[str, int]) -> pd.DataFrame:
    """The rows :func:`inner_steps_probe_table` reads: each sweep run's probe on its training
    dataset and, in ``cross_probes`` (its cross-domain evaluations, with ``target``), on that
    dataset's cross-domain test datasets; with ``inner_steps`` and ``probe_dataset``. A
    cross-domain row keeps its task setting (``"5w1s"``): ``probe_dataset`` names the direction."""
    from innerloop.runs import setting_name

    own = with_inner_steps(probes, steps)
    own["probe_dataset"] = own["dataset"]
    if cross_probes is None or cross_probes.empty:
        return own
    cross = with_inner_steps(cross_probes, steps)
    cross = cross.assign(setting=[setting_name(w, s) for w, s in zip(cross["ways"], cross["shots"])],
                         probe_dataset=cross.pop("target"))
    return pd.concat([own, cross], ignore_index=True)


def inner_steps_probe_table(probe: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm, training and probe dataset (where ``probe`` has ``dataset`` and
    ``probe_dataset``; the training dataset's own probe first), inner steps (and setting):
    probe accuracies and changes, each mean with its 95% t-interval over all probe
    iterations of all seeds."""
    probe = with_off_minus_on(probe)
    by = _settings_by(probe, "algorithm", *[c for c in SWEEP_DATASET_COLUMNS if c in probe.columns], "inner_steps")
    rows = []
    for keys, g in probe.groupby(by, sort=True):
        row = dict(zip(by, keys))
        for col in ("pre_adaptation", "on_task", "off_task", "on_task_change", "off_task_change", "off_minus_on"):
            ci = mean_ci(g[col].to_numpy())
            row |= {col: ci.mean, f"{col}_ci95_low": ci.low, f"{col}_ci95_high": ci.high}
        row["n"] = len(g)
        rows.append(row)
    out = pd.DataFrame(rows)
    if "probe_dataset" in out.columns and "dataset" in out.columns:  # the training dataset's own probe first
        own = out["probe_dataset"] != out["dataset"]
        out = out.assign(_cross=own).sort_values(["algorithm", "dataset", "_cross", "probe_dataset"], kind="stable")
        out = out.drop(columns="_cross").reset_index(drop=True)
    return out


def inner_steps_rates_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm, (training dataset,) inner steps (and setting) and layer: the learned
    rates' mean, median and fraction negative, averaged over seeds (``layers``: rows of
    :func:`~innerloop.evaluation.learning_rates.layer_statistics` with the run identity and
    ``inner_steps``)."""
    by = _settings_by(layers, "algorithm", *[c for c in ("dataset",) if c in layers.columns], "inner_steps")
    out = (layers.groupby([*by, "layer"], sort=False)
           .agg(mean=("mean", "mean"), std=("std", "mean"), median=("median", "mean"),
                fraction_negative=("fraction_negative", "mean"), n_seeds=("mean", "size")).reset_index())
    out["_layer"] = out["layer"].map({layer: i for i, layer in enumerate(LAYERS)})
    return out.sort_values([*by, "_layer"]).drop(columns="_layer").reset_index(drop=True)


def convergence_display(grid: pd.DataFrame) -> pd.DataFrame:
    """The convergence grid as the Alpha-MAML poster lays it out: one row per initial
    alpha, one column per method and initial beta; the iterations to the threshold, blank
    where not reached, ``diverged`` where the loss became non-finite."""
    def cell(row) -> str:
        if row["status"] == "reached":
            return str(int(row["iterations_to_threshold"]))
        return "diverged" if row["status"] == "diverged" else ""

    g = grid.assign(cell=grid.apply(cell, axis=1))
    out = g.pivot_table(index="alpha0", columns=["method", "beta0"], values="cell", aggfunc="first", sort=True)
    methods = [m for m in CONVERGENCE_METHODS if m in set(grid["method"])]
    out = out.reindex(columns=[(m, b) for m in methods for b in sorted(set(grid["beta0"]))])
    names = {"maml": "MAML", "alpha_maml": "Alpha-MAML"}
    out.columns = [f"{names[m]}, beta0 = {b:g}" for m, b in out.columns]
    out = out.fillna("").reset_index()
    out["alpha0"] = [f"{a:g}" for a in out["alpha0"]]
    return out
