"""A short training run on glyphs, scored on held-out tasks: the shared body of learning tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from innerloop.data.sampler import fixed_tasks
from innerloop.evaluation.meta_test import evaluate
from innerloop.training import RunSpec, build_run, train

WAYS = 5
CHANCE = 1 / WAYS
#: What "learns" means in the learning tests: held-out accuracy above chance by this much.
MARGIN = 0.15


def _spec(algorithm: str, options: dict | None, overrides: dict) -> RunSpec:
    fields = dict(dataset="glyphs", algorithm=algorithm, seed=0, ways=WAYS, shots=1, queries=5, filters=16,
                  iterations=60, meta_batch=4, inner_steps=3, outer_lr=0.003, val_every=1000, val_tasks=10,
                  val_seed=1, checkpoint_every=1000, options=options or {})
    fields.update(overrides)
    return RunSpec(**fields)


def _held_out_accuracy(store, learner) -> float:
    tasks = fixed_tasks(store, "test", WAYS, 1, 5, seed=123, n=60)
    return float(np.mean(evaluate(learner, tasks, torch.device("cpu"))))


def short_run_accuracy(store, tmp_path: Path, algorithm: str, options: dict | None = None, **overrides) -> float:
    """Mean 5-way 1-shot accuracy on 60 held-out test tasks after a short training run.

    Defaults: 60 iterations, meta-batch 4, 3 inner steps, Conv4 with 16 filters, Adam at
    0.003; ``overrides`` replace any RunSpec field.
    """
    learner = train(_spec(algorithm, options, overrides), store, model_path=tmp_path / "model.pt",
                    log_path=tmp_path / "log.csv", validation_path=tmp_path / "val.csv",
                    checkpoint_path=tmp_path / "ckpt.pt", device=torch.device("cpu"), progress=False)
    return _held_out_accuracy(store, learner)


def untrained_accuracy(store, algorithm: str, options: dict | None = None, **overrides) -> float:
    """The same score for the same learner before any training (what a learning test must beat)."""
    learner = build_run(_spec(algorithm, options, overrides), store.image_shape, len(store.classes))
    return _held_out_accuracy(store, learner)
