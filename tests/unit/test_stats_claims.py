"""The claims table: the verdict rule, the minimum detectable effect, the convergence status
of runs, and effects planted at the seed level in synthetic results that must come out
replicated, not replicated, not testable at this scale or not run."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from innerloop.convergence import CONVERGED, DIVERGED, STILL_IMPROVING, PlateauRule
from innerloop.stats.claims import (
    CLAIM_COLUMNS,
    INCONCLUSIVE,
    NOT_REPLICATED,
    NOT_RUN,
    NOT_TESTABLE,
    REPLICATED,
    ClaimData,
    claims,
    claims_table,
    over_seeds,
    verdict,
    verdict_rule_text,
)
from innerloop.stats.power import min_detectable_effect, standardized_mde, welch_implied_difference
from innerloop.stats.rates import rates_vs_init
from innerloop.stats.scale import run_convergence, scale_summary

ALL = ["maml", "metasgd", "turtle", "fo_turtle", "lstm_meta", "lstm_meta_plus"]
LAYERS = {"conv1": -0.006, "conv2": -0.004, "conv3": -0.013, "conv4": -0.018, "logits": 0.043}  # paper Table 1
INIT = (0.005, 0.1)
RULE = PlateauRule(window=2, delta=0.005, patience=2)
#: Claims for which the paper gives no number: their minimum detectable effect is not compared.
NO_PAPER_NUMBER = {"maml_on_task_down", "metasgd_on_task_down", "metasgd_probe_above_maml"}


# --------------------------------------------------------------------------
# The verdict rule
# --------------------------------------------------------------------------

@pytest.mark.parametrize("direction, low, high, p, expected", [
    ("greater", 0.01, 0.03, None, REPLICATED),
    ("greater", 0.01, 0.03, 0.01, REPLICATED),
    ("greater", 0.01, 0.03, 0.2, INCONCLUSIVE),      # interval on the claimed side, Holm does not confirm
    ("greater", -0.03, -0.01, None, NOT_REPLICATED),
    ("greater", -0.03, -0.01, 0.2, INCONCLUSIVE),    # interval on the other side, Holm does not confirm
    ("greater", -0.01, 0.02, None, INCONCLUSIVE),
    ("less", -0.03, -0.01, 0.001, REPLICATED),
    ("less", 0.01, 0.03, 0.001, NOT_REPLICATED),
    ("greater", math.nan, math.nan, None, INCONCLUSIVE),
    ("equivalent", -0.01, 0.015, None, REPLICATED),   # margin 0.02
    ("equivalent", -0.01, 0.015, 0.3, INCONCLUSIVE),
    ("equivalent", 0.03, 0.05, None, NOT_REPLICATED),
    ("equivalent", -0.06, -0.025, None, NOT_REPLICATED),
    ("equivalent", 0.01, 0.03, None, INCONCLUSIVE),
])
def test_verdict_rule(direction, low, high, p, expected):
    assert verdict(direction, low, high, p, alpha=0.05, margin=0.02) == expected


def test_verdict_rejects_unknown_direction():
    with pytest.raises(ValueError, match="sideways"):
        verdict("sideways", 0.0, 1.0)


def test_verdict_rule_text_fills_in_alpha_margin_and_plateau():
    text = " ".join(verdict_rule_text(0.01, 0.03, RULE.describe()))
    assert "±3 percentage points" in text and "below 0.01" in text and "{" not in text
    assert "moving average of the last 2 validation scores" in text and "not testable at this scale" in text


def test_equivalence_p_is_below_alpha_exactly_when_the_interval_lies_in_the_margin():
    for values in ([0.001, 0.004, -0.002], [0.012, 0.019, 0.016], [0.0, 0.03, -0.03]):
        m = over_seeds(pd.Series(values), margin=0.02)
        inside = -0.02 <= m.low and m.high <= 0.02
        assert (m.p_value < 0.05) == inside, values


# --------------------------------------------------------------------------
# Power and scale
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, 5, 10])
def test_minimum_detectable_effect_has_80_percent_power(n):
    """Rederived with scipy's noncentral t: the two-sided test's power at the MDE is 0.8."""
    sd, df = 0.03, n - 1
    crit = sps.t.isf(0.025, df)

    def power(effect):
        nc = effect / sd * math.sqrt(n)
        return sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)

    mde = min_detectable_effect(sd, n, alpha=0.05, power=0.8)
    assert power(mde) == pytest.approx(0.8, abs=1e-6)
    assert mde == pytest.approx(optimize.brentq(lambda e: power(e) - 0.8, 1e-4, 4 * sd), rel=1e-6)


def test_minimum_detectable_effect_shrinks_with_seeds_and_is_infinite_for_one():
    assert standardized_mde(3) > standardized_mde(5) > standardized_mde(30) > 0.5
    assert min_detectable_effect(0.1, 1) == math.inf
    assert min_detectable_effect(0.0, 5) == 0.0


def test_welch_implied_difference_inverts_the_welch_test():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.0, 1.0, 40_000), rng.normal(0.0, 1.0, 40_000)
    x = x - x.mean() + y.mean() + welch_implied_difference(0.00044, 40_000, 40_000, x.std(ddof=1), y.std(ddof=1))
    assert sps.ttest_ind(x, y, equal_var=False).pvalue == pytest.approx(0.00044, rel=1e-3)


def _validation(run: dict, scores) -> pd.DataFrame:
    return pd.DataFrame({**run, "iteration": 50 * np.arange(1, len(scores) + 1), "accuracy": scores, "ci95": 0.01})


def test_run_convergence_from_validation_logs():
    runs = [{"dataset": "glyphs", "algorithm": a, "setting": "5w1s", "seed": s} for a in ("maml", "metasgd")
            for s in (0, 1)]
    flat, rising = [0.4, 0.5, 0.52, 0.521, 0.521, 0.52, 0.521], [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
    validation = pd.concat([_validation(runs[0], flat), _validation(runs[1], rising), _validation(runs[2], flat),
                            _validation(runs[3], flat[:3])], ignore_index=True)
    diverged = pd.DataFrame([runs[2]])
    table = run_convergence(validation.sample(frac=1, random_state=0), RULE, diverged).set_index(["algorithm", "seed"])
    assert table.loc[("maml", 0), "status"] == CONVERGED and table.loc[("maml", 0), "converged"]
    assert table.loc[("maml", 1), "status"] == STILL_IMPROVING and table.loc[("maml", 1), "last_window_slope"] > 0
    assert table.loc[("metasgd", 0), "status"] == DIVERGED and not table.loc[("metasgd", 0), "converged"]
    assert table.loc[("metasgd", 1), "status"] == STILL_IMPROVING  # three validations: too few to plateau
    assert table.loc[("maml", 0), "iterations"] == 350 and table.loc[("maml", 0), "validations"] == 7


# --------------------------------------------------------------------------
# Effects planted at the seed level
# --------------------------------------------------------------------------

def _centred(rng, sd, n):
    """Noise within a run that averages to exactly zero, over the even and over the odd
    elements (the probe's tasks A are the even meta-test tasks): per-seed means are what was planted."""
    e = rng.normal(0, sd, n)
    e[0::2] -= e[0::2].mean()
    e[1::2] -= e[1::2].mean()
    return e


def _data(sign: float = 1.0, *, scale: float = 10.0, seed_sd: float = 1e-4, seeds=range(5), algorithms=ALL,
          gap: float = 0.0, unconverged: tuple = (), rates_at_init: bool = False, n_tasks=40, n_iter=20) -> ClaimData:
    """Synthetic tables with every effect planted at the seed level: ``scale`` times the
    paper's (and the thesis') numbers, in their direction (``sign`` +1) or against it (-1),
    plus a seed-to-seed spread ``seed_sd`` per run and quantity. Within a run, tasks and
    probe iterations scatter around the run's mean. ``unconverged``: (algorithm, seed) runs
    whose validation log is still rising; ``rates_at_init``: Meta-SGD's learned rates are
    still draws from their uniform init."""
    rng = np.random.default_rng(0)
    seeds = list(seeds)
    # meta-test: TURTLE above MAML and FO-TURTLE (thesis: +1 and +5 pp), enhanced LSTM above the original (+3 pp)
    effect = {"maml": 0.0, "metasgd": 0.0, "turtle": 0.05, "fo_turtle": 0.0, "lstm_meta": 0.0, "lstm_meta_plus": 0.03}
    difficulty = rng.normal(0, 0.05, n_tasks)
    tasks, probe, values, validation = [], [], [], []
    for alg in algorithms:
        for seed in seeds:
            acc = 0.5 + difficulty + sign * scale * effect[alg] / 10 + rng.normal(0, seed_sd) \
                + _centred(rng, 0.03, n_tasks)
            tasks.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "task": range(n_tasks),
                                       "accuracy": acc}))
            on = sign * scale * -0.01 + rng.normal(0, seed_sd) + _centred(rng, 0.02, n_iter)
            off = sign * scale * (-0.003 if alg == "maml" else 0.002) + rng.normal(0, seed_sd) \
                + _centred(rng, 0.02, n_iter)
            # probe task A of iteration i is meta-test task 2i: the probe scores the same tasks' features
            pre = acc[2 * np.arange(n_iter)] + gap + sign * 0.01 * (alg == "metasgd") + rng.normal(0, seed_sd)
            probe.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "iteration": range(n_iter),
                                       "pre_adaptation": pre, "on_task_change": on, "off_task_change": off}))
            if alg == "metasgd":
                for layer, m in LAYERS.items():
                    v = (rng.uniform(*INIT, 300) if rates_at_init
                         else sign * scale * m + rng.normal(0, seed_sd) + _centred(rng, 0.01, 300))
                    values.append(pd.DataFrame({"algorithm": alg, "setting": "5w1s", "seed": seed, "layer": layer,
                                                "value": v}))
            rising = (alg, seed) in unconverged
            scores = [0.3, 0.35, 0.4, 0.45, 0.5] if rising else [0.3, 0.4, 0.45, 0.45, 0.451, 0.45, 0.451]
            validation.append(_validation({"dataset": "glyphs", "algorithm": alg, "setting": "5w1s", "seed": seed},
                                          scores))
    values = pd.concat(values, ignore_index=True) if values else pd.DataFrame(
        columns=["algorithm", "setting", "seed", "layer", "value"])
    per_seed = values.groupby(["algorithm", "setting", "seed", "layer"], as_index=False, sort=False)["value"].mean()
    return ClaimData(tasks=pd.concat(tasks, ignore_index=True), probe=pd.concat(probe, ignore_index=True),
                     lr_per_seed=per_seed.rename(columns={"value": "mean"}),
                     convergence=run_convergence(pd.concat(validation, ignore_index=True), RULE),
                     rates_vs_init=rates_vs_init(values, {"metasgd": INIT}), margin=0.02)


