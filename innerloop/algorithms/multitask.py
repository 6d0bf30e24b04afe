"""The multi-task ("union of tasks") baseline of the lecture notes: MAML with k = 0 in training.

Training is standard supervised learning on the union of the meta-training tasks: the
outer loop draws the same episodes as the meta-learners (``meta_batch`` tasks per
iteration, the run's ``iterations``), adapts nothing, and minimises the cross-entropy of
a classifier over the training classes on every image of those tasks under its global
label (:class:`innerloop.data.sampler.TaskImages`); "k = 0" holds for training only. At
evaluation a new linear head is fitted on the support set's features of the frozen body,
as Finetuning does (``finetune_steps`` full-batch SGD steps at ``finetune_lr``): a head
trained on training classes cannot score a new task's classes.

It differs from Finetuning only in its training data and budget: the meta-learners'
episodes and iterations, not epochs of ordinary mini-batches.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from innerloop.algorithms.transfer import Finetuning
from innerloop.models import Params


class Multitask(Finetuning):
    name = "multitask"
    label = "Multi-task"
    order = 90
    family = "meta"  # trained on the meta-learners' episodes, not one of Chen et al.'s baselines
    color = "#8c564b"

    @dataclass(frozen=True)
    class Options:
        finetune_steps: int = 50
        finetune_lr: float = 0.1

    def __init__(self, model: nn.Module, init: Params, *, pretrain: Params, inner_steps: int = 0,
                 finetune_steps: int = Options.finetune_steps, finetune_lr: float = Options.finetune_lr):
        super().__init__(model, init, pretrain=pretrain, inner_steps=inner_steps, finetune_steps=finetune_steps,
                         finetune_lr=finetune_lr)

    def training_data(self, store, spec):
        """The run's episodic meta-training tasks, each as one batch with global labels."""
        from innerloop.data.sampler import TaskImages, TaskSampler

        return TaskImages(TaskSampler(store, "train", spec.ways, spec.shots, spec.queries, seed=spec.seed)), spec
