"""A run's identity (innerloop.runs.RunId): made from what planned the run, written into its
paths and its tables, and never read back out of a path."""

from pathlib import Path

import pandas as pd
import pytest

from innerloop.runs import (MAIN, RUN_COLUMNS, RUN_KEY, RunId, RunSpec, grid_spec, positive_run_ids, read_runs,
                            run_ids, run_spec, study_spec, sweep_run_ids, sweep_studies)

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
    assert len(runs) == len(sweep["steps"]) * len(sweep["algorithms"]) * len(config["task"]["shots"]) * len(sweep["seeds"])
    assert {r.study for r in runs} == set(sweep_studies(config))
    asked = {**config, "ablations": {**config["ablations"], "rate_signs": {"positive_trained": True}}}
    assert [r.study for r in positive_run_ids(asked)] == ["positive_rates"] * len(config["seeds"]) * len(
        config["task"]["shots"])
    assert positive_run_ids({**asked, "algorithms": ["maml"]}) == []
    assert positive_run_ids({**asked, "ablations": config["ablations"] | {"rate_signs": {"positive_trained": False}}}) == []
    assert RunSpec(**grid_spec(config)).algorithm == "alpha_maml"
