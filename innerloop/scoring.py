"""Scoring a learner on tasks: adapt to each task's support set, score its query set.

Training's validation and every meta-test score tasks this way, so it sits in the
training layer, below evaluation.

Tasks are adapted :data:`EVAL_BATCH` at a time in one batch (the learner's
``adapt_batch``) when the learner batches; the scores are those of one task at a time
(:func:`task_accuracy`, the reference) to float tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from innerloop.algorithms import MetaLearner
from innerloop.algorithms.base import stack_tasks
from innerloop.data.sampler import Task

#: Evaluation tasks adapted together in one batch.
EVAL_BATCH = 8


def task_accuracy(learner: MetaLearner, task: Task, steps: int | None = None) -> float:
    """Query metric (accuracy; MSE for regression) after the learner's own evaluation-time
    adaptation to the support set (``steps`` None: the learner's ``eval_steps``)."""
    adapted = learner.adapt(task.support_x, task.support_y, steps=steps, meta_gradient=False)
    with torch.no_grad():
        return learner.metric(learner.predict(adapted, task.query_x), task.query_y).item()


def task_accuracies(learner: MetaLearner, tasks: list[Task], steps: int | None = None) -> list[float]:
    """:func:`task_accuracy` of every task of ``tasks``, adapted as one batch when the learner batches."""
    if not learner.batches(tasks):
        return [task_accuracy(learner, t, steps) for t in tasks]
    batch = stack_tasks(tasks)
    adapted = learner.adapt_batch(batch.support_x, batch.support_y, steps=steps, meta_gradient=False)
    with torch.no_grad():
        return learner.metric_batch(learner.predict_batch(adapted, batch.query_x), batch.query_y).tolist()


def chunks(items: Iterable, size: int = EVAL_BATCH) -> Iterator[list]:
    """``items`` in consecutive lists of ``size`` (the last one shorter)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def evaluate(learner: MetaLearner, tasks: Iterable[Task], device: torch.device, steps: int | None = None) -> np.ndarray:
    """Accuracy on every task, in order (moved to ``device`` :data:`EVAL_BATCH` at a time)."""
    return np.array([score for chunk in chunks(tasks)
                     for score in task_accuracies(learner, [t.to(device) for t in chunk], steps)], dtype=float)
