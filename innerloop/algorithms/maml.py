"""MAML (Finn et al. 2017) and the variants that differ from it in one choice only.

theta'_i = theta - alpha * grad L_support(theta)   (paper eq. 1, repeated ``inner_steps`` times)

* ``maml``: second order (the meta-gradient differentiates through the inner gradients).
* ``fomaml``: first order, the Hessian terms dropped.
* ``maml_fd``: second order, with the Hessian-vector products of the meta-gradient taken
  by central finite differences of gradients (step ``epsilon``) instead of double
  backward (Agarwal, "Investigating MAML", eq. 2).
* ``negmaml``: a fixed negative inner learning rate in meta-training (the lecture notes:
  the inner loop "amplifies what's wrong in the model" and the outer loop focuses on
  it). Evaluation adapts with ``eval_inner_lr`` (positive by default, as in Bernacchia's
  "Meta-learning with negative learning rates", where the negative rate is a training
  device); ``eval_inner_lr: null`` evaluates with the negative rate itself.
"""

from __future__ import annotations

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params


class MAML(MetaLearner):
    name = "maml"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float, first_order: bool = False):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        self.inner_lr = inner_lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return param - self.inner_lr * grad


class FOMAML(MAML):
    name = "fomaml"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float):
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr, first_order=True)


class FiniteDifferenceMAML(MAML):
    name = "maml_fd"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float, epsilon: float = 1e-3):
        if not epsilon > 0:
            raise ValueError(f"maml_fd: epsilon must be positive, got {epsilon}")
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr)
        self.hvp_epsilon = epsilon


class NegativeMAML(MAML):
    name = "negmaml"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float = -0.01,
                 eval_inner_lr: float | None = 0.01, first_order: bool = False):
        if not inner_lr < 0:
            raise ValueError(f"negmaml: inner_lr must be negative, got {inner_lr}")
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr, first_order=first_order)
        self.train_lr = inner_lr
        self.eval_lr = inner_lr if eval_inner_lr is None else eval_inner_lr

    def adapt(self, x, y, *, steps=None, params=None, meta_gradient=True):
        self.inner_lr = self.train_lr if meta_gradient else self.eval_lr
        return super().adapt(x, y, steps=steps, params=params, meta_gradient=meta_gradient)

    def adapt_batch(self, x, y, *, steps=None, params=None, meta_gradient=True):
        self.inner_lr = self.train_lr if meta_gradient else self.eval_lr
        return super().adapt_batch(x, y, steps=steps, params=params, meta_gradient=meta_gradient)
