"""Paired comparisons, Holm, the mixed model and the learning-rate tests against hand-checked cases."""

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from innerloop.stats.paired import (
    LR_TEST_COLUMNS,
    PAIRED_COLUMNS,
    compare_pairs,
    holm,
    lr_below_zero,
    mixed_model,
    mixed_models,
    paired_meta_test,
    paired_probe,
    paired_test,
)
from innerloop.stats.rates import RATES_VS_INIT_COLUMNS, SCALAR_LAYER, init_distributions, rates_vs_init

X = [0.6, 0.8, 0.7, 0.9, 0.5]
Y = [0.5, 0.6, 0.8, 0.6, 0.4]  # differences 0.1, 0.2, -0.1, 0.3, 0.1


def test_paired_test_matches_hand_computed_t_and_dz():
    d = [a - b for a, b in zip(X, Y)]
    mean, sd = statistics.fmean(d), statistics.stdev(d)  # 0.12, sqrt(0.022)
    assert mean == pytest.approx(0.12) and sd == pytest.approx(math.sqrt(0.022))
    r = paired_test(X, Y)
    assert r["n_pairs"] == 5 and r["df"] == 4
    assert r["difference"] == pytest.approx(0.12)
    assert r["t_statistic"] == pytest.approx(0.12 / (math.sqrt(0.022) / math.sqrt(5)), rel=1e-9)
    assert r["cohens_dz"] == pytest.approx(0.12 / math.sqrt(0.022), rel=1e-9)
    half = sps.t.ppf(0.975, 4) * math.sqrt(0.022) / math.sqrt(5)
    assert r["difference_ci95_low"] == pytest.approx(0.12 - half, rel=1e-9)
    assert r["difference_ci95_high"] == pytest.approx(0.12 + half, rel=1e-9)
    assert r["p_t"] == pytest.approx(2 * sps.t.sf(r["t_statistic"], 4), rel=1e-9)


def test_wilcoxon_exact_p_by_enumeration():
    # differences 1, 2, 3, -0.5: ranks of |d| are 2, 3, 4, 1, so W- = 1; of the 2^4 equally likely sign
    # patterns, 2 have a negative rank sum <= 1 (none negative; only rank 1 negative): p = 2 * 2/16
    r = paired_test([1, 2, 3, -0.5], [0, 0, 0, 0])
    assert r["wilcoxon_statistic"] == 1
    assert r["p_wilcoxon"] == pytest.approx(0.25)


