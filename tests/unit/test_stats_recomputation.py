"""Independent recomputation of three headline numbers of the report.

A small results tree (two algorithms, three seeds) is written as the runs write it; the
workflow's own scripts turn it into the tables the report reads. Three numbers are then
recomputed from the raw per-run CSVs along a different code path (the ``csv`` module,
``statistics``, ``scipy.stats`` called directly; nothing from ``innerloop.stats`` or
pandas) and must equal the tables' numbers: (a) MAML's 95% CI of the mean meta-test
accuracy over seeds, (b) the paper's on/off t-test (MAML vs Meta-SGD), (c) Meta-SGD's mean
learned rate of conv4 over seeds, (d) the seed-level interval, p-value and verdict of the
claim that those rates are negative, with its tests of the rates against their uniform
init, and (e) the minimum detectable effect of the seed-level off-minus-on comparison.
"""

import csv
import glob
import json
import math
import runpy
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps

from innerloop.evaluation.learning_rates import layer_statistics
from innerloop.models.conv4 import LAYER_NAMES
from innerloop.runs import RUN_COLUMNS as RUN_IDENTITY

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow_scripts"
ALGORITHMS = ("maml", "metasgd")
SEEDS = (0, 1, 2)
REL = 1e-12  # equal up to floating-point summation order
INIT = {"lr_init_low": 0.005, "lr_init_high": 0.1}  # Meta-SGD's learned rates start uniform in [low, high]


class _Files(list):
    """Snakemake's named file lists: a list of paths with attributes and item access by name."""

    def __init__(self, *items, **named):
        super().__init__([*items, *named.values()])
        self._named = named
        for key, value in named.items():
            setattr(self, key, value)

    def __getitem__(self, key):
        return self._named[key] if isinstance(key, str) else super().__getitem__(key)

    def keys(self):
        return self._named.keys()


class _Snakemake:
    def __init__(self, input, output, log, params=None):
        self.input, self.output, self.log, self.params = input, output, _Files(str(log)), _Files(**(params or {}))
        # what a job's code record reads (innerloop.code_version.open_job_log)
        self.scriptdir, self.rule, self.resources = str(SCRIPTS), None, {}


def _run_script(name: str, smk: _Snakemake) -> None:
    smk.rule = name.removesuffix(".py")
    stderr = sys.stderr
    try:
        runpy.run_path(str(SCRIPTS / name), init_globals={"snakemake": smk}, run_name="__main__")
    finally:
        if sys.stderr is not stderr:
            sys.stderr.close()
        sys.stderr = stderr


