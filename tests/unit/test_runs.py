"""A run's identity (innerloop.runs.RunId): made from what planned the run, written into its
paths and its tables, and never read back out of a path."""

from pathlib import Path

import pandas as pd
import pytest

from innerloop.config import load_schema, validate_config
from innerloop.runs import (MAIN, RUN_COLUMNS, RUN_DIR, RUN_KEY, TURTLE_STUDY_OPTIONS, RunId, RunSpec,
                            comparison_variants, evaluation_settings, experiment_variants, grid_spec, positive_run_ids,
                            read_runs, run_files, run_identity, run_ids, run_spec, study_spec, sweep_run_ids,
                            sweep_studies, turtle_study_variants, variant_spec)
from sine_cases import SINE, SINE_ALGORITHMS

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_names_its_directory_benchmarks_and_columns():
    run = RunId("glyphs", "maml", 5, 1, 3)
    assert run.study == MAIN and run.setting == "5w1s"
    assert run.directory == "results/runs/glyphs/maml/5w1s/seed3"
    assert run.key == RUN_KEY.format(dataset="glyphs", algorithm="maml", ways=5, shots=1, seed=3)
    assert run.benchmark("train") == "results/benchmarks/train/glyphs/maml/5w1s/seed3.tsv"
    assert run.benchmark("cross_domain_evaluation", "digits") == \
        "results/benchmarks/cross_domain_evaluation/glyphs/maml/5w1s/seed3/digits.tsv"
    assert run.columns() == {"dataset": "glyphs", "algorithm": "maml", "setting": "5w1s", "ways": 5, "shots": 1,
                             "seed": 3}
    assert tuple(run.columns()) == RUN_COLUMNS
    assert run.columns(target="digits") == {**run.columns(), "setting": "glyphs_to_digits_5w1s", "target": "digits"}


def test_an_ablation_run_lives_under_its_study_and_says_so():
    run = RunId("glyphs", "metasgd", 5, 1, 0, study="steps3")
    assert run.directory == "results/ablations/steps3/runs/glyphs/metasgd/5w1s/seed0"
    assert run.benchmark("ablation_probe") == "results/benchmarks/ablation_probe/steps3/glyphs/metasgd/5w1s/seed0.tsv"
    assert run.columns()["study"] == "steps3" and list(run.columns())[-1] == "study"


def test_a_run_comes_from_wildcards_or_from_its_spec():
    wildcards = {"dataset": "glyphs", "algorithm": "anil", "ways": "5", "shots": "5", "seed": "2"}
    assert RunId.from_wildcards(wildcards) == RunId("glyphs", "anil", 5, 5, 2)
    assert RunId.from_wildcards({**wildcards, "study": "positive_rates"}).study == "positive_rates"
    spec = RunSpec(dataset="glyphs", algorithm="anil", seed=2, ways=5, shots=5, queries=3, filters=8, iterations=1,
                   meta_batch=1, inner_steps=1, outer_lr=0.1, val_every=1, val_tasks=1, val_seed=0,
                   checkpoint_every=1)
    assert RunId.from_spec(spec) == RunId.from_spec(vars(spec)) == RunId.from_wildcards(wildcards)


def test_tagging_puts_the_identity_in_front_and_refuses_a_clash():
    run = RunId("glyphs", "maml", 5, 1, 0)
    tagged = run.tag(pd.DataFrame({"task": [0, 1], "accuracy": [0.5, 0.7]}))
    assert list(tagged.columns) == [*RUN_COLUMNS, "task", "accuracy"]
    assert tagged["seed"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="already has identity columns"):
        run.tag(tagged)


def test_collecting_tables_reads_their_identity_not_their_paths(tmp_path):
    """The files sit where their paths say nothing about their runs: the rows still say."""
    paths = []
    for i, (algorithm, seed) in enumerate([("maml", 0), ("metasgd", 4)]):
        path = tmp_path / f"table{i}.csv"
        RunId("glyphs", algorithm, 5, 1, seed).tag(pd.DataFrame({"task": [0], "accuracy": [0.6]})).to_csv(
            path, index=False)
        paths.append(path)
    collected = read_runs(paths)
    assert collected[["algorithm", "seed"]].values.tolist() == [["maml", 0], ["metasgd", 4]]

    untagged = tmp_path / "old.csv"
    pd.DataFrame({"task": [0], "accuracy": [0.6]}).to_csv(untagged, index=False)
    with pytest.raises(ValueError, match=r"old\.csv lacks the run identity columns"):
        read_runs([*paths, untagged])
    with pytest.raises(ValueError, match="no per-run tables"):
        read_runs([])


def _config():
    from innerloop.config import load_config

    return load_config(ROOT / "config/config.yaml", ROOT / "config/presets/smoke.yaml", sources=False)


def test_the_main_runs_and_their_specs_come_from_the_config():
    config = _config()
    runs = run_ids(config)
    assert len(runs) == len(config["algorithms"]) * len(config["task"]["shots"]) * len(config["seeds"])
    assert [r.algorithm for r in runs[:len(config["seeds"]) * len(config["task"]["shots"])]] == \
        [config["algorithms"][0]] * len(config["seeds"]) * len(config["task"]["shots"])
    spec = RunSpec(**run_spec(config, runs[0]))  # a complete RunSpec
    assert (spec.dataset, spec.algorithm, spec.seed, spec.iterations) == \
        (runs[0].dataset, runs[0].algorithm, runs[0].seed, config["train"]["iterations"])
    assert spec.options == config["algorithm_options"].get(runs[0].algorithm, {})


