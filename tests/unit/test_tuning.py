"""The tuning stage (innerloop.tuning): candidates, the choice on meta-validation, the table, the config check."""

import math

import pandas as pd
import pytest

from innerloop.config import ConfigError, load_config, validate_config
from innerloop.tuning import (TUNED, candidate_id, candidate_options, candidate_result, candidates, choice_record,
                              choose, tuned_algorithms, tuning_table, with_chosen)


def test_candidates_are_the_product_in_grid_order_or_the_listed_ones():
    assert candidates({"inner_lr": [0.1, 0.4], "outer_stepsize": [1.0]}) == [
        {"inner_lr": 0.1, "outer_stepsize": 1.0}, {"inner_lr": 0.4, "outer_stepsize": 1.0}]
    listed = [{"lr_init_low": 0.005, "lr_init_high": 0.1}, {"lr_init_low": 0.05, "lr_init_high": 0.5}]
    assert candidates(listed) == listed
    assert candidate_id(listed[1]) == "lr_init_low=0.05,lr_init_high=0.5"
    assert candidate_options(listed, "lr_init_low=0.05,lr_init_high=0.5") == listed[1]
    with pytest.raises(KeyError):
        candidate_options(listed, "lr_init_low=0.5,lr_init_high=0.5")


def _log(*scores):
    return pd.DataFrame({"iteration": [10 * (i + 1) for i in range(len(scores))], "accuracy": scores, "ci95": 0.0})


def test_the_best_validation_score_is_chosen_ties_to_the_first_and_diverged_never():
    results = [candidate_result({"inner_lr": 0.01}, _log(0.3, 0.5)),
               candidate_result({"inner_lr": 0.1}, _log(0.6, 0.55)),  # best score 0.6 at iteration 10
               candidate_result({"inner_lr": 0.4}, _log(0.6, 0.6)),  # the same best score: later in grid order
               candidate_result({"inner_lr": 1.0}, _log(0.9), diverged=True)]
    assert results[1]["best_score"] == 0.6 and results[1]["best_iteration"] == 10
    assert math.isnan(results[3]["best_score"]) and results[3]["status"] == "diverged"
    chosen = choose(results)
    assert chosen["options"] == {"inner_lr": 0.1} and chosen["source"] == TUNED
    assert with_chosen({"inner_lr": 0.01, "first_order": False}, chosen) == {"inner_lr": 0.1, "first_order": False}
    assert with_chosen({"inner_lr": 0.01}, None) == {"inner_lr": 0.01}


def test_every_candidate_diverged_is_an_error_naming_them():
    with pytest.raises(ValueError, match="inner_lr=1.0"):
        choose([candidate_result({"inner_lr": 1.0}, _log(0.2), diverged=True)])


def test_the_table_has_a_row_per_candidate_and_marks_the_choice():
    results = [candidate_result({"inner_lr": v}, _log(s)) for v, s in ((0.01, 0.4), (0.1, 0.7))]
    table = tuning_table([choice_record("glyphs", "maml", "5w1s", results)])
    assert table["candidate"].tolist() == ["inner_lr=0.01", "inner_lr=0.1"]
    assert table["chosen"].tolist() == [False, True]
    assert table["best_score"].tolist() == [0.4, 0.7]


def _config(**tuning):
    config = load_config("config/config.yaml")
    config["tuning"] = {**config.get("tuning", {}), **tuning}
    return config


def test_the_default_tunes_the_configured_algorithms_that_have_a_grid():
    assert tuned_algorithms(validate_config(load_config("config/config.yaml"))) == ["maml", "fomaml", "metasgd"]
    config = validate_config(load_config("config/config.yaml", "config/presets/comparison.yaml", sources=False))
    tuned = tuned_algorithms(config)
    assert {"maml", "metasgd", "reptile", "finetune", "scratch"} <= set(tuned)
    assert "protonet" not in tuned and tuned == [a for a in config["algorithms"] if a in tuned]
    assert tuned_algorithms(validate_config(_config(algorithms=[]))) == []


@pytest.mark.parametrize("tuning, key", [
    ({"grid": {"mamll": {"inner_lr": [0.1]}}}, "tuning.grid.mamll"),
    ({"grid": {"maml": {"inner_rate": [0.1]}}}, "tuning.grid.maml.inner_rate"),
    ({"grid": {"maml": {"first_order": ["yes"]}}}, "tuning.grid.maml.first_order"),
    ({"grid": {"maml": {"inner_lr": [float("nan")]}}}, "tuning.grid.maml.inner_lr"),
    ({"grid": {"scratch": {"finetune_steps": [5.0]}}}, "tuning.grid.scratch.finetune_steps"),
    ({"grid": {"maml": {"inner_lr": [0.1, 0.1]}}}, "tuning.grid.maml"),
    ({"grid": {"maml": {"inner_lr": []}}}, "tuning.grid.maml"),
    ({"algorithms": ["protonet"]}, "tuning.algorithms.0"),
    ({"algorithms": ["nothing"]}, "tuning.algorithms.0"),
    ({"iterations": 0}, "tuning.iterations"),
])
def test_bad_tuning_config_names_the_key(tuning, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_config(_config(**tuning))


def test_the_report_table_shows_every_candidate_and_the_choice():
    from innerloop.reporting.tables import tuning_html

    results = [candidate_result({"inner_lr": v}, _log(s)) for v, s in ((0.01, 0.4), (0.1, 0.7))]
    html = tuning_html(tuning_table([choice_record("glyphs", "maml", "5w1s", results)]))
    assert html.count("<tr>") == 3 and "inner_lr=0.1" in html and "70.0%" in html
    assert html.index("inner_lr=0.1") < html.index("chosen")
    assert tuning_html(tuning_table([])) == ""


def test_a_candidate_s_spec_files_and_benchmarks_come_from_the_config():
    from innerloop.runs import RunId, run_spec
    from innerloop.tuning import TUNED_CHOICE, tune_spec, tuned_settings, tuning_benchmarks

    config = validate_config(load_config("config/config.yaml"))
    algorithm = tuned_algorithms(config)[0]
    cid = candidate_id(candidates(config["tuning"]["grid"][algorithm])[0])
    spec = tune_spec(config, config["dataset"], algorithm, config["task"]["ways"], config["task"]["shots"][0], cid)
    main = run_spec(config, RunId(config["dataset"], algorithm, config["task"]["ways"], config["task"]["shots"][0],
                                  config["tuning"]["seed"]))
    assert spec == {**main, "iterations": config["tuning"]["iterations"],
                    "options": {**main["options"], **candidate_options(config["tuning"]["grid"][algorithm], cid)}}
    settings = tuned_settings(config)
    assert [s["algorithm"] for s in settings] == [a for a in tuned_algorithms(config)
                                                  for _ in config["task"]["shots"]]
    assert TUNED_CHOICE.format(**settings[0]).endswith(f"/{algorithm}/{config['task']['ways']}w"
                                                       f"{config['task']['shots'][0]}s/chosen.json")
    benchmarks = tuning_benchmarks(config)
    assert len(benchmarks) == sum(len(candidates(config["tuning"]["grid"][s["algorithm"]])) for s in settings)
    assert benchmarks[0] == (f"results/benchmarks/tune_run/{config['dataset']}/{algorithm}/"
                             f"{config['task']['ways']}w{config['task']['shots'][0]}s/{cid}.tsv")