def test_constant_differences_give_infinite_t_and_zero_differences_give_p_one():
    r = paired_test([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert r["t_statistic"] == math.inf and r["p_t"] == 0.0 and r["cohens_dz"] == math.inf
    r = paired_test([1.0, 2.0], [1.0, 2.0])
    assert r["t_statistic"] == 0.0 and r["p_t"] == 1.0 and r["p_wilcoxon"] == 1.0


def test_single_pair_has_no_interval_or_test():
    r = paired_test([0.7], [0.5])
    assert r["difference"] == pytest.approx(0.2)
    assert math.isnan(r["difference_ci95_low"]) and math.isnan(r["p_t"]) and math.isnan(r["p_wilcoxon"])


def test_paired_test_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="one length"):
        paired_test([1, 2, 3], [1, 2])


def test_holm_against_a_manual_sort():
    p = [0.01, 0.04, 0.03, 0.005, float("nan")]
    # m = 4 (NaN left out). Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    expected = [0.03, 0.06, 0.06, 0.02]
    out = holm(p)
    assert out[:4] == pytest.approx(expected)
    assert math.isnan(out[4])


def _tasks(effects, seeds=(0, 1, 2), n_tasks=40, noise=0.05, seed_sd=0.0, rng=None, setting="5w1s"):
    """Per-task accuracies: a task difficulty shared by every algorithm and seed, plus each
    algorithm's planted effect, plus noise."""
    rng = rng or np.random.default_rng(0)
    difficulty = rng.normal(0, 0.1, n_tasks)
    rows = []
    for seed in seeds:
        seed_shift = rng.normal(0, seed_sd)
        for alg, effect in effects.items():
            acc = 0.6 + difficulty + seed_shift + effect + rng.normal(0, noise, n_tasks)
            rows.append(pd.DataFrame({"algorithm": alg, "setting": setting, "seed": seed, "task": range(n_tasks),
                                      "accuracy": acc}))
    return pd.concat(rows, ignore_index=True)


def test_compare_pairs_pairs_by_unit_not_by_row_order():
    tasks = _tasks({"maml": 0.0, "metasgd": 0.03})
    shuffled = tasks.sample(frac=1.0, random_state=1)
    a = compare_pairs(tasks, "accuracy", ["seed", "task"], [("metasgd", "maml")], family="f")[0]
    b = compare_pairs(shuffled, "accuracy", ["seed", "task"], [("metasgd", "maml")], family="f")[0]
    assert a["n_pairs"] == 120 and a["n_seeds"] == 3
    assert b["t_statistic"] == pytest.approx(a["t_statistic"], rel=1e-12)
    # pairing removes the shared task difficulty: the differences' spread is the noise's, not the tasks'
    assert a["difference"] == pytest.approx(0.03, abs=0.02)
    assert a["difference_ci95_high"] - a["difference_ci95_low"] < 0.05


def test_compare_pairs_rejects_repeated_units():
    tasks = _tasks({"maml": 0.0, "metasgd": 0.0})
    doubled = pd.concat([tasks, tasks[tasks["algorithm"] == "maml"]])
    with pytest.raises(ValueError, match="repeated"):
        compare_pairs(doubled, "accuracy", ["seed", "task"], [("metasgd", "maml")], family="f")


def test_paired_meta_test_families_and_holm():
    tasks = _tasks({"maml": 0.0, "metasgd": 0.05, "anil": 0.0, "turtle": 0.04, "fo_turtle": -0.02})
    out = paired_meta_test(tasks)
    assert list(out.columns) == PAIRED_COLUMNS
    vs = out[out["family"] == "vs maml"]
    assert set(vs["algorithm"]) == {"metasgd", "anil", "turtle", "fo_turtle"}
    assert vs["p_holm"].to_numpy() == pytest.approx(holm(vs["p_t"]))
    second = out[out["family"] == "second order"]
    assert list(zip(second["algorithm"], second["reference"])) == [("turtle", "fo_turtle")]  # no LSTM pair run
    assert second["p_holm"].iloc[0] == pytest.approx(second["p_t"].iloc[0])  # a family of one
    row = vs.set_index("algorithm").loc["metasgd"]
    assert bool(row["significant_holm"]) and row["difference"] > 0


def test_paired_probe_uses_off_minus_on_per_seed_and_iteration():
    rows, rng = [], np.random.default_rng(0)
    for alg, shift in (("maml", 0.0), ("metasgd", 0.02)):
        for seed in (0, 1):
            it = np.arange(10)
            rows.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "iteration": it,
                                      "pre_adaptation": 0.5, "on_task_change": 0.01 * (it % 3),
                                      "off_task_change": 0.01 * (it % 3) + shift + 0.1 * it
                                      + rng.normal(0, 0.001, 10)}))
    out = paired_probe(pd.concat(rows))
    r = out.iloc[0]
    assert (r["algorithm"], r["reference"], r["measure"], r["n_pairs"]) == ("metasgd", "maml", "off_minus_on", 20)
    assert r["difference"] == pytest.approx(0.02, abs=0.002)  # the per-iteration terms cancel in the pairs
    assert r["difference_ci95_high"] - r["difference_ci95_low"] < 0.003


