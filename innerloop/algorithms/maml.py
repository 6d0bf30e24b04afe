"""MAML (Finn et al. 2017): one scalar inner learning rate for every parameter.

theta'_i = theta - alpha * grad L_support(theta)   (paper eq. 1, repeated ``inner_steps`` times)

Second order by default; ``first_order=True`` drops the Hessian terms (FO-MAML).
"""

from __future__ import annotations

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.models import Params


class MAML(MetaLearner):
    name = "maml"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float, first_order: bool = False):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        self.inner_lr = inner_lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, k: int) -> torch.Tensor:
        return param - self.inner_lr * grad
