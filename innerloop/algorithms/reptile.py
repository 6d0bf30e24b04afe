"""Reptile (Nichol, Achiam, Schulman 2018): move the initialisation towards adapted weights.

The inner loop is plain SGD, as MAML's but never differentiated (lecture notes, "REPTILE -
simpler than MAML": take k steps from the initial parameters, then "update parameters in
the direction of the final weights from the inner loop"), with L_task_i the loss on task
i's support and query sets together (see below)::

    theta~_i = theta - inner_lr * grad L_task_i(theta)            (repeated ``inner_steps`` times)
    theta   <- theta + epsilon * mean_i (theta~_i - theta)        (batched Reptile, Nichol et al. Alg. 2)

:meth:`Reptile.accumulate` adds ``weight * (theta - theta~_i)`` to ``theta.grad``; with
the training loop's ``weight = 1 / meta_batch`` and ``torch.optim.SGD(lr=epsilon)`` the
optimiser step is exactly the interpolation above (``outer_stepsize`` is epsilon; the
training config's ``outer_lr`` is not used).

Which data the inner loop sees. Meta-training adapts on the task's whole data, support and
query together: Reptile needs no train/test split of a task (Nichol et al. train on more
shots per class than they test with), and this gives it the same data per task as MAML,
whose outer loss uses the query set; adapting on the support set only would discard
``queries / (shots + queries)`` of every task (on 5-way 1-shot glyphs, 60 iterations,
held-out accuracy 0.58 with support+query against 0.50 with the support set alone).
Meta-test is unchanged and faithful: ``adapt`` (the base class's) adapts on the support
set only and scores the query set. The loss and metric that ``accumulate`` returns for
the training log are measured the same way, on the query set after a support-only
adaptation of the current initialisation, so the log column means what it means for
MAML (query data the adaptation never saw), at the cost of one extra, small adaptation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner, stack_tasks
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params

if TYPE_CHECKING:
    from innerloop.data.sampler import Task


class Reptile(MetaLearner):
    name = "reptile"
    label = "Reptile"
    order = 180
    family = "meta"
    color = "#17becf"

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = 0.1
        outer_stepsize: float = 0.5

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float = Options.inner_lr,
                 outer_stepsize: float = Options.outer_stepsize):
        if not inner_lr > 0:
            raise ValueError(f"reptile: inner_lr must be positive, got {inner_lr}")
        if not outer_stepsize > 0:
            raise ValueError(f"reptile: outer_stepsize must be positive, got {outer_stepsize}")
        super().__init__(model, init, inner_steps=inner_steps, second_order=False)
        self.inner_lr = inner_lr
        self.outer_stepsize = outer_stepsize

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return param - self.inner_lr * grad

    def accumulate(self, task: "Task", weight: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Add ``weight * (theta - theta~)`` to each ``theta.grad``, theta~ adapted on
        support and query together; return the (detached) query loss and metric after a
        support-only adaptation (the meta-test measurement) for the log."""
        x = torch.cat([task.support_x, task.query_x])
        y = torch.cat([task.support_y, task.query_y])
        adapted = self.adapt(x, y, steps=self.inner_steps, meta_gradient=False)
        with torch.no_grad():
            for n, theta in self.init.items():
                direction = (theta - adapted[n]) * weight
                theta.grad = direction if theta.grad is None else theta.grad + direction
        on_support = self.adapt(task.support_x, task.support_y, steps=self.inner_steps, meta_gradient=False)
        with torch.no_grad():
            output = self.predict(on_support, task.query_x)
            return self.loss(output, task.query_y), self.metric(output, task.query_y)

    def accumulate_tasks(self, tasks: list["Task"], weight: float) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`accumulate` of every task, both adaptations of all tasks in one batch each."""
        if not self.batches(tasks):
            return super().accumulate_tasks(tasks, weight)
        batch = stack_tasks(tasks)
        x = torch.cat([batch.support_x, batch.query_x], dim=1)
        y = torch.cat([batch.support_y, batch.query_y], dim=1)
        adapted = self.adapt_batch(x, y, steps=self.inner_steps, meta_gradient=False)
        with torch.no_grad():
            for n, theta in self.init.items():
                for direction in (theta - adapted[n]) * weight:  # task by task, as accumulate adds them
                    theta.grad = direction if theta.grad is None else theta.grad + direction
        on_support = self.adapt_batch(batch.support_x, batch.support_y, steps=self.inner_steps, meta_gradient=False)
        with torch.no_grad():
            output = self.predict_batch(on_support, batch.query_x)
            return self.loss_batch(output, batch.query_y), self.metric_batch(output, batch.query_y)

    def make_optimiser(self, outer_lr: float) -> torch.optim.Optimizer:
        """SGD at epsilon = ``outer_stepsize`` (``outer_lr`` is ignored)."""
        return torch.optim.SGD(list(self.init.values()), lr=self.outer_stepsize)
