"""Meta-test: adapt to each task of a fixed task set, score the query set."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from innerloop.algorithms import MetaLearner
from innerloop.data.sampler import Task
from innerloop.models import forward


def task_accuracy(learner: MetaLearner, task: Task, steps: int | None = None) -> float:
    """Query accuracy after the learner's own evaluation-time adaptation to the support set."""
    adapted = learner.adapt(task.support_x, task.support_y, steps=steps, meta_gradient=False)
    with torch.no_grad():
        logits = forward(learner.model, adapted, task.query_x)
    return (logits.argmax(1) == task.query_y).float().mean().item()


def evaluate(learner: MetaLearner, tasks: Iterable[Task], device: torch.device, steps: int | None = None) -> np.ndarray:
    """Accuracy on every task, in order (tasks are moved to ``device`` one at a time)."""
    return np.array([task_accuracy(learner, t.to(device), steps) for t in tasks])