def _table(data: ClaimData) -> pd.DataFrame:
    table = claims_table(data)
    assert list(table.columns) == CLAIM_COLUMNS
    return table.set_index("id")


def test_large_effects_with_five_seeds_are_replicated():
    table = _table(_data(+1.0))
    assert dict(table["verdict"]) == {c.id: REPLICATED for c in claims()}
    assert table["testable"].all() and (table["mde"] < table["paper_effect"].fillna(np.inf)).all()
    assert (table["runs"] == 5 * table.index.map(lambda i: len(next(c for c in claims() if c.id == i).needs))).all()


def test_effects_against_the_claims_with_five_seeds_are_not_replicated():
    table = _table(_data(-1.0, gap=0.1))  # probe 10 pp above meta-test: not "close"
    assert dict(table["verdict"]) == {c.id: NOT_REPLICATED for c in claims()}


def test_tiny_effects_with_three_seeds_are_not_testable():
    table = _table(_data(+1.0, scale=0.1, seed_sd=0.1, seeds=range(3)))  # seeds ~10 pp apart, as in the default run
    for claim_id, r in table.iterrows():
        if claim_id in NO_PAPER_NUMBER:  # nothing to compare the MDE with: judged on the interval
            assert r["verdict"] == INCONCLUSIVE and "gives no number" in r["note"], claim_id
        else:
            assert r["verdict"] == NOT_TESTABLE, claim_id
            assert "minimum detectable effect" in r["not_testable_because"] and r["mde"] > r["paper_effect"], claim_id


