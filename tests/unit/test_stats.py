"""Statistics and per-run summaries against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from innerloop.algorithms import DISPLAY_NAMES
from innerloop.evaluation.learning_rates import layer_statistics, values_by_layer
from innerloop.stats import (
    algorithm_order,
    lr_table,
    mean_ci,
    meta_test_summary,
    meta_test_table,
    probe_changes,
    probe_summary,
    probe_ttest,
    probe_vs_reference,
    read_benchmarks,
    run_times,
    running_time_summary,
    setting_order,
)
from innerloop.stats.summaries import LR_LAYER_COLUMNS, LR_TABLE_COLUMNS, RUN_IDENTITY, TTEST_COLUMNS

T975 = {2: 4.302652729911275, 3: 3.182446305284263}  # Student-t 0.975 quantiles by degrees of freedom


def test_mean_ci_matches_hand_computation():
    # mean 2.5, s = sqrt(5/3), se = s / 2, t_{0.975, 3} = 3.182446305...
    ci = mean_ci([1, 2, 3, 4])
    half = T975[3] * math.sqrt(5 / 3) / 2
    assert ci.mean == pytest.approx(2.5)
    assert ci.low == pytest.approx(2.5 - half, rel=1e-9)
    assert ci.high == pytest.approx(2.5 + half, rel=1e-9)


def test_mean_ci_rejects_non_finite_values():
    with pytest.raises(ValueError, match="non-finite"):
        mean_ci([0.5, float("nan")])


# --------------------------------------------------------------------------
# Order of algorithms and settings
# --------------------------------------------------------------------------

def test_algorithm_order_puts_transfer_baselines_first_then_display_order():
    names = ["zeta", "metasgd", "baselinepp", "maml", "scratch", "anil"]
    ordered = algorithm_order(names)
    assert ordered[:2] == ["scratch", "baselinepp"]  # Table 3.1's first block, in its order
    rest = [a for a in ordered[2:] if a in DISPLAY_NAMES]
    assert rest == sorted(rest, key=list(DISPLAY_NAMES).index)
    assert ordered[-1] == "zeta"  # unknown names last


def test_settings_sort_by_ways_then_shots():
    assert setting_order(["5w10s", "5w1s", "20w1s", "5w5s"]) == ["5w1s", "5w5s", "5w10s", "20w1s"]


# --------------------------------------------------------------------------
# Meta-test: summary over seeds and the thesis table
# --------------------------------------------------------------------------

def test_meta_test_summary_over_seeds():
    runs = pd.DataFrame({"algorithm": ["maml"] * 3, "setting": ["5w1s"] * 3, "seed": [0, 1, 2],
                         "accuracy": [0.5, 0.6, 0.9]})
    row = meta_test_summary(runs).iloc[0]
    # s^2 = ((1/6)^2 + (1/15)^2 + (7/30)^2) / 2 = 0.0433..., half-width t_{0.975,2} s / sqrt(3)
    s = math.sqrt(((0.5 - 2 / 3) ** 2 + (0.6 - 2 / 3) ** 2 + (0.9 - 2 / 3) ** 2) / 2)
    assert row["n_seeds"] == 3
    assert row["median"] == pytest.approx(0.6)
    assert row["mean"] == pytest.approx(2.0 / 3)
    assert row["ci95_half_width"] == pytest.approx(T975[2] * s / math.sqrt(3), rel=1e-9)
    assert row["ci95_low"] == pytest.approx(2 / 3 - row["ci95_half_width"])


def summary_frame():
    rows = [("maml", "5w1s", [0.40, 0.42, 0.47]), ("maml", "5w5s", [0.60, 0.61, 0.65]),
            ("scratch", "5w1s", [0.30, 0.31, 0.32]), ("scratch", "5w5s", [0.62, 0.63, 0.64]),
            ("metasgd", "5w1s", [0.45, 0.47, 0.46]), ("metasgd", "5w10s", [0.70, 0.71])]
    runs = pd.DataFrame([{"algorithm": a, "setting": st, "seed": i, "accuracy": v}
                         for a, st, vals in rows for i, v in enumerate(vals)])
    return meta_test_summary(runs)


def test_meta_test_table_layout_best_and_missing_cells():
    table = meta_test_table(summary_frame())
    assert list(table["algorithm"]) == ["scratch", "maml", "metasgd"]
    assert list(table["group"]) == ["Transfer baselines", "Meta-learners", "Meta-learners"]
    assert list(table["name"]) == [DISPLAY_NAMES.get(a, a) for a in table["algorithm"]]
    settings = [c[: -len("_median")] for c in table.columns if c.endswith("_median")]
    assert settings == ["5w1s", "5w5s", "5w10s"]
    t = table.set_index("algorithm")
    assert t.loc["maml", "5w1s_median"] == pytest.approx(0.42)
    s = np.std([0.40, 0.42, 0.47], ddof=1)
    assert t.loc["maml", "5w1s_ci95_half_width"] == pytest.approx(T975[2] * s / math.sqrt(3), rel=1e-9)
    # the best median of each column, and only it
    assert list(t["5w1s_best"]) == [False, False, True]  # Meta-SGD 0.46 > MAML 0.42 > scratch 0.31
    assert list(t["5w5s_best"]) == [True, False, False]  # scratch 0.63 > MAML 0.61
    # a setting an algorithm did not run in
    assert math.isnan(t.loc["maml", "5w10s_median"]) and t.loc["maml", "5w10s_n_seeds"] == 0
    assert not t.loc["maml", "5w10s_best"] and t.loc["metasgd", "5w10s_best"]


def test_meta_test_table_ties_and_a_single_seed():
    runs = pd.DataFrame({"algorithm": ["maml", "anil"], "setting": ["5w1s"] * 2, "seed": [0, 0],
                         "accuracy": [0.5, 0.5]})
    table = meta_test_table(meta_test_summary(runs))
    assert list(table["5w1s_best"]) == [True, True]
    assert table["5w1s_ci95_half_width"].isna().all()  # one seed: no interval
    assert list(table["5w1s_n_seeds"]) == [1, 1]


# --------------------------------------------------------------------------
# Learned learning rates
# --------------------------------------------------------------------------

def test_layer_statistics_and_lr_table():
    values = {"blocks.0.conv.weight": np.array([-1.0, -2.0, 3.0]), "blocks.0.norm.bias": np.array([-4.0]),
              "head.weight": np.array([0.5, 1.5])}
    stats = layer_statistics(values).set_index("layer")
    assert list(stats.index) == ["conv1", "logits"]
    assert stats.loc["conv1", "mean"] == pytest.approx(-1.0)
    assert stats.loc["conv1", "fraction_negative"] == pytest.approx(0.75)
    assert stats.loc["conv1", "median"] == pytest.approx(-1.5)
    assert stats.loc["logits", "std"] == pytest.approx(0.5)
    assert list(values_by_layer(values)["layer"]) == ["conv1"] * 4 + ["logits"] * 2

    per_seed = pd.concat([layer_statistics(values).assign(algorithm=a, setting="5w1s", seed=s)
                          for a in ("metasgd", "turtle") for s in (0, 1)])
    per_seed.loc[(per_seed.seed == 1) & (per_seed.algorithm == "metasgd"), "mean"] += 1.0
    table = lr_table(per_seed).set_index(["algorithm", "layer"])
    assert len(table) == 4  # per algorithm and layer: rates of different algorithms are not pooled
    assert table.loc[("metasgd", "conv1"), "mean"] == pytest.approx(-0.5)
    assert table.loc[("turtle", "conv1"), "mean"] == pytest.approx(-1.0)
    assert table.loc[("metasgd", "conv1"), "n_seeds"] == 2
    assert table.loc[("turtle", "conv1"), "mean_ci95_low"] == pytest.approx(-1.0)  # zero variance


def test_lr_table_of_no_rate_learning_algorithm_is_empty_with_columns():
    table = lr_table(pd.DataFrame(columns=RUN_IDENTITY + LR_LAYER_COLUMNS))
    assert table.empty and list(table.columns) == LR_TABLE_COLUMNS


# --------------------------------------------------------------------------
# Feature probe
# --------------------------------------------------------------------------

def probe_frame(algorithms=("maml", "metasgd"), shifts=(-0.01, 0.01), settings=("5w1s",)):
    rows = []
    for setting in settings:
        for algorithm, shift in zip(algorithms, shifts):
            for i in range(4):
                pre = 0.5 + 0.01 * i
                rows.append({"algorithm": algorithm, "setting": setting, "seed": 0, "iteration": i,
                             "pre_adaptation": pre, "pre_adaptation_off": pre, "on_task": pre - shift,
                             "off_task": pre + shift + 0.001 * i, "on_task_change": -shift,
                             "off_task_change": shift + 0.001 * i})
    return pd.DataFrame(rows)


def test_probe_ttest_is_welch_on_off_minus_on():
    # off_minus_on: maml -0.02 + 0.001 i, metasgd 0.02 + 0.001 i (i = 0..3): equal variances,
    # difference of means -0.04, s^2 = 1.6667e-6 each, se = sqrt(2 * s^2 / 4).
    result = probe_ttest(probe_frame()).iloc[0]
    s2 = np.var([0, 0.001, 0.002, 0.003], ddof=1)
    assert result["statistic"] == pytest.approx(-0.04 / math.sqrt(2 * s2 / 4), rel=1e-9)
    assert result["df"] == pytest.approx(6.0)
    assert result["p_value"] < 1e-6
    assert result["setting"] == "5w1s"


def test_probe_ttest_per_setting_and_absent_without_both_algorithms():
    two = probe_ttest(probe_frame(settings=("5w1s", "5w5s")))
    assert list(two["setting"]) == ["5w1s", "5w5s"]
    for frame in (probe_frame(("maml",), (-0.01,)), probe_frame(("anil", "protonet"))):
        result = probe_ttest(frame)
        assert result.empty and list(result.columns) == TTEST_COLUMNS


def test_probe_summaries_have_one_row_per_algorithm_and_phase():
    summary = probe_summary(probe_frame())
    assert len(summary) == 6
    row = summary[(summary.algorithm == "metasgd") & (summary.phase == "off_task")].iloc[0]
    assert row["mean"] == pytest.approx(np.mean([0.51 + 0.001 * i + 0.01 * i for i in range(4)]))
    changes = probe_changes(probe_frame())
    row = changes[(changes.algorithm == "maml") & (changes.change == "on_task_change")].iloc[0]
    assert row["mean"] == pytest.approx(0.01)
    # settings are never pooled
    assert len(probe_summary(probe_frame(settings=("5w1s", "5w5s")))) == 12


def test_probe_vs_maml_is_paired_over_seed_and_iteration():
    probe = probe_frame(("maml", "anil", "scratch"), (-0.01, 0.0, 0.0))
    deltas = np.array([0.01, 0.02, 0.03, 0.0])
    anil = probe["algorithm"] == "anil"
    probe.loc[anil, "off_task_change"] = probe.loc[probe["algorithm"] == "maml", "off_task_change"].to_numpy() \
        - probe.loc[probe["algorithm"] == "maml", "on_task_change"].to_numpy() + deltas
    probe.loc[anil, "on_task_change"] = 0.0
    out = probe_vs_reference(probe).set_index("algorithm")
    assert list(out.index) == ["scratch", "maml", "anil"]
    assert out.loc["maml", ["difference", "p_value"]].isna().all()  # the reference itself
    # hand computation: d = deltas, mean 0.015, s^2 = 0.0005 / 3
    se = math.sqrt(0.0005 / 3 / 4)
    r = out.loc["anil"]
    assert r["test"].startswith("paired")
    assert r["difference"] == pytest.approx(0.015)
    assert r["difference_ci95_high"] - 0.015 == pytest.approx(T975[3] * se, rel=1e-9)
    assert r["p_value"] == pytest.approx(2 * sps.t.sf(0.015 / se, 3), rel=1e-9)
    assert r["mean"] == pytest.approx(-0.02 + 0.0015 + 0.015)  # anil's own off - on


def test_probe_vs_maml_falls_back_to_welch_and_needs_maml():
    probe = probe_frame(("maml", "anil"), (-0.01, 0.01))
    probe = probe[~((probe["algorithm"] == "anil") & (probe["iteration"] == 3))]  # unmatched iterations
    r = probe_vs_reference(probe).set_index("algorithm").loc["anil"]
    x, y = np.array([0.02, 0.021, 0.022]), np.array([-0.02, -0.019, -0.018, -0.017])
    se = math.sqrt(x.var(ddof=1) / 3 + y.var(ddof=1) / 4)
    df = se ** 4 / ((x.var(ddof=1) / 3) ** 2 / 2 + (y.var(ddof=1) / 4) ** 2 / 3)  # Welch-Satterthwaite
    assert r["test"].startswith("Welch")
    assert r["difference"] == pytest.approx(x.mean() - y.mean())
    assert r["difference_ci95_low"] == pytest.approx(x.mean() - y.mean() - sps.t.ppf(0.975, df) * se, rel=1e-9)

    without = probe_vs_reference(probe_frame(("anil", "protonet")))
    assert without["difference"].isna().all() and set(without["test"]) == {""}
    assert without["mean"].notna().all()


# --------------------------------------------------------------------------
# Running time
# --------------------------------------------------------------------------

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(root, stage, algorithm, seed, seconds, setting="5w1s"):
    """A benchmark file of the run's job of ``stage``, and its run's identity columns."""
    from innerloop.runs import RunId

    path = root / "results" / "benchmarks" / stage / "glyphs" / algorithm / setting / f"seed{seed}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:01\t100.5\t1\t1\t1\t-\t-\t50\t{2 * s}\n" for s in seconds))
    ways, shots = (int(n) for n in setting.removesuffix("s").split("w"))
    return path, RunId("glyphs", algorithm, ways, shots, seed).columns()


def test_running_time_from_benchmark_files(tmp_path):
    files = {"train": [], "meta_test": [], "feature_probe": []}
    for algorithm, train in (("maml", (10.0, 30.0, 20.0)), ("scratch", (1.0, 2.0, 3.0))):
        for seed, t in enumerate(train):
            files["train"].append(write_benchmark(tmp_path, "train", algorithm, seed, [t]))
            files["meta_test"].append(write_benchmark(tmp_path, "meta_test", algorithm, seed, [4.0, 6.0]))  # 2 repeats
            if not (algorithm == "scratch" and seed == 2):  # a probe that never ran
                files["feature_probe"].append(write_benchmark(tmp_path, "feature_probe", algorithm, seed, [1.0]))
    bench = pd.concat([read_benchmarks([f for f, _ in stage_files], [run for _, run in stage_files], stage)
                       for stage, stage_files in files.items()], ignore_index=True)
    assert bench.loc[bench["stage"] == "meta_test", "seconds"].eq(5.0).all()  # mean over repetitions
    assert bench["max_rss_mb"].eq(100.5).all() and bench["cpu_seconds"].notna().all()
    times = run_times(bench)
    assert list(times["algorithm"]) == ["scratch"] * 3 + ["maml"] * 3  # table order
    maml0 = times[(times.algorithm == "maml") & (times.seed == 0)].iloc[0]
    assert maml0["total_s"] == pytest.approx(10 + 5 + 1)
    assert math.isnan(times[(times.algorithm == "scratch") & (times.seed == 2)]["total_s"].iloc[0])

    accuracy = pd.DataFrame({"algorithm": ["maml"] * 3, "setting": ["5w1s"] * 3, "seed": [0, 1, 2],
                             "accuracy": [0.4, 0.5, 0.9]})
    summary = running_time_summary(times, accuracy).set_index("algorithm")
    assert summary.loc["maml", ["train_s_median", "train_s_min", "train_s_max"]].tolist() == [20.0, 10.0, 30.0]
    assert summary.loc["maml", "accuracy_median"] == pytest.approx(0.5)
    assert math.isnan(summary.loc["scratch", "accuracy_median"])
    assert summary.loc["maml", "n_seeds"] == 3


def test_benchmark_files_are_checked(tmp_path):
    path, run = write_benchmark(tmp_path, "train", "maml_fd", 3, [1.0], setting="5w10s")
    assert read_benchmarks([path], [run]).iloc[0][["stage", "algorithm", "setting", "ways", "shots", "seed"]].tolist() \
        == ["train", "maml_fd", "5w10s", 5, 10, 3]
    with pytest.raises(ValueError, match="1 benchmark files but 0 runs"):
        read_benchmarks([path], [])
    bad = tmp_path / "benchmarks" / "train" / "glyphs" / "maml" / "5w1s" / "seed0.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("x\ty\n1\t2\n")
    with pytest.raises(ValueError, match="wall-clock"):
        read_benchmarks([bad], [run])


def test_rule_times_sum_jobs_per_rule(tmp_path):
    from innerloop.stats import rule_times

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {"train/glyphs/maml/5w1s/seed0.tsv": (60.0, 900.0, 40.0),
             "train/glyphs/maml/5w1s/seed1.tsv": (70.0, 950.0, 45.0),
             "sine/comparison/maml/seed0.tsv": (5.0, 300.0, 4.0)}
    paths = []
    for name, (s, rss, cpu) in files.items():
        path = tmp_path / "benchmarks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + f"{s}\t0:01:00\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")
        paths.append(path)
    times = rule_times(paths)
    assert list(times["rule"]) == ["train", "sine"]
    train = times.iloc[0]
    assert (train["jobs"], train["wall_s"], train["cpu_s"], train["wall_s_max"], train["max_rss_mb"]) == \
        (2, 130.0, 85.0, 70.0, 950.0)
    with pytest.raises(ValueError, match="benchmarks/<rule>"):
        rule_times([tmp_path / "elsewhere.tsv"])