def test_mixed_model_recovers_planted_effects():
    effects = {"maml": 0.0, "metasgd": 0.05, "anil": -0.03}
    tasks = _tasks(effects, n_tasks=60, noise=0.04, seed_sd=0.01, rng=np.random.default_rng(3))
    out = mixed_model(tasks)
    assert out["model"].iloc[0].startswith("MixedLM") and out["converged"].all()
    coef = out[~out["term"].str.startswith("var:")].set_index("algorithm")
    for alg, effect in effects.items():
        if alg == "maml":
            continue
        assert coef.loc[alg, "ci95_low"] < effect < coef.loc[alg, "ci95_high"]
        assert coef.loc[alg, "estimate"] == pytest.approx(effect, abs=0.015)
        assert coef.loc[alg, "p_value"] < 1e-6
    assert 0.5 < coef.loc["maml", "estimate"] < 0.7
    variances = out.set_index("term")["estimate"]
    assert variances["var:seed:task"] > variances["var:residual"]  # the shared task difficulty is the unit effect


def test_mixed_model_of_probe_change_pairs_seed_and_iteration():
    """The probe response: off-task minus on-task change, units (seed, iteration). The
    per-iteration task difficulty is shared by every algorithm, so it goes to the unit
    variance and the planted differences come back with tight intervals."""
    rng, rows = np.random.default_rng(7), []
    shifts = {"maml": -0.02, "metasgd": 0.01, "anil": -0.02}
    for seed in range(3):
        difficulty = rng.normal(0, 0.05, 40)
        for alg, shift in shifts.items():
            rows.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "iteration": np.arange(40),
                                      "pre_adaptation": 0.5, "on_task_change": 0.01,
                                      "off_task_change": 0.01 + shift + difficulty + rng.normal(0, 0.005, 40)}))
    probe = pd.concat(rows, ignore_index=True)
    out = mixed_models(_tasks({"maml": 0.0, "metasgd": 0.05}), probe)
    assert list(out["response"].unique()) == ["accuracy", "off_minus_on"]
    change = out[out["response"] == "off_minus_on"].set_index("term")
    assert change["model"].iloc[0] == "MixedLM, (seed, iteration) random intercept"
    assert change["n_obs"].iloc[0] == 360 and change["n_tasks"].iloc[0] == 40
    coef = change[~change.index.str.startswith("var:")].set_index("algorithm")
    assert coef.loc["maml", "estimate"] == pytest.approx(-0.02, abs=0.02)  # the intercept: MAML's mean
    assert coef.loc["metasgd", "estimate"] == pytest.approx(0.03, abs=0.003)
    assert coef.loc["metasgd", "ci95_low"] < 0.03 < coef.loc["metasgd", "ci95_high"]
    assert coef.loc["anil", "ci95_low"] < 0 < coef.loc["anil", "ci95_high"]
    assert change.loc["var:seed:iteration", "estimate"] > 10 * change.loc["var:residual", "estimate"]


def test_mixed_model_without_reference_is_empty():
    out = mixed_model(_tasks({"metasgd": 0.0, "anil": 0.0}))
    assert out.empty and "term" in out.columns


def test_lr_below_zero_one_sided_tests():
    per_seed = pd.DataFrame({
        "algorithm": "metasgd", "setting": "5w1s", "seed": [0, 1, 2] * 2,
        "layer": ["conv1"] * 3 + ["logits"] * 3, "mean": [-0.01, -0.02, -0.03, 0.04, 0.05, 0.03]})
    out = lr_below_zero(per_seed).set_index("layer")
    assert list(lr_below_zero(per_seed).columns) == LR_TEST_COLUMNS
    t = -0.02 / (0.01 / math.sqrt(3))
    assert out.loc["conv1", "t_statistic"] == pytest.approx(t, rel=1e-9)
    assert out.loc["conv1", "p_t_less"] == pytest.approx(sps.t.cdf(t, 2), rel=1e-9)
    assert out.loc["conv1", "p_wilcoxon_less"] == pytest.approx(1 / 8)  # all three below zero: 1 of 2^3 patterns
    assert out.loc["logits", "p_t_less"] > 0.9
    assert out.loc["conv1", "mean"] == pytest.approx(-0.02)
    # two-sided interval over 3 seeds: -0.02 +- t_{0.975, 2} * 0.01 / sqrt(3) = [-0.0448, +0.0048]
    assert out.loc["conv1", "ci95_high"] == pytest.approx(-0.02 + sps.t.ppf(0.975, 2) * 0.01 / math.sqrt(3))
    assert out["p_holm"].to_numpy() == pytest.approx(holm(out["p_t_less"]))