def test_an_unconverged_run_makes_its_claims_not_testable():
    table = _table(_data(+1.0, unconverged=(("maml", 2),)))
    for c in claims():
        r = table.loc[c.id]
        if "maml" in c.needs:
            assert r["verdict"] == NOT_TESTABLE, c.id
            assert r["not_testable_because"].startswith("runs not converged: maml seed 2 (budget reached"), c.id
            assert r["runs_converged"] == r["runs"] - 1
        else:
            assert r["verdict"] == REPLICATED, c.id


def test_runs_without_a_convergence_status_are_not_converged():
    data = _data(+1.0)
    data.convergence = None
    table = _table(data)
    assert (table["verdict"] == NOT_TESTABLE).all()
    assert table["not_testable_because"].str.contains("no validation log").all()


def test_rates_still_at_their_init_make_the_rate_claims_not_testable():
    table = _table(_data(+1.0, rates_at_init=True))
    for c in claims():
        r = table.loc[c.id]
        if c.rate_layer:
            assert r["verdict"] == NOT_TESTABLE and "indistinguishable from their initial distribution" in \
                r["not_testable_because"], c.id
        else:
            assert r["verdict"] == REPLICATED, c.id


def test_one_holm_family_over_the_whole_table_and_testable_claims_first():
    table = claims_table(_data(+1.0, unconverged=(("turtle", 0),), algorithms=[a for a in ALL if a != "lstm_meta"]))
    p = table["p_value"].to_numpy(dtype=float)
    has_p = ~np.isnan(p)
    from statsmodels.stats.multitest import multipletests

    assert table.loc[has_p, "p_holm"].to_numpy() == pytest.approx(multipletests(p[has_p], method="holm")[1])
    order = table["verdict"].map({REPLICATED: 0, NOT_TESTABLE: 1, NOT_RUN: 2}).to_list()
    assert order == sorted(order) and order[-1] == 2 and 1 in order


