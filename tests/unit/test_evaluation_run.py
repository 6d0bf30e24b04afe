"""One evaluation job per run (innerloop.evaluation.run): each table equals the one the
analysis computes alone, on a run loaded for it alone; a diverged run gets marked NaN
tables; the untrained reference is the run's own (tuned) options untrained."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.divergence import STATUS_COLUMN
from innerloop.evaluation.ablations import procedure_accuracies
from innerloop.evaluation.probe import feature_probe
from innerloop.evaluation.reference import untrained_reference
from innerloop.evaluation.representations import representation_change
from innerloop.evaluation.run import ANALYSES, SECONDS_COLUMNS, Settings, evaluate_run, load_run
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate
from innerloop.stats.timing import read_evaluation_seconds, run_times
from innerloop.training import build_run, train

CPU = torch.device("cpu")
SETTINGS = Settings(seed=5, inner_steps=None, meta_test_tasks=6, probe_iterations=3, centroid_shots=1, cka_tasks=2,
                    test_time_tasks=3)


def spec(algorithm, options, **overrides):
    base = dict(dataset="tiny", algorithm=algorithm, seed=3, ways=3, shots=1, queries=2, filters=4, iterations=4,
                meta_batch=2, inner_steps=2, outer_lr=0.01, val_every=2, val_tasks=3, val_seed=9, checkpoint_every=2,
                options=options)
    return RunSpec(**{**base, **overrides})


def trained(directory, run_spec, store):
    model = directory / "model.pt"
    train(run_spec, store, model_path=model, log_path=directory / "log.csv", validation_path=directory / "val.csv",
          checkpoint_path=directory / "ckpt.pt", device=CPU, progress=False)
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_store):
    """A Meta-SGD run, a MAML run at a non-default inner rate (as a tuned one would be) and an
    Alpha-MAML run whose outer rate makes it diverge."""
    root = tmp_path_factory.mktemp("evaluation_run")
    specs = {"metasgd": spec("metasgd", {}), "maml": spec("maml", {"inner_lr": 0.3}),
             "diverged": spec("alpha_maml", {"inner_lr": 0.01, "outer_lr": 1e25})}
    paths = {}
    for name, run_spec in specs.items():
        (root / name).mkdir()
        paths[name] = trained(root / name, run_spec, tiny_store)
    return paths


def alone(model, store, name):
    """The table of analysis ``name``, computed by its own function on a run loaded for it alone."""
    run = load_run(model, store.path, SETTINGS.seed, CPU)
    learner, sampler, steps = run.learner, run.sampler, SETTINGS.inner_steps
    tasks = (sampler.task(i) for i in range(SETTINGS.meta_test_tasks))
    if name == "meta_test":
        return pd.DataFrame({"task": range(SETTINGS.meta_test_tasks), "accuracy": evaluate(learner, tasks, CPU, steps)})
    if name == "untrained_reference":
        return pd.DataFrame({"task": range(SETTINGS.meta_test_tasks),
                             "accuracy": untrained_reference(run.spec, store, tasks, CPU, steps)})
    if name == "probe":
        return feature_probe(learner, sampler, SETTINGS.probe_iterations, CPU, steps=steps, progress=False)
    if name == "cka":
        return representation_change(learner, sampler, SETTINGS.cka_tasks, CPU, steps=steps, progress=False)
    return procedure_accuracies(learner, sampler, SETTINGS.test_time_tasks, CPU, steps=steps)


@pytest.mark.parametrize("algorithm", ["metasgd", "maml"])
def test_each_table_is_the_one_its_analysis_computes_alone(models, tiny_store, algorithm):
    tables = evaluate_run(load_run(models[algorithm], tiny_store.path, SETTINGS.seed, CPU), SETTINGS, ANALYSES)
    assert set(tables) == {*ANALYSES, "seconds"}
    for name in ANALYSES:
        pd.testing.assert_frame_equal(tables[name], alone(models[algorithm], tiny_store, name), check_exact=True,
                                      obj=name)
    seconds = tables["seconds"]
    assert list(seconds.columns) == SECONDS_COLUMNS and seconds["analysis"].tolist() == list(ANALYSES)
    assert (seconds[["seconds", "cpu_seconds"]] >= 0).all().all()
    assert seconds["evaluated_on"].unique().tolist() == ["tiny"]


def test_only_the_analyses_asked_for_are_computed_in_their_order(models, tiny_store):
    run = load_run(models["maml"], tiny_store.path, SETTINGS.seed, CPU)
    tables = evaluate_run(run, SETTINGS, ["probe", "meta_test"])
    assert set(tables) == {"meta_test", "probe", "seconds"}
    assert tables["seconds"]["analysis"].tolist() == ["meta_test", "probe"]
    with pytest.raises(ValueError, match="unknown analyses \\['metatest'\\]"):
        evaluate_run(run, SETTINGS, ["metatest"])


def test_the_untrained_reference_is_the_runs_own_options_untrained(models, tiny_store):
    """The MAML run trained at inner_lr 0.3: its reference adapts at 0.3 (the model file's
    spec), not at the algorithm's default rate."""
    run = load_run(models["maml"], tiny_store.path, SETTINGS.seed, CPU)
    assert run.spec.options["inner_lr"] == 0.3
    reference = evaluate_run(run, SETTINGS, ["untrained_reference"])["untrained_reference"]["accuracy"].to_numpy()
    tasks = [run.sampler.task(i) for i in range(SETTINGS.meta_test_tasks)]
    untrained = build_run(run.spec, tiny_store.image_shape, len(tiny_store.class_ids("train")))
    np.testing.assert_array_equal(reference, evaluate(untrained, tasks, CPU))
    default_rate = dataclasses.replace(run.spec, options={})
    assert build_run(default_rate, tiny_store.image_shape).inner_lr != untrained.inner_lr