def _write_run(root: Path, alg: str, seed: int, rng: np.random.Generator) -> None:
    run = root / "runs" / "glyphs" / alg / "5w1s" / f"seed{seed}"
    run.mkdir(parents=True)
    # every per-run table starts with its run's identity (innerloop.runs.RunId.tag)
    who, identity = list(RUN_IDENTITY), ["glyphs", alg, "5w1s", 5, 1, seed]
    skill = 0.55 + 0.05 * (alg == "metasgd") + rng.normal(0, 0.02)
    acc = np.clip(np.round((skill + rng.normal(0, 0.12, 30)) * 25) / 25, 0, 1)
    with open(run / "meta_test.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*who, "task", "accuracy"])
        w.writerows([*identity, t, repr(float(a))] for t, a in enumerate(acc))
    with open(run / "probe.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*who, "iteration", "pre_adaptation", "pre_adaptation_off", "on_task", "off_task",
                    "on_task_change", "off_task_change"])
        for it in range(25):
            pre, pre_off = rng.uniform(0.4, 0.7, 2)
            on = pre + rng.normal(-0.01, 0.03)
            off = pre_off + rng.normal(-0.003 if alg == "maml" else 0.004, 0.03)
            w.writerow([*identity, it, pre, pre_off, on, off, on - pre, off - pre_off])
    with open(run / "validation.csv", "w", newline="") as f:  # a validation log that has plateaued
        w = csv.writer(f)
        w.writerow([*who, "iteration", "accuracy", "ci95"])
        w.writerows([*identity, 50 * (k + 1), a, 0.02] for k, a in enumerate([0.40, 0.45, 0.46] + [0.46] * 5))
    with open(run / "train_log.csv", "w", newline="") as f:
        csv.writer(f).writerows([[*who, "iteration", "loss"], [*identity, 1, 1.6]])
    if alg == "metasgd":
        values = {f"{prefix}.weight": rng.normal(0.04 if layer == "logits" else -0.01, 0.03, 50)
                  for prefix, layer in LAYER_NAMES.items()}
        np.savez(run / "learning_rates.npz", **values, _run=np.array(json.dumps(dict(zip(who, identity)))))
        stats = layer_statistics(values)
        for i, (column, value) in enumerate(zip(who, identity)):
            stats.insert(i, column, value)
        stats.to_csv(run / "learning_rates.csv", index=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results tree and the tables the workflow's scripts make of it."""
    root = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(11)
    for alg in ALGORITHMS:
        for seed in SEEDS:
            _write_run(root, alg, seed, rng)
    t, logs = root / "tables", root / "logs"
    logs.mkdir()

    def runs(name, algorithms=ALGORITHMS):
        return [str(root / "runs" / "glyphs" / a / "5w1s" / f"seed{s}" / name) for a in algorithms for s in SEEDS]

    _run_script("meta_test_stats.py", _Snakemake(
        _Files(*runs("meta_test.csv")), _Files(tasks=str(t / "meta_test_tasks.csv.gz"),
                                               runs=str(t / "meta_test_runs.csv"),
                                               summary=str(t / "meta_test_summary.csv"),
                                               table=str(t / "meta_test_table.csv")), logs / "m.log"))
    _run_script("probe_stats.py", _Snakemake(
        _Files(*runs("probe.csv")), _Files(**{k: str(t / f) for k, f in (
            ("iterations", "probe_iterations.csv.gz"), ("summary", "probe_summary.csv"),
            ("changes", "probe_changes.csv"), ("ttest", "probe_ttest.csv"), ("vs_maml", "probe_vs_maml.csv"))}),
        logs / "p.log"))
    _run_script("lr_stats.py", _Snakemake(
        _Files(layers=runs("learning_rates.csv", ["metasgd"]), values=runs("learning_rates.npz", ["metasgd"])),
        _Files(per_seed=str(t / "lr_layers_per_seed.csv"), table=str(t / "lr_table.csv"),
               values=str(t / "lr_values.csv.gz")), logs / "l.log"))
    statistics_opts = {"reference": "maml", "alpha": 0.05, "equivalence_margin": 0.02}
    paired = {k: str(t / f"{k}.csv") for k in ("paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero")}
    _run_script("paired_stats.py", _Snakemake(
        _Files(tasks=str(t / "meta_test_tasks.csv.gz"), probe=str(t / "probe_iterations.csv.gz"),
               lr_per_seed=str(t / "lr_layers_per_seed.csv")),
        _Files(**paired,
               **{f"{k}_tex": v.replace(".csv", ".tex") for k, v in paired.items()}),
        logs / "s.log", {"statistics": statistics_opts}))
    _run_script("collect_training.py", _Snakemake(
        _Files(train_logs=runs("train_log.csv"), validation=runs("validation.csv")),
        _Files(train_log=str(t / "train_log.csv"), validation=str(t / "validation.csv")), logs / "v.log"))
    with open(t / "diverged_runs.csv", "w", newline="") as f:  # no run diverged
        csv.writer(f).writerow(["run", "dataset", "algorithm", "setting", "seed", "iteration", "last_finite_loss",
                                "rates", "reason"])
    _run_script("claims.py", _Snakemake(
        _Files(tasks=str(t / "meta_test_tasks.csv.gz"), probe=str(t / "probe_iterations.csv.gz"),
               lr_per_seed=str(t / "lr_layers_per_seed.csv"), lr_values=str(t / "lr_values.csv.gz"),
               validation=str(t / "validation.csv"), diverged_runs=str(t / "diverged_runs.csv")),
        _Files(csv=str(t / "claims.csv"), tex=str(t / "claims.tex"), runs=str(t / "claims_runs.csv"),
               rates_vs_init=str(t / "lr_vs_init.csv")), logs / "c.log",
        {"statistics": statistics_opts, "plateau": None, "algorithm_options": {"metasgd": dict(INIT)}}))
    return root


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _raw(root: Path, alg: str, name: str) -> list[list[dict[str, str]]]:
    """The raw CSV of every seed of ``alg``, seed by seed."""
    return [_rows(Path(p)) for p in sorted(glob.glob(str(root / "runs" / "glyphs" / alg / "5w1s" / "seed*" / name)))]


def _row(path: Path, **match) -> dict[str, str]:
    found = [r for r in _rows(path) if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, f"{path.name}: {len(found)} rows match {match}"
    return found[0]


def test_outputs_are_written(results):
    tables = results / "tables"
    for name in ("paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero", "claims"):
        assert (tables / f"{name}.csv").is_file() and (tables / f"{name}.tex").is_file()


def test_meta_test_ci_over_seeds(results):
    per_seed = [statistics.fmean(float(r["accuracy"]) for r in rows) for rows in _raw(results, "maml", "meta_test.csv")]
    n = len(per_seed)
    half = sps.t.ppf(0.975, n - 1) * statistics.stdev(per_seed) / math.sqrt(n)
    mean = statistics.fmean(per_seed)
    row = _row(results / "tables" / "meta_test_summary.csv", algorithm="maml")
    assert float(row["mean"]) == pytest.approx(mean, rel=REL)
    assert float(row["ci95_low"]) == pytest.approx(mean - half, rel=REL)
    assert float(row["ci95_high"]) == pytest.approx(mean + half, rel=REL)
    assert float(row["ci95_half_width"]) == pytest.approx(half, rel=REL)


def test_on_off_ttest(results):
    def off_minus_on(alg):
        return [float(r["off_task_change"]) - float(r["on_task_change"])
                for rows in _raw(results, alg, "probe.csv") for r in rows]

    maml, metasgd = off_minus_on("maml"), off_minus_on("metasgd")
    expected = sps.ttest_ind(maml, metasgd, equal_var=False)
    row = _row(results / "tables" / "probe_ttest.csv", comparison="maml vs metasgd")
    assert float(row["statistic"]) == pytest.approx(expected.statistic, rel=REL)
    assert float(row["p_value"]) == pytest.approx(expected.pvalue, rel=REL)
    assert float(row["df"]) == pytest.approx(expected.df, rel=REL)
    # the claims table states the same test as Meta-SGD minus MAML, beside its seed-level test
    claim = _row(results / "tables" / "claims.csv", id="off_minus_on_ttest")
    assert float(claim["conditional_p"]) == pytest.approx(expected.pvalue, rel=REL)
    assert float(claim["conditional_estimate"]) == pytest.approx(statistics.fmean(metasgd) - statistics.fmean(maml),
                                                                 rel=REL)


def test_lr_layer_mean(results):
    per_seed = [float(next(r["mean"] for r in rows if r["layer"] == "conv4"))
                for rows in _raw(results, "metasgd", "learning_rates.csv")]
    # and from the learned values themselves, not from the per-run summary
    conv4 = next(prefix for prefix, layer in LAYER_NAMES.items() if layer == "conv4") + ".weight"
    from_values = [statistics.fmean(np.load(p)[conv4].tolist())
                   for p in sorted(glob.glob(str(results / "runs/glyphs/metasgd/5w1s/seed*/learning_rates.npz")))]
    assert per_seed == pytest.approx(from_values, rel=REL)
    mean = statistics.fmean(per_seed)
    assert float(_row(results / "tables" / "lr_table.csv", algorithm="metasgd", layer="conv4")["mean"]) == \
        pytest.approx(mean, rel=REL)
    assert float(_row(results / "tables" / "lr_below_zero.csv", algorithm="metasgd", layer="conv4")["mean"]) == \
        pytest.approx(mean, rel=REL)
    assert float(_row(results / "tables" / "claims.csv", id="metasgd_conv4_negative")["estimate"]) == \
        pytest.approx(mean, rel=REL)


def _mde(sd: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The effect a two-sided one-sample t-test over ``n`` seeds detects with ``power``:
    solved on scipy's noncentral t."""
    df, crit = n - 1, sps.t.isf(alpha / 2, n - 1)

    def achieved(effect):
        nc = effect / sd * math.sqrt(n)
        return sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)

    return optimize.brentq(lambda e: achieved(e) - power, 1e-6 * sd, 4 * sd)


def _holm(p: list[float]) -> list[float]:
    order = sorted(range(len(p)), key=p.__getitem__)
    adjusted, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def test_seed_level_rate_claim_interval_and_verdict(results):
    tables = results / "tables"
    conv4 = next(prefix for prefix, layer in LAYER_NAMES.items() if layer == "conv4") + ".weight"
    npz = sorted(glob.glob(str(results / "runs/glyphs/metasgd/5w1s/seed*/learning_rates.npz")))
    per_seed = np.array([np.load(p)[conv4].mean() for p in npz])
    n, mean, sd = per_seed.size, float(per_seed.mean()), float(per_seed.std(ddof=1))
    half = sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    p = float(sps.ttest_1samp(per_seed, 0.0).pvalue)
    claim = _row(tables / "claims.csv", id="metasgd_conv4_negative")
    assert float(claim["estimate"]) == pytest.approx(mean, rel=REL)
    assert float(claim["ci95_low"]) == pytest.approx(mean - half, rel=1e-9)
    assert float(claim["ci95_high"]) == pytest.approx(mean + half, rel=1e-9)
    assert float(claim["p_value"]) == pytest.approx(p, rel=1e-9)
    mde = _mde(sd, n)
    assert float(claim["mde"]) == pytest.approx(mde, rel=1e-6)
    # the rates against their init, uniform on [0.005, 0.1]: a Kolmogorov-Smirnov test per run and layer, Holm over all
    ks = {(i, name): sps.kstest(np.load(path)[name], "uniform", args=(0.005, 0.095)).pvalue
          for i, path in enumerate(npz) for name in np.load(path).files if name != "_run"}  # "_run": its identity
    ks_holm = dict(zip(ks, _holm(list(ks.values()))))
    moved = all(ks_holm[(i, conv4)] < 0.05 for i in range(n))
    for row in _rows(tables / "lr_vs_init.csv"):
        if row["layer"] == "conv4":
            i = int(row["seed"])
            assert float(row["p_ks"]) == pytest.approx(ks[(i, conv4)], rel=1e-9)
            assert float(row["p_holm"]) == pytest.approx(ks_holm[(i, conv4)], rel=1e-9)
    # every run's validation log has plateaued, so the claim's scale conditions are the MDE and the rates
    assert claim["runs"] == claim["runs_converged"] == "3"
    testable = mde <= 0.018 and moved  # the paper's conv4 mean: -0.018
    assert claim["testable"] == str(testable)
    raw = [float(r["p_value"]) for r in _rows(tables / "claims.csv") if r["p_value"]]
    p_holm = _holm(raw)[raw.index(float(claim["p_value"]))]
    assert float(claim["p_holm"]) == pytest.approx(p_holm, rel=1e-9)
    if not testable:
        expected = "not testable at this scale"
    elif mean + half < 0 and p_holm < 0.05:
        expected = "replicated"
    elif mean - half > 0 and p_holm < 0.05:
        expected = "not replicated"
    else:
        expected = "inconclusive"
    assert claim["verdict"] == expected


def test_seed_level_minimum_detectable_effect(results):
    """Meta-SGD minus MAML in the off-minus-on change, paired by seed: its MDE over the
    three seeds, and the paper's effect its p = 0.00044 implies over 40,000 iterations each."""
    def per_seed(alg):
        return [statistics.fmean(float(r["off_task_change"]) - float(r["on_task_change"]) for r in rows)
                for rows in _raw(results, alg, "probe.csv")]

    d = [a - b for a, b in zip(per_seed("metasgd"), per_seed("maml"))]
    claim = _row(results / "tables" / "claims.csv", id="off_minus_on_ttest")
    assert float(claim["sd_seeds"]) == pytest.approx(statistics.stdev(d), rel=1e-9)
    assert float(claim["mde"]) == pytest.approx(_mde(statistics.stdev(d), len(d)), rel=1e-6)

    def iterations(alg):
        return [float(r["off_task_change"]) - float(r["on_task_change"]) for rows in _raw(results, alg, "probe.csv")
                for r in rows]

    implied = sps.norm.isf(0.00044 / 2) * math.sqrt((statistics.stdev(iterations("metasgd")) ** 2
                                                     + statistics.stdev(iterations("maml")) ** 2) / 40_000)
    assert float(claim["paper_effect"]) == pytest.approx(implied, rel=1e-9)
    assert claim["verdict"] == "not testable at this scale"  # 3 seeds cannot see an effect of that size
    assert "minimum detectable effect" in claim["not_testable_because"]
