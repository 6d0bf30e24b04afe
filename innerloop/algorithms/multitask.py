"""The multi-task ("union of tasks") baseline: MAML with zero inner steps.

Meta-training adapts nothing, so the outer loop minimises the query loss of the
meta-initialisation itself over all meta-training tasks jointly. At evaluation the
model is fine-tuned like MAML (``eval_steps`` = the configured inner steps at
``inner_lr``); without that its head, trained on randomly permuted task labels, could
only score chance.
"""

from __future__ import annotations

from torch import nn

from innerloop.algorithms.maml import MAML
from innerloop.models import Params


class Multitask(MAML):
    name = "multitask"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float):
        super().__init__(model, init, inner_steps=0, inner_lr=inner_lr, first_order=True)
        self.eval_steps = inner_steps
