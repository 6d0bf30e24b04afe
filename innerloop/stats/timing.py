"""Running time per algorithm (Huisman Fig. 3.4) from Snakemake's benchmark files and the
evaluation jobs' own seconds.

Each run's rule ``train`` writes a benchmark TSV at
``results/benchmarks/train/{dataset}/{algorithm}/{ways}w{shots}s/seed{seed}.tsv``
with the wall-clock seconds ``s``, the peak resident memory ``max_rss`` (MB) and the CPU
seconds ``cpu_time`` of the job (one row per repetition; repetitions are averaged); the rule
that reads them is given each file's run by the plan that named the file. Its
evaluation job (rule evaluate_run) computes several analyses and writes the seconds of each,
with the run's identity (``evaluation_seconds.csv``, innerloop.evaluation.run): the stages
``meta_test`` and ``feature_probe`` are its meta-test and probe.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.stats.order import algorithm_order, setting_order

#: The stages of a run that are timed, in the order a run goes through them.
STAGES = ("train", "meta_test", "feature_probe")
RUN_TIME_COLUMNS = ["dataset", "algorithm", "setting", "ways", "shots", "seed",
                    *(f"{s}_s" for s in STAGES), "total_s", "train_max_rss_mb"]
SUMMARY_COLUMNS = ["algorithm", "setting", "n_seeds", "train_s_median", "train_s_min", "train_s_max",
                   "meta_test_s_median", "feature_probe_s_median", "total_s_median", "accuracy_median"]


def read_benchmarks(paths: Iterable[str | Path], runs: Iterable[dict], stage: str = "train") -> pd.DataFrame:
    """One row per benchmark file of a run's job of ``stage``: the run (``runs``: the identity
    columns of each file's run, :meth:`innerloop.runs.RunId.columns`, in the order of
    ``paths``; what planned the files names their runs, nothing reads them from a path),
    ``seconds`` (wall clock, mean over repetitions), ``max_rss_mb`` and ``cpu_seconds`` (NaN
    where not measured)."""
    paths, runs = list(paths), list(runs)
    if len(paths) != len(runs):
        raise ValueError(f"{len(paths)} benchmark files but {len(runs)} runs: each file needs the identity of its run")
    rows = []
    for path, run in zip(paths, runs):
        tsv = pd.read_csv(path, sep="\t", na_values=["-", "NA", ""])
        if "s" not in tsv.columns or tsv.empty:
            raise ValueError(f"{path} has no wall-clock column 's' (not a Snakemake benchmark file?)")
        rows.append({"stage": stage, **{c: run[c] for c in RUN_TIME_COLUMNS[:6]}, "seconds": float(tsv["s"].mean()),
                     "max_rss_mb": float(tsv["max_rss"].max()) if "max_rss" in tsv else np.nan,
                     "cpu_seconds": float(tsv["cpu_time"].mean()) if "cpu_time" in tsv else np.nan})
    return pd.DataFrame(rows, columns=["stage", "dataset", "algorithm", "setting", "ways", "shots", "seed",
                                       "seconds", "max_rss_mb", "cpu_seconds"])


#: Stage of the running time -> the analysis of an evaluation job that it is.
EVALUATION_STAGES = {"meta_test": "meta_test", "feature_probe": "probe"}


def read_evaluation_seconds(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The stages :data:`EVALUATION_STAGES` of each run from its evaluation job's table of
    seconds, in the rows of :func:`read_benchmarks` (no memory measured: NaN)."""
    frames = [pd.read_csv(path) for path in paths]
    columns = ["stage", "dataset", "algorithm", "setting", "ways", "shots", "seed", "seconds", "max_rss_mb",
               "cpu_seconds"]
    if not frames:
        return pd.DataFrame(columns=columns)
    seconds = pd.concat(frames, ignore_index=True)
    stage = {analysis: stage for stage, analysis in EVALUATION_STAGES.items()}
    seconds = seconds[seconds["analysis"].isin(stage)].assign(stage=lambda d: d["analysis"].map(stage),
                                                               max_rss_mb=np.nan)
    return seconds[columns].reset_index(drop=True)


