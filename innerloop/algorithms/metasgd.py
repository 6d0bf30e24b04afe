"""Meta-SGD (Li et al. 2017): a learned inner learning rate for every parameter element.

theta'_i = theta - alpha o grad L_support(theta)   (study eq. 3)

``alpha`` has the shape of ``theta``, starts uniform in [lr_init_low, lr_init_high] and is
trained jointly with ``theta`` by the outer optimiser (study eq. 4). Its sign is not
constrained: the study's subject is that many rates turn negative.
"""

from __future__ import annotations

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.models import Params


class MetaSGD(MetaLearner):
    name = "metasgd"

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        generator: torch.Generator,
        lr_init_low: float = 0.005,
        lr_init_high: float = 0.1,
        first_order: bool = False,
    ):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        if lr_init_low > lr_init_high:
            raise ValueError(f"lr_init_low {lr_init_low} > lr_init_high {lr_init_high}")
        self.extra["lr"] = {
            n: torch.empty_like(p).uniform_(lr_init_low, lr_init_high, generator=generator).requires_grad_(True)
            for n, p in self.init.items()
        }

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int, generator: torch.Generator):
        return cls(model, init, inner_steps=inner_steps, generator=generator, **options)

    @property
    def lr(self) -> Params:
        """The learned per-element inner learning rates, keyed like ``init``."""
        return self.extra["lr"]

    def learning_rates(self) -> Params:
        return self.lr

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, k: int) -> torch.Tensor:
        return param - self.lr[name] * grad