def test_lr_below_zero_with_no_rate_learning_algorithm():
    out = lr_below_zero(pd.DataFrame(columns=["algorithm", "setting", "seed", "layer", "mean"]))
    assert out.empty and list(out.columns) == LR_TEST_COLUMNS


def test_lr_below_zero_tests_each_learned_quantity_once():
    """Meta-SGD: one test per layer; Alpha-MAML's scalar alpha (the same number in every
    layer): one test; TURTLE's rate (a scale of its update network's output): none."""
    rows = []
    for s, alpha in zip((0, 1, 2), (0.011, 0.012, 0.016)):
        for layer in ("conv1", "conv2", "conv3", "conv4", "logits"):
            rows += [{"algorithm": "metasgd", "setting": "5w1s", "seed": s, "layer": layer, "mean": -0.01 * (s + 1)},
                     {"algorithm": "alpha_maml", "setting": "5w1s", "seed": s, "layer": layer, "mean": alpha},
                     {"algorithm": "turtle", "setting": "5w1s", "seed": s, "layer": layer, "mean": -0.5}]
    out = lr_below_zero(pd.DataFrame(rows))
    assert list(out["algorithm"]) == ["metasgd"] * 5 + ["alpha_maml"]
    alpha = out[out["algorithm"] == "alpha_maml"].iloc[0]
    assert alpha["layer"] == SCALAR_LAYER and alpha["n_seeds"] == 3 and alpha["mean"] == pytest.approx(0.013)
    assert out["p_holm"].to_numpy() == pytest.approx(holm(out["p_t_less"]))  # a family of six tests, not sixteen


def test_rates_vs_init_kolmogorov_smirnov_per_run_and_layer():
    rng = np.random.default_rng(4)
    at_init = 0.005 + 0.095 * (np.arange(400) + 0.5) / 400  # the init's quantiles: as uniform as 400 values can be
    moved = rng.normal(-0.01, 0.02, 400)
    values = pd.DataFrame({"algorithm": "metasgd", "setting": "5w1s", "seed": 0,
                           "layer": ["conv1"] * 400 + ["conv2"] * 400, "value": np.concatenate([at_init, moved])})
    values = pd.concat([values, values.assign(algorithm="alpha_maml")], ignore_index=True)  # no uniform init: skipped
    out = rates_vs_init(values, init_distributions({"metasgd": {"lr_init_low": 0.005, "lr_init_high": 0.1}}))
    assert list(out.columns) == RATES_VS_INIT_COLUMNS and len(out) == 2
    out = out.set_index("layer")
    for layer, x in (("conv1", at_init), ("conv2", moved)):
        assert out.loc[layer, "p_ks"] == pytest.approx(sps.kstest(x, "uniform", args=(0.005, 0.095)).pvalue)
        assert out.loc[layer, "mean_shift"] == pytest.approx(x.mean() - 0.0525)
    assert not out.loc["conv1", "moved"] and out.loc["conv2", "moved"]
    assert out["p_holm"].to_numpy() == pytest.approx(holm(out["p_ks"]))


def test_init_distribution_defaults_follow_meta_sgd():
    assert init_distributions({}) == {"metasgd": (0.005, 0.1)}
    assert init_distributions({"metasgd": {"lr_init_low": -0.1, "lr_init_high": 0.1}}) == {"metasgd": (-0.1, 0.1)}