def run_times(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Per run: seconds of each stage (``train_s``, ``meta_test_s``, ``feature_probe_s``),
    their sum ``total_s`` (NaN when a stage is missing) and the training job's peak memory."""
    identity = RUN_TIME_COLUMNS[:6]
    wide = benchmarks.pivot_table(index=identity, columns="stage", values="seconds", aggfunc="mean")
    out = pd.DataFrame(index=wide.index)
    for stage in STAGES:
        out[f"{stage}_s"] = wide[stage] if stage in wide.columns else np.nan
    out["total_s"] = out[[f"{s}_s" for s in STAGES]].sum(axis=1, skipna=False)
    train = benchmarks[benchmarks["stage"] == "train"].set_index(identity)["max_rss_mb"]
    out["train_max_rss_mb"] = train.reindex(out.index)
    out = out.reset_index()
    rank = {a: i for i, a in enumerate(algorithm_order(out["algorithm"]))}
    srank = {s: i for i, s in enumerate(setting_order(out["setting"]))}
    out = out.sort_values(["algorithm", "setting", "seed"], kind="stable",
                          key=lambda c: c.map(rank) if c.name == "algorithm"
                          else c.map(srank) if c.name == "setting" else c)
    return out[RUN_TIME_COLUMNS].reset_index(drop=True)


def running_time_summary(times: pd.DataFrame, meta_test_runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per algorithm and setting: median (and min, max) training seconds over seeds, the
    median seconds of meta-test, probe and the whole run, and the median meta-test
    accuracy of the same runs (from ``meta_test_runs``: algorithm, setting, seed, accuracy)."""
    accuracy = None
    if meta_test_runs is not None and len(meta_test_runs):
        accuracy = meta_test_runs.groupby(["algorithm", "setting"])["accuracy"].median()
    rows = []
    for (alg, setting), g in times.groupby(["algorithm", "setting"], sort=False):
        rows.append({"algorithm": alg, "setting": setting, "n_seeds": int(g["seed"].nunique()),
                     "train_s_median": g["train_s"].median(), "train_s_min": g["train_s"].min(),
                     "train_s_max": g["train_s"].max(), "meta_test_s_median": g["meta_test_s"].median(),
                     "feature_probe_s_median": g["feature_probe_s"].median(),
                     "total_s_median": g["total_s"].median(),
                     "accuracy_median": float(accuracy.get((alg, setting), np.nan)) if accuracy is not None
                     else np.nan})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


RULE_TIME_COLUMNS = ["rule", "jobs", "wall_s", "cpu_s", "wall_s_max", "max_rss_mb"]


def rule_times(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Per rule: the number of benchmarked jobs, the sums of their wall-clock and CPU seconds,
    the longest job and the peak memory, from benchmark files at
    ``.../benchmarks/<rule>/...tsv`` (the rule is the folder under ``benchmarks``). Rules
    in descending order of wall-clock time."""
    rows = []
    for path in paths:
        parts = Path(path).parts
        if "benchmarks" not in parts[:-2]:
            raise ValueError(f"{path} is not under a benchmarks/<rule>/ folder")
        tsv = pd.read_csv(path, sep="\t", na_values=["-", "NA", ""])
        if "s" not in tsv.columns or tsv.empty:
            raise ValueError(f"{path} has no wall-clock column 's' (not a Snakemake benchmark file?)")
        rows.append({"rule": parts[parts.index("benchmarks") + 1], "s": float(tsv["s"].mean()),
                     "cpu": float(tsv["cpu_time"].mean()) if "cpu_time" in tsv else np.nan,
                     "rss": float(tsv["max_rss"].max()) if "max_rss" in tsv else np.nan})
    if not rows:
        return pd.DataFrame(columns=RULE_TIME_COLUMNS)
    jobs = pd.DataFrame(rows)
    out = jobs.groupby("rule").agg(jobs=("s", "size"), wall_s=("s", "sum"), cpu_s=("cpu", "sum"),
                                   wall_s_max=("s", "max"), max_rss_mb=("rss", "max")).reset_index()
    return out.sort_values("wall_s", ascending=False, kind="stable")[RULE_TIME_COLUMNS].reset_index(drop=True)
