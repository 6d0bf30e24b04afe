"""The claims table: the verdict rule, and each claim's verdict on synthetic data where it
must come out replicated, not replicated, inconclusive or not run."""

import math

import numpy as np
import pandas as pd
import pytest

from innerloop.stats.claims import (
    CLAIM_COLUMNS,
    INCONCLUSIVE,
    NOT_REPLICATED,
    NOT_RUN,
    REPLICATED,
    ClaimData,
    claims,
    claims_table,
    verdict,
    verdict_rule_text,
)
from innerloop.stats.paired import lr_below_zero, paired_meta_test

ALL = ["maml", "metasgd", "turtle", "fo_turtle", "lstm_meta", "lstm_meta_plus"]


@pytest.mark.parametrize("direction, low, high, p, expected", [
    ("greater", 0.01, 0.03, None, REPLICATED),
    ("greater", 0.01, 0.03, 0.01, REPLICATED),
    ("greater", 0.01, 0.03, 0.2, INCONCLUSIVE),      # interval on the claimed side, Holm does not confirm
    ("greater", -0.03, -0.01, None, NOT_REPLICATED),
    ("greater", -0.01, 0.02, None, INCONCLUSIVE),
    ("less", -0.03, -0.01, 0.001, REPLICATED),
    ("less", 0.01, 0.03, 0.001, NOT_REPLICATED),
    ("greater", math.nan, math.nan, None, INCONCLUSIVE),
    ("equivalent", -0.01, 0.015, None, REPLICATED),   # margin 0.02
    ("equivalent", 0.03, 0.05, None, NOT_REPLICATED),
    ("equivalent", -0.06, -0.025, None, NOT_REPLICATED),
    ("equivalent", 0.01, 0.03, None, INCONCLUSIVE),
])
def test_verdict_rule(direction, low, high, p, expected):
    assert verdict(direction, low, high, p, alpha=0.05, margin=0.02) == expected


def test_verdict_rejects_unknown_direction():
    with pytest.raises(ValueError, match="sideways"):
        verdict("sideways", 0.0, 1.0)


def test_verdict_rule_text_fills_in_alpha_and_margin():
    text = " ".join(verdict_rule_text(0.01, 0.03))
    assert "±3 percentage points" in text and "below 0.01" in text and "{" not in text


def _data(sign: float, *, algorithms=ALL, noise: float = 0.002, seeds=(0, 1, 2), n_tasks=60, n_iter=60,
          gap: float = 0.0) -> ClaimData:
    """Synthetic tables in which every claim holds (sign +1), is contradicted (sign -1) or
    is lost in noise (sign 0 with large noise). ``gap``: probe minus meta-test accuracy."""
    rng = np.random.default_rng(0)
    # second order over first order (TURTLE, LSTM) and TURTLE over MAML: sign * 4 / 3 / 4 pp
    effect = {"maml": 0.0, "metasgd": 0.0, "turtle": 0.04, "fo_turtle": 0.0, "lstm_meta": 0.0,
              "lstm_meta_plus": 0.03}
    tasks, probe, lr = [], [], []
    difficulty = rng.normal(0, 0.05, n_tasks)
    for alg in algorithms:
        for seed in seeds:
            shift = sign * effect[alg]
            acc = 0.6 + difficulty + shift + rng.normal(0, noise, n_tasks)
            tasks.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "task": range(n_tasks),
                                       "accuracy": acc}))
            on = -0.01 * sign + rng.normal(0, noise, n_iter)
            off = (-0.003 if alg == "maml" else 0.004) * sign + rng.normal(0, noise, n_iter)
            pre = 0.6 + gap + (0.01 * sign if alg == "metasgd" else 0.0) + rng.normal(0, noise, n_iter)
            probe.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "iteration": range(n_iter),
                                       "pre_adaptation": pre, "on_task_change": on, "off_task_change": off}))
            if alg == "metasgd":
                for layer, m in (("conv1", -0.01), ("conv2", -0.01), ("conv3", -0.02), ("conv4", -0.02),
                                 ("logits", 0.04)):
                    lr.append({"algorithm": alg, "setting": "5w1s", "seed": seed, "layer": layer,
                               "mean": sign * m + rng.normal(0, noise / 2)})
    tasks = pd.concat(tasks, ignore_index=True)
    lr = pd.DataFrame(lr, columns=["algorithm", "setting", "seed", "layer", "mean"])
    return ClaimData(tasks=tasks, probe=pd.concat(probe, ignore_index=True), lr_below_zero=lr_below_zero(lr),
                     paired_meta_test=paired_meta_test(tasks), margin=0.02)


def _verdicts(data: ClaimData) -> dict[str, str]:
    table = claims_table(data)
    assert list(table.columns) == CLAIM_COLUMNS
    return dict(zip(table["id"], table["verdict"]))


def test_every_claim_replicated_where_the_data_carry_it():
    verdicts = _verdicts(_data(+1.0))
    assert verdicts == {c.id: REPLICATED for c in claims()}


def test_every_direction_claim_not_replicated_where_the_data_contradict_it():
    verdicts = _verdicts(_data(-1.0, gap=0.1))  # probe 10 pp above meta-test: not "close"
    assert verdicts == {c.id: NOT_REPLICATED for c in claims()}


def test_claims_inconclusive_in_noise():
    verdicts = _verdicts(_data(0.0, noise=0.2, seeds=(0, 1), n_tasks=8, n_iter=8, gap=0.02))
    assert verdicts == {c.id: INCONCLUSIVE for c in claims()}


def test_claims_with_missing_algorithms_are_not_run():
    table = claims_table(_data(+1.0, algorithms=["maml", "turtle"])).set_index("id")
    assert table.loc["metasgd_conv1_negative", "verdict"] == NOT_RUN
    assert "metasgd" in table.loc["off_minus_on_ttest", "note"]
    assert table.loc["second_order_turtle", "verdict"] == NOT_RUN
    assert table.loc["second_order_lstm", "verdict"] == NOT_RUN
    assert table.loc["turtle_vs_maml", "verdict"] == REPLICATED
    assert table.loc["maml_off_task_down", "verdict"] == REPLICATED
    assert table.loc["metasgd_conv1_negative", "estimate"] != table.loc["metasgd_conv1_negative", "estimate"]  # NaN


def test_one_seed_gives_no_interval_over_seeds_and_an_inconclusive_rate_claim():
    table = claims_table(_data(+1.0, seeds=(0,))).set_index("id")
    assert table.loc["metasgd_conv4_negative", "verdict"] == INCONCLUSIVE
    assert table.loc["maml_off_task_down", "verdict"] == REPLICATED  # iterations still give an interval


def test_claims_report_paper_numbers_and_units():
    table = claims_table(_data(+1.0)).set_index("id")
    assert table.loc["metasgd_conv4_negative", "paper_value"] == pytest.approx(-0.018)
    assert table.loc["metasgd_conv4_negative", "unit"] == "rate"
    assert table.loc["off_minus_on_ttest", "paper"] == "p = 0.00044"
    assert table.loc["second_order_turtle", "paper_value"] == pytest.approx(0.05)
    assert (table["setting"] == "5w1s").all()
