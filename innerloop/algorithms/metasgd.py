"""Meta-SGD (Li et al. 2017): a learned inner learning rate for every parameter element.

theta'_i = theta - alpha o grad L_support(theta)   (study eq. 3)

``alpha`` has the shape of ``theta``, starts uniform in [lr_init_low, lr_init_high] and is
trained jointly with ``theta`` by the outer optimiser (study eq. 4). Its sign is not
constrained: the study's subject is that many rates turn negative. With
``positive=True`` (the ablation) the rates are ``softplus(rho)`` of a free parameter
``rho``, so they can approach zero but never cross it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params


def inverse_softplus(x: torch.Tensor) -> torch.Tensor:
    """``rho`` with ``softplus(rho) == x`` for x > 0 (stable for small and large x)."""
    return x + torch.log(-torch.expm1(-x))


class MetaSGD(MetaLearner):
    name = "metasgd"
    label = "Meta-SGD"
    order = 40
    family = "meta"
    color = "#d1495b"
    learns_rates = True
    sine_comparison = True
    inner_steps_sweep = True

    @dataclass(frozen=True)
    class Options:
        lr_init_low: float = 0.005
        lr_init_high: float = 0.1
        first_order: bool = False
        positive: bool = False

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        generator: torch.Generator,
        lr_init_low: float = Options.lr_init_low,
        lr_init_high: float = Options.lr_init_high,
        first_order: bool = Options.first_order,
        positive: bool = Options.positive,
    ):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        if lr_init_low > lr_init_high:
            raise ValueError(f"lr_init_low {lr_init_low} > lr_init_high {lr_init_high}")
        if positive and lr_init_low <= 0:
            raise ValueError(f"positive rates need lr_init_low > 0, got {lr_init_low}")
        self.positive = positive
        rates = {n: torch.empty_like(p).uniform_(lr_init_low, lr_init_high, generator=generator)
                 for n, p in self.init.items()}
        if positive:
            rates = {n: inverse_softplus(r) for n, r in rates.items()}
        self.extra["lr"] = {n: r.requires_grad_(True) for n, r in rates.items()}

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int,
                    generator: torch.Generator, n_classes: int = 0):
        return cls(model, init, inner_steps=inner_steps, generator=generator, **cls.with_defaults(options))

    @property
    def lr(self) -> Params:
        """The learned per-element inner learning rates, keyed like ``init``."""
        if self.positive:
            return {n: F.softplus(r) for n, r in self.extra["lr"].items()}
        return self.extra["lr"]

    def learning_rates(self) -> Params:
        return self.lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        rate = F.softplus(self.extra["lr"][name]) if self.positive else self.extra["lr"][name]
        return param - rate * grad
