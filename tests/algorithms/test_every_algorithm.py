"""What every registered algorithm passes, parametrised over the registry
(``innerloop.algorithms.ALGORITHMS``) with its test parameters (tests/algorithm_cases.py).

- It has test parameters, and they name a hand-derived reference test that exists.
- It learns under its default settings: a short run on glyphs, with the default experiment's
  options and training settings (config/config.yaml over the schema's defaults;
  tests/learning.py; no rate chosen for the test), beats chance on held-out tasks by a
  margin, and beats its own untrained reference (the same seed's initialisation under the
  same evaluation protocol), since a held-out score alone could come from evaluation-time
  fine-tuning of an untrained network. A learner that is not meta-trained has no reference
  apart from itself; it must beat chance.
- A trained model saved by ``train`` reloads to the same meta-parameters and the same scores.
- The meta-step benchmark (benchmarks/meta_step.py) times its meta-training step, on the
  data its training draws (episodes, or labelled batches for the learners that pre-train).

The batched meta-gradient against the per-task loop in float64 is
tests/algorithms/test_batched.py, over the same registry, and CUDA is tests/algorithms/test_cuda.py.
"""

import ast
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from algorithm_cases import CASES, case, learning_cases
from learning import CHANCE, MARGIN, short_run_accuracy, untrained_accuracy

from innerloop.algorithms import ALGORITHMS
from innerloop.data.sampler import fixed_tasks
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate
from innerloop.training import load_model, train

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_the_cases_are_the_registry():
    assert set(CASES) - set(ALGORITHMS) == set(), "tests/algorithm_cases.py has cases of unregistered algorithms"


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_its_reference_test_exists(name):
    file, function = case(name).reference.split("::")
    tree = ast.parse((HERE / file).read_text())
    assert function in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, case(name).reference


@pytest.mark.parametrize("algorithm, options, overrides, margin", learning_cases())
def test_short_training_with_default_settings_beats_chance_and_its_untrained_reference(
        tmp_path, glyph_store, algorithm, options, overrides, margin):
    accuracy = short_run_accuracy(glyph_store, tmp_path, algorithm, options, **overrides)
    assert accuracy > CHANCE + MARGIN, f"{algorithm} {options}: {accuracy:.3f} on held-out tasks"
    if not ALGORITHMS[algorithm].meta_trained:
        return
    before = untrained_accuracy(glyph_store, algorithm, options, **overrides)
    print(f"{algorithm} {options}: {accuracy:.3f} trained, {before:.3f} untrained")
    assert accuracy > before + margin, f"{algorithm} {options}: {before:.3f} untrained, {accuracy:.3f} trained"


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_a_saved_model_reloads_to_the_same_scores(tmp_path, tiny_store, name):
    options = {**case(name).gradient_options, **({"epochs": 1} if "epochs" in ALGORITHMS[name].with_defaults({})
                                                   else {})}
    spec = RunSpec(dataset="tiny", algorithm=name, seed=0, ways=3, shots=1, queries=2, filters=4, iterations=3,
                   meta_batch=2, inner_steps=2, outer_lr=0.01, val_every=3, val_tasks=2, val_seed=1,
                   checkpoint_every=100, options=options)
    paths = dict(model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
                 validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt")
    learner = train(spec, tiny_store, device=torch.device("cpu"), progress=False, **paths)
    loaded, loaded_spec, status = load_model(paths["model_path"])
    assert type(loaded) is type(learner) and loaded_spec == spec
    assert {k: status[k] for k in ("status", "iterations")} == {k: learner.training_status[k]
                                                               for k in ("status", "iterations")}
    for key, tensor in learner.meta_parameters().items():
        assert torch.equal(tensor.detach(), loaded.meta_parameters()[key].detach()), key
    tasks = fixed_tasks(tiny_store, "test", 3, 1, 2, seed=5, n=4)
    np.testing.assert_array_equal(evaluate(loaded, tasks, torch.device("cpu")),
                                  evaluate(learner, tasks, torch.device("cpu")))


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_the_step_benchmark_times_its_meta_training_step(name):
    spec = importlib.util.spec_from_file_location("meta_step", ROOT / "benchmarks/meta_step.py")
    meta_step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(meta_step)
    result = meta_step.measure(name, 16, 4, 1, torch.device("cpu"), [ROOT / "config/config.yaml"])
    if not ALGORITHMS[name].meta_trained:
        assert result["note"].startswith("not meta-trained")
    else:
        assert result["median_step_s"] > 0, result
