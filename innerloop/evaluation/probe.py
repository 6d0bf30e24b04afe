"""The study's feature probe: how good are the embedding's features before and after adaptation?

Exactly as the paper describes it (Sec. 4): strip the linear head; embed the images with
the convolutional body; take one support example per class as that class's centroid and
classify every query image by cosine similarity to the centroids. Each probe iteration

1. samples a task A and a different task B from the meta-test split,
2. scores the meta-initialisation on A (``pre_adaptation``) and on B (``pre_adaptation_off``),
3. adapts to A with the algorithm's own inner loop (its steps, its learning rates),
4. scores the adapted weights on A (``on_task``) and on B (``off_task``).

The changes ``on_task_change = on_task - pre_adaptation`` and ``off_task_change =
off_task - pre_adaptation_off`` compare each score with the same task's pre-adaptation
score. Tasks come from a sampler fixed by (dataset, split, seed), so every algorithm is
probed on the same tasks.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch.nn import functional as F

from innerloop.algorithms import MetaLearner
from innerloop.algorithms.base import stack_tasks
from innerloop.data.sampler import Task, TaskSampler
from innerloop.models import Params, batched, embed
from innerloop.progress import progress as progress_bar
from innerloop.scoring import chunks


def centroid_accuracy(learner: MetaLearner, params: Params, task: Task, shots: int = 1) -> float:
    """Cosine nearest-centroid accuracy of the head-stripped model on ``task``'s queries.

    The centroid of a class is the mean embedding of its first ``shots`` support
    examples (the paper uses one).
    """
    with torch.no_grad():
        support = embed(learner.model, params, task.support_x)
        query = embed(learner.model, params, task.query_x)
        ways = int(task.support_y.max()) + 1
        centroids = torch.stack([support[task.support_y == c][:shots].mean(0) for c in range(ways)])
        similarity = F.cosine_similarity(query[:, None, :], centroids[None, :, :], dim=-1)
        return (similarity.argmax(1) == task.query_y).float().mean().item()


def adapted_pair(learner: MetaLearner, sampler: TaskSampler, i: int, device: torch.device, *,
                 steps: int | None = None) -> tuple[Task, Task, Params, Params]:
    """Probe iteration ``i``'s task A (``sampler.task(2i)``) and different task B
    (``sampler.task(2i + 1)``), the detached meta-initialisation, and the weights adapted
    to A's support set by the learner's own inner loop (``steps``; None: its own)."""
    on, off = sampler.task(2 * i).to(device), sampler.task(2 * i + 1).to(device)
    init = {n: p.detach() for n, p in learner.init.items()}
    adapted = learner.adapt(on.support_x, on.support_y, steps=steps, meta_gradient=False)
    return on, off, init, adapted


def adapted_pairs(learner: MetaLearner, sampler: TaskSampler, iterations: Sequence[int], device: torch.device, *,
                  steps: int | None = None) -> list[tuple[Task, Task, Params, Params]]:
    """:func:`adapted_pair` of every probe iteration in ``iterations``, the adaptations to
    the A tasks run as one batch when the learner batches."""
    pairs = [(sampler.task(2 * i).to(device), sampler.task(2 * i + 1).to(device)) for i in iterations]
    on_tasks = [on for on, _ in pairs]
    if not learner.batches(on_tasks):
        return [adapted_pair(learner, sampler, i, device, steps=steps) for i in iterations]
    init = {n: p.detach() for n, p in learner.init.items()}
    batch = stack_tasks(on_tasks)
    adapted = learner.adapt_batch(batch.support_x, batch.support_y, steps=steps, meta_gradient=False)
    return [(on, off, init, batched.unstack(adapted, t)) for t, (on, off) in enumerate(pairs)]


def feature_probe(
    learner: MetaLearner,
    sampler: TaskSampler,
    iterations: int,
    device: torch.device,
    *,
    steps: int | None = None,
    centroid_shots: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the probe for ``iterations`` iterations; one row per iteration."""
    rows = []
    bar = progress_bar(total=iterations, desc=f"probe {learner.name}", disable=not progress)
    for i, (on, off, init, adapted) in enumerate(
            pair for chunk in chunks(range(iterations))
            for pair in adapted_pairs(learner, sampler, chunk, device, steps=steps)):
        bar.update(1)
        pre_on = centroid_accuracy(learner, init, on, centroid_shots)
        pre_off = centroid_accuracy(learner, init, off, centroid_shots)
        on_task = centroid_accuracy(learner, adapted, on, centroid_shots)
        off_task = centroid_accuracy(learner, adapted, off, centroid_shots)
        rows.append({"iteration": i, "pre_adaptation": pre_on, "pre_adaptation_off": pre_off,
                     "on_task": on_task, "off_task": off_task,
                     "on_task_change": on_task - pre_on, "off_task_change": off_task - pre_off})
    bar.close()
    return pd.DataFrame(rows)
