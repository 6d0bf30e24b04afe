"""Every algorithm learns: a short run on glyphs beats chance on held-out tasks by a margin."""

import numpy as np
import pytest
import torch

from innerloop.data.registry import prepare_dataset
from innerloop.data.sampler import fixed_tasks
from innerloop.data.store import load_store
from innerloop.evaluation.meta_test import evaluate
from innerloop.training import RunSpec, train

WAYS = 5
CHANCE = 1 / WAYS


@pytest.fixture(scope="module")
def glyph_store(tmp_path_factory):
    path = prepare_dataset("glyphs", {"image_size": 28, "images_per_class": 12, "max_classes": 200},
                           tmp_path_factory.mktemp("glyphs"))
    return load_store(path)


@pytest.mark.parametrize("algorithm, options", [("maml", {"inner_lr": 0.1}), ("metasgd", {})])
def test_short_training_beats_chance(tmp_path, glyph_store, algorithm, options):
    spec = RunSpec(dataset="glyphs", algorithm=algorithm, seed=0, ways=WAYS, shots=1, queries=5, filters=16,
                   iterations=60, meta_batch=4, inner_steps=3, outer_lr=0.003, val_every=60, val_tasks=10,
                   val_seed=1, checkpoint_every=1000, options=options)
    learner = train(spec, glyph_store, model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
                    validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt",
                    device=torch.device("cpu"), progress=False)
    tasks = fixed_tasks(glyph_store, "test", WAYS, 1, 5, seed=123, n=60)
    accuracy = evaluate(learner, tasks, torch.device("cpu"))
    assert np.mean(accuracy) > CHANCE + 0.15, f"{algorithm}: {np.mean(accuracy):.3f} on held-out tasks"
