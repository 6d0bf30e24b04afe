"""Statistics and per-run summaries against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from innerloop.evaluation.learning_rates import layer_statistics, values_by_layer
from innerloop.stats import lr_table, mean_ci, meta_test_summary, probe_changes, probe_summary, probe_ttest


def test_mean_ci_matches_hand_computation():
    # mean 2.5, s = sqrt(5/3), se = s / 2, t_{0.975, 3} = 3.182446305...
    ci = mean_ci([1, 2, 3, 4])
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert ci.mean == pytest.approx(2.5)
    assert ci.low == pytest.approx(2.5 - half, rel=1e-9)
    assert ci.high == pytest.approx(2.5 + half, rel=1e-9)


def test_mean_ci_rejects_non_finite_values():
    with pytest.raises(ValueError, match="non-finite"):
        mean_ci([0.5, float("nan")])


def probe_frame():
    rows = []
    for algorithm, shift in (("maml", -0.01), ("metasgd", 0.01)):
        for i in range(4):
            pre = 0.5 + 0.01 * i
            rows.append({"algorithm": algorithm, "seed": 0, "iteration": i, "pre_adaptation": pre,
                         "pre_adaptation_off": pre, "on_task": pre - shift, "off_task": pre + shift + 0.001 * i,
                         "on_task_change": -shift, "off_task_change": shift + 0.001 * i})
    return pd.DataFrame(rows)


def test_probe_ttest_is_welch_on_off_minus_on():
    # off_minus_on: maml -0.02 + 0.001 i, metasgd 0.02 + 0.001 i (i = 0..3): equal variances,
    # difference of means -0.04, s^2 = 1.6667e-6 each, se = sqrt(2 * s^2 / 4).
    result = probe_ttest(probe_frame()).iloc[0]
    s2 = np.var([0, 0.001, 0.002, 0.003], ddof=1)
    assert result["statistic"] == pytest.approx(-0.04 / math.sqrt(2 * s2 / 4), rel=1e-9)
    assert result["df"] == pytest.approx(6.0)
    assert result["p_value"] < 1e-6


def test_probe_summaries_have_one_row_per_algorithm_and_phase():
    summary = probe_summary(probe_frame())
    assert len(summary) == 6
    row = summary[(summary.algorithm == "metasgd") & (summary.phase == "off_task")].iloc[0]
    assert row["mean"] == pytest.approx(np.mean([0.51 + 0.001 * i + 0.01 * i for i in range(4)]))
    changes = probe_changes(probe_frame())
    row = changes[(changes.algorithm == "maml") & (changes.change == "on_task_change")].iloc[0]
    assert row["mean"] == pytest.approx(0.01)


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

    per_seed = pd.concat([layer_statistics(values).assign(seed=s) for s in (0, 1)])
    per_seed.loc[per_seed.seed == 1, "mean"] += 1.0
    table = lr_table(per_seed).set_index("layer")
    assert table.loc["conv1", "mean"] == pytest.approx(-0.5)
    assert table.loc["conv1", "n_seeds"] == 2


def test_meta_test_summary_over_seeds():
    runs = pd.DataFrame({"algorithm": ["maml"] * 3, "setting": ["5w1s"] * 3, "seed": [0, 1, 2],
                         "accuracy": [0.5, 0.6, 0.9]})
    row = meta_test_summary(runs).iloc[0]
    assert row["n_seeds"] == 3
    assert row["median"] == pytest.approx(0.6)
    assert row["mean"] == pytest.approx(2.0 / 3)
    assert row["ci95_low"] < row["mean"] < row["ci95_high"]