def test_a_diverged_run_gets_marked_nan_tables_and_a_real_untrained_reference(models, tiny_store):
    run = load_run(models["diverged"], tiny_store.path, SETTINGS.seed, CPU)
    assert run.diverged
    tables = evaluate_run(run, SETTINGS, ANALYSES)
    for name, rows in (("meta_test", SETTINGS.meta_test_tasks), ("probe", SETTINGS.probe_iterations)):
        table = tables[name]
        assert len(table) == rows and (table[STATUS_COLUMN] == "diverged").all(), name
        assert table.drop(columns=[STATUS_COLUMN, table.columns[0]]).isna().all().all(), name
    # CKA and the test-time procedures: NaN in the layout of a run that trained (not the
    # chance-level accuracies and NaN CKA that a NaN network would give)
    healthy = evaluate_run(load_run(models["maml"], tiny_store.path, SETTINGS.seed, CPU), SETTINGS, ["cka", "test_time"])
    for name, score in (("cka", "cka"), ("test_time", "accuracy")):
        pd.testing.assert_frame_equal(tables[name].drop(columns=score), healthy[name].drop(columns=score), obj=name)
        assert tables[name][score].isna().all(), name
    reference = tables["untrained_reference"]
    assert STATUS_COLUMN not in reference and np.isfinite(reference["accuracy"]).all()


def test_running_time_reads_the_meta_test_and_probe_seconds_of_the_evaluation_job(tmp_path):
    identity = dict(dataset="glyphs", algorithm="maml", setting="5w1s", ways=5, shots=1, seed=0, evaluated_on="glyphs")
    seconds = pd.DataFrame([{**identity, "analysis": a, "seconds": s, "cpu_seconds": s}
                            for a, s in (("meta_test", 2.0), ("untrained_reference", 1.0), ("probe", 3.0))])
    seconds.to_csv(tmp_path / "evaluation_seconds.csv", index=False)
    train = tmp_path / "benchmarks/train/glyphs/maml/5w1s/seed0.tsv"
    train.parent.mkdir(parents=True)
    train.write_text("s\th:m:s\tmax_rss\tcpu_time\n10.0\t0:00:10\t500\t9.5\n")
    from innerloop.runs import RUN_COLUMNS
    from innerloop.stats.timing import read_benchmarks

    run = {k: identity[k] for k in RUN_COLUMNS}
    times = run_times(pd.concat([read_benchmarks([train], [run]),
                                 read_evaluation_seconds([tmp_path / "evaluation_seconds.csv"])], ignore_index=True))
    assert times[["train_s", "meta_test_s", "feature_probe_s", "total_s"]].values.tolist() == [[10.0, 2.0, 3.0, 15.0]]
    assert read_evaluation_seconds([]).empty
