"""Meta-test: adapt to each task of a fixed task set, score the query set."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from innerloop.algorithms import MetaLearner
from innerloop.data.sampler import Task


def task_accuracy(learner: MetaLearner, task: Task, steps: int | None = None) -> float:
    """Query metric (accuracy; MSE for regression) after the learner's own evaluation-time
    adaptation to the support set (``steps`` None: the learner's ``eval_steps``)."""
    adapted = learner.adapt(task.support_x, task.support_y, steps=steps, meta_gradient=False)
    with torch.no_grad():
        return learner.metric(learner.predict(adapted, task.query_x), task.query_y).item()


def evaluate(learner: MetaLearner, tasks: Iterable[Task], device: torch.device, steps: int | None = None) -> np.ndarray:
    """Accuracy on every task, in order (tasks are moved to ``device`` one at a time)."""
    return np.array([task_accuracy(learner, t.to(device), steps) for t in tasks])
