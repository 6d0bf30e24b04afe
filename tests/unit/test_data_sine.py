"""The sine-wave task sampler (innerloop.data.sine): pure functions of (seed, split, index),
within the published ranges, with clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from innerloop.data.sampler import Task
from innerloop.data.sine import AMPLITUDE, PHASE, TARGET_VARIANCE, X_RANGE, SineSampler, sine, sine_tasks


def test_task_is_a_pure_function_of_seed_split_and_index():
    a, b = SineSampler("train", 5, seed=3), SineSampler("train", 5, seed=3)
    first = a.task(17)
    for other in (a.task(17), b.task(17), b.tasks(3, start=16)[1]):
        for field in ("support_x", "support_y", "query_x", "query_y"):
            assert torch.equal(getattr(first, field), getattr(other, field))
    assert isinstance(first, Task) and first.classes == ()
    for t in (first.support_x, first.support_y, first.query_x, first.query_y):
        assert t.shape == (5, 1) and t.dtype == torch.float32
    # Splits, seeds and indices draw different waves; only the seed stream differs between splits.
    others = [SineSampler("val", 5, seed=3).task(17), SineSampler("test", 5, seed=3).task(17),
              SineSampler("train", 5, seed=4).task(17), a.task(18)]
    assert all(not torch.equal(first.support_x, o.support_x) for o in others)
    assert len({SineSampler(s, 5, seed=3).wave(17) for s in ("train", "val", "test")}) == 3
    fixed = sine_tasks("test", 5, 7, seed=2, n=4)
    assert torch.equal(fixed[3].query_x, SineSampler("test", 5, 7, seed=2).task(3).query_x)


def test_task_values_follow_the_wave_and_the_ranges():
    sampler = SineSampler("test", shots=4, queries=9, seed=0)
    waves = np.array([sampler.wave(i) for i in range(2000)])
    assert AMPLITUDE[0] <= waves[:, 0].min() and waves[:, 0].max() <= AMPLITUDE[1]
    assert PHASE[0] <= waves[:, 1].min() and waves[:, 1].max() <= PHASE[1]
    # The draws cover the ranges (uniform: mean in the middle, extremes near the ends).
    assert abs(waves[:, 0].mean() - 2.55) < 0.15 and abs(waves[:, 1].mean() - math.pi / 2) < 0.1
    assert waves[:, 0].min() < 0.2 and waves[:, 0].max() > 4.9
    tasks = sampler.tasks(400)
    assert all(t.support_x.shape == (4, 1) and t.query_x.shape == (9, 1) for t in tasks)
    x = torch.stack([torch.cat([t.support_x, t.query_x]) for t in tasks]).double()
    y = torch.stack([torch.cat([t.support_y, t.query_y]) for t in tasks])
    assert X_RANGE[0] <= x.min() and x.max() <= X_RANGE[1] and x.min() < -4.9 and x.max() > 4.9
    amplitude, phase = (torch.tensor(waves[:400, j]).view(-1, 1, 1) for j in (0, 1))
    torch.testing.assert_close(y, sine(x, amplitude, phase).float(), atol=1e-5, rtol=1e-5)
    # E[y^2] over tasks and inputs is the documented variance (the MSE of predicting 0).
    assert abs(float(y.pow(2).mean()) - TARGET_VARIANCE) / TARGET_VARIANCE < 0.1
    assert SineSampler("val", 3).queries == 3  # queries default to K


@pytest.mark.parametrize("kwargs, match", [
    (dict(split="meta-test", shots=5), "split"),
    (dict(split="train", shots=0), "shots"),
    (dict(split="train", shots=5, queries=0), "queries"),
    (dict(split="train", shots=5, seed=-1), "seed"),
])
def test_sampler_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SineSampler(**kwargs)


def test_negative_task_index_is_an_error():
    with pytest.raises(ValueError, match="index"):
        SineSampler("train", 5).task(-1)
