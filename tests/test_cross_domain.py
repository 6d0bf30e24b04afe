"""Cross-domain evaluation: image conversion and a run evaluated on another dataset's tasks."""

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store, write_store
from innerloop.evaluation.cross_domain import LUMA, ConvertedSampler, convert_images
from innerloop.evaluation.meta_test import evaluate
from innerloop.training import RunSpec, load_for_evaluation, train


def test_grey_to_rgb_repeats_and_rgb_to_grey_is_luma():
    grey = torch.rand(2, 1, 4, 4)
    rgb = convert_images(grey, (3, 4, 4))
    assert rgb.shape == (2, 3, 4, 4) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))
    colour = torch.rand(2, 3, 4, 4)
    expected = sum(w * colour[:, c] for c, w in enumerate(LUMA))
    torch.testing.assert_close(convert_images(colour, (1, 4, 4))[:, 0], expected)


def test_resize_keeps_constant_images_constant_and_range():
    x = torch.full((1, 1, 8, 8), 0.25)
    y = convert_images(x, (1, 28, 28))
    assert y.shape == (1, 1, 28, 28)
    torch.testing.assert_close(y, torch.full_like(y, 0.25))
    z = convert_images(torch.rand(3, 1, 30, 30), (1, 12, 12))
    assert z.min() >= 0 and z.max() <= 1
    with pytest.raises(ValueError, match="cannot convert 2-channel"):
        convert_images(torch.rand(1, 2, 4, 4), (3, 4, 4))


def test_converted_sampler_draws_the_same_tasks(tiny_store):
    sampler = TaskSampler(tiny_store, "test", 3, 1, 2, seed=5)
    converted = ConvertedSampler(sampler, (3, 20, 20))
    a, b = sampler.task(4), converted.task(4)
    assert b.support_x.shape == (3, 3, 20, 20) and a.classes == b.classes
    assert torch.equal(a.query_y, b.query_y)


def test_a_run_is_evaluated_on_another_datasets_tasks(tmp_path, tiny_store):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6 * 6, 3, 10, 10), dtype=np.uint8)
    classes = pd.DataFrame({"class_id": range(6), "name": [f"d{i}" for i in range(6)], "alphabet": "other",
                            "split": "test"})
    other = load_store(write_store(tmp_path / "other", images, np.repeat(np.arange(6), 6), classes,
                                   dataset="other", params={}))
    spec = RunSpec(dataset="tiny", algorithm="maml", seed=0, ways=3, shots=1, queries=2, filters=4, iterations=2,
                   meta_batch=1, inner_steps=1, outer_lr=1e-3, val_every=2, val_tasks=2, val_seed=0,
                   checkpoint_every=2, options={"inner_lr": 0.1})
    train(spec, tiny_store, model_path=tmp_path / "model.pt", log_path=tmp_path / "log.csv",
          validation_path=tmp_path / "val.csv", checkpoint_path=tmp_path / "ckpt.pt", device=torch.device("cpu"),
          progress=False)
    learner, _, sampler = load_for_evaluation(tmp_path / "model.pt", other.path, split="test", seed=3,
                                              device=torch.device("cpu"))
    assert isinstance(sampler, ConvertedSampler) and sampler.task(0).support_x.shape[1:] == (1, 16, 16)
    accuracy = evaluate(learner, sampler.tasks(4), torch.device("cpu"))
    assert accuracy.shape == (4,) and ((0 <= accuracy) & (accuracy <= 1)).all()