def test_claims_with_missing_algorithms_are_not_run():
    table = _table(_data(+1.0, algorithms=["maml", "turtle"]))
    assert table.loc["metasgd_conv1_negative", "verdict"] == NOT_RUN
    assert "metasgd" in table.loc["off_minus_on_ttest", "note"]
    assert table.loc["second_order_turtle", "verdict"] == NOT_RUN
    assert table.loc["second_order_lstm", "verdict"] == NOT_RUN
    assert table.loc["turtle_vs_maml", "verdict"] == REPLICATED
    assert table.loc["maml_off_task_down", "verdict"] == REPLICATED
    assert math.isnan(table.loc["metasgd_conv1_negative", "estimate"])


def test_one_seed_is_not_testable():
    table = _table(_data(+1.0, seeds=(0,)))
    assert (table["verdict"] == NOT_TESTABLE).all()
    assert table["not_testable_because"].str.contains("one seed with a value").all()
    assert (table["mde"] == np.inf).all()


def test_seed_level_statistic_and_the_conditional_tests_beside_it():
    data = _data(+1.0, seeds=range(3))
    table = _table(data)
    # the seed-level interval is over per-seed means, paired by seed
    t = data.tasks.groupby(["algorithm", "seed"])["accuracy"].mean()
    d = (t["turtle"] - t["maml"]).to_numpy()
    r = table.loc["turtle_vs_maml"]
    half = sps.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert r["estimate"] == pytest.approx(d.mean()) and r["ci95_high"] == pytest.approx(d.mean() + half)
    assert r["p_value"] == pytest.approx(sps.ttest_1samp(d, 0).pvalue) and r["n_seeds"] == 3
    assert r["conditional_n"] == 3 * 40 and "(seed, task)" in r["conditional_test"]
    # the paper's own test, Welch over probe iterations, beside the seed-level one
    w = table.loc["off_minus_on_ttest"]
    p = data.probe.assign(d=data.probe["off_task_change"] - data.probe["on_task_change"])
    welch = sps.ttest_ind(p.loc[p["algorithm"] == "metasgd", "d"], p.loc[p["algorithm"] == "maml", "d"],
                          equal_var=False)
    assert w["conditional_p"] == pytest.approx(welch.pvalue) and "Welch" in w["conditional_test"]
    assert w["conditional_test"].endswith("(these networks)") and w["paper"] == "p = 0.00044"
    # the feature-reuse claim pairs probe iteration i with meta-test task 2i
    assert "meta-test task 2i" in table.loc["feature_reuse_maml", "note"]


def test_claims_report_paper_numbers_and_units():
    table = _table(_data(+1.0))
    assert table.loc["metasgd_conv4_negative", "paper_value"] == pytest.approx(-0.018)
    assert table.loc["metasgd_conv4_negative", "paper_effect"] == pytest.approx(0.018)
    assert table.loc["metasgd_conv4_negative", "unit"] == "rate"
    assert table.loc["off_minus_on_ttest", "paper"] == "p = 0.00044"
    assert table.loc["second_order_turtle", "paper_value"] == pytest.approx(0.05)
    assert table.loc["feature_reuse_maml", "paper_effect"] == pytest.approx(0.02)  # the margin
    assert (table["setting"] == "5w1s").all()


def test_scale_summary_counts_testable_claims():
    data = _data(+1.0, unconverged=(("maml", 0),))
    table = claims_table(data)
    s = scale_summary(data.convergence, table, probe_iterations=20, seeds=[0, 1, 2, 3, 4])
    assert s["iterations_min"] == 250 and s["iterations_max"] == 350
    assert s["iterations_fraction"] == pytest.approx(350 / 60_000)
    assert s["probe_fraction"] == pytest.approx(20 / 40_000)
    assert s["runs"] == 30 and s["runs_converged"] == 29
    assert s["claims_run"] == 16 and s["claims_testable"] == int(table["testable"].sum()) == 16 - 6  # six need MAML
