"""MAML (Finn et al. 2017) and the variants that differ from it in one choice only.

theta'_i = theta - alpha * grad L_support(theta)   (paper eq. 1, repeated ``inner_steps`` times)

* ``maml``: second order (the meta-gradient differentiates through the inner gradients).
* ``fomaml``: first order, the Hessian terms dropped.
* ``maml_fd``: second order, with the Hessian-vector products of the meta-gradient taken
  by central finite differences of gradients (step ``epsilon``) instead of double
  backward (Agarwal, "Investigating MAML", eq. 2). Through ReLU and max-pool the step
  must be small enough to cross no kink, which float32 cannot resolve: by default the
  differences are taken in float64 at an absolute step of 1e-8, where the meta-gradient's
  cosine with exact second order is 1.0000 on glyph tasks (README, benchmarks/fd_hessian.py);
  at 1e-6, kinks a few 1e-8 away are crossed often enough in training to stop it learning.
* ``negmaml``: a fixed negative inner learning rate in meta-training (the lecture notes:
  the inner loop "amplifies what's wrong in the model" and the outer loop focuses on
  it). Evaluation adapts with ``eval_inner_lr`` (positive by default, as in Bernacchia's
  "Meta-learning with negative learning rates", where the negative rate is a training
  device); ``eval_inner_lr: null`` evaluates with the negative rate itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import Gradient, Mode, StepContext
from innerloop.models import Params


class MAML(MetaLearner):
    name = "maml"
    label = "MAML"
    order = 10
    family = "meta"
    color = "#1f6fb4"
    sine_comparison = True
    inner_steps_sweep = True

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = 0.01
        first_order: bool = False

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float,
                 first_order: bool = Options.first_order):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        self.inner_lr = inner_lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return param - self.inner_lr * grad


class FOMAML(MAML):
    name = "fomaml"
    label = "FO-MAML"
    order = 20
    family = "meta"
    color = "#74a9cf"

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = 0.01

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float):
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr, first_order=True)


class FiniteDifferenceMAML(MAML):
    name = "maml_fd"
    label = "MAML (FD Hessian)"
    order = 30
    family = "meta"
    color = "#0b2f5b"
    inner_steps_sweep = False

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = 0.01
        epsilon: float = 1e-8
        relative_epsilon: bool = False
        float64: bool = True

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float,
                 epsilon: float = Options.epsilon, relative_epsilon: bool = Options.relative_epsilon,
                 float64: bool = Options.float64):
        if not epsilon > 0:
            raise ValueError(f"maml_fd: epsilon must be positive, got {epsilon}")
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr)
        self.gradient = Gradient("finite_difference", epsilon=epsilon, relative=relative_epsilon,
                                 dtype=torch.float64 if float64 else None)


class NegativeMAML(MAML):
    name = "negmaml"
    label = "MAML, negative inner lr"
    order = 60
    family = "meta"
    color = "#9467bd"

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = -0.01
        eval_inner_lr: float | None = 0.01
        first_order: bool = False

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, inner_lr: float = Options.inner_lr,
                 eval_inner_lr: float | None = Options.eval_inner_lr, first_order: bool = Options.first_order):
        if not inner_lr < 0:
            raise ValueError(f"negmaml: inner_lr must be negative, got {inner_lr}")
        super().__init__(model, init, inner_steps=inner_steps, inner_lr=inner_lr, first_order=first_order)
        self.train_lr = inner_lr
        self.eval_lr = inner_lr if eval_inner_lr is None else eval_inner_lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """The negative rate in meta-training, ``eval_inner_lr`` in evaluation."""
        return param - (self.train_lr if ctx.mode is Mode.TRAINING else self.eval_lr) * grad