def test_an_ablation_run_s_spec_is_its_main_run_s_with_the_study_s_change():
    config = _config()
    main = run_spec(config, RunId("glyphs", "metasgd", 5, 1, 0))
    positive = study_spec(config, RunId("glyphs", "metasgd", 5, 1, 0, study="positive_rates"))
    assert positive == {**main, "options": {**main["options"], "positive": True}}
    sweep = config["ablations"]["inner_steps"]
    study, steps = next(iter(sweep_studies(config).items()))
    assert study == f"steps{steps}" and list(sweep_studies(config).values()) == sweep["steps"]
    swept = study_spec(config, RunId("glyphs", "maml", 5, 1, 0, study=study))
    assert (swept["inner_steps"], swept["iterations"], swept["val_every"]) == (steps, sweep["iterations"],
                                                                              sweep["iterations"])
    runs = sweep_run_ids(config)
    per_study = len(sweep["algorithms"]) * len(config["task"]["shots"]) * len(sweep["seeds"])
    assert len(runs) == len(sweep["steps"]) * per_study
    assert {r.study for r in runs} == set(sweep_studies(config))
    asked = {**config, "ablations": {**config["ablations"], "rate_signs": {"positive_trained": True}}}
    assert [r.study for r in positive_run_ids(asked)] == ["positive_rates"] * len(config["seeds"]) * len(
        config["task"]["shots"])
    assert positive_run_ids({**asked, "algorithms": ["maml"]}) == []
    not_asked = {**asked, "ablations": config["ablations"] | {"rate_signs": {"positive_trained": False}}}
    assert positive_run_ids(not_asked) == []
    assert RunSpec(**grid_spec(config)).algorithm == "alpha_maml"


# --------------------------------------------------------------------------------------
# The sine-wave study's runs (innerloop.runs)
# --------------------------------------------------------------------------------------

def test_comparison_variants():
    variants = comparison_variants(SINE)
    assert list(variants) == ["maml", "fomaml", "metasgd", "lstm_meta_plus"]
    assert {v.role for v in variants.values()} == {"compared"}
    assert variants["maml"].order == "first" and variants["fomaml"].order == "first"  # maml with first_order: true
    assert variants["metasgd"].order == "second" and variants["metasgd"].inner_steps == 2
    assert variants["lstm_meta_plus"].inner_steps == 8  # its own updates per task
    spec = variant_spec(SINE, "comparison", "fomaml", 1)
    assert (spec.dataset, spec.ways, spec.seed, spec.shots, spec.queries, spec.filters) == ("sine", 1, 1, 5, 5, 8)
    assert spec.options == {"inner_lr": 0.02} and spec.val_seed == 7 and spec.iterations == 3


def test_turtle_study_variants_fix_alpha_and_the_inputs():
    variants = turtle_study_variants(SINE)
    assert len(variants) == 2 * 2 * 2 + 2 * 2
    assert {n for n, v in variants.items() if v.role == "reference"} == {"fomaml-t1", "fomaml-t3", "maml-t1", "maml-t3"}
    second = variants["turtle-t3-h2"]
    assert (second.algorithm, second.order, second.inner_steps, second.hidden_layers) == ("turtle", "second", 3, 2)
    assert second.options == {**SINE["algorithm_options"]["turtle"], **TURTLE_STUDY_OPTIONS, "lr_init": 0.05,
                              "hidden_layers": 2, "first_order": False}
    first = variants["fo_turtle-t1-h0"]
    assert first.options == {**SINE["algorithm_options"]["fo_turtle"], "learn_lr": False, "lr_init": 0.05,
                             "inputs": ["gradient"], "hidden_layers": 0}
    assert variants["maml-t3"].options == {"inner_lr": 0.01, "first_order": False}  # the reference is second order
    assert variants["fomaml-t1"].order == "first"
    assert variant_spec(SINE, "turtle_study", "turtle-t3-h2", 0).inner_steps == 3
    with pytest.raises(ValueError, match="no variant"):
        variant_spec(SINE, "turtle_study", "turtle-t2-h2", 0)
    with pytest.raises(ValueError, match="experiment"):
        experiment_variants(SINE, "ablation")


def test_run_files_and_identity():
    files = run_files(SINE, "comparison", "mse.csv")
    assert len(files) == 4 * 2 and files[0] == "results/sine/comparison/maml/seed0/mse.csv"
    assert RUN_DIR.format(experiment="turtle_study", variant="maml-t1", seed=1) in " ".join(
        run_files(SINE, "turtle_study", "x"))
    assert run_identity(SINE, "turtle_study", "fo_turtle-t3-h2", 1) == {
        "experiment": "turtle_study", "variant": "fo_turtle-t3-h2", "algorithm": "fo_turtle", "role": "turtle",
        "order": "first", "inner_steps": 3, "hidden_layers": 2, "seed": 1, "split": "val"}
    assert evaluation_settings(SINE, "comparison") == {"split": "test", "shots": 5, "queries": 11, "seed": 7,
                                                       "n_tasks": 6}


def test_schema_defaults_of_the_sine_block():
    assert "sine" in load_schema()["properties"], "config/schema.yaml has no sine block"
    sine_config = validate_config({})["sine"]
    assert sine_config["shots"] == 5 and sine_config["hidden_units"] == 40
    assert set(sine_config["algorithm_options"]) >= set(SINE_ALGORITHMS)
    for experiment in ("comparison", "turtle_study"):
        for variant in experiment_variants(sine_config, experiment):
            variant_spec(sine_config, experiment, variant, 0)
