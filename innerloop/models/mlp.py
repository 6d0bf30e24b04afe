"""The sine-wave regressor of Finn et al. (2017, Sec. 5.1): a 1-40-40-1 multilayer perceptron.

    f_theta(x) = W_3 relu(W_2 relu(W_1 x + b_1) + b_2) + b_3,   W_1: 40x1, W_2: 40x40, W_3: 1x40

(1,761 parameters at the default width). Like :class:`~innerloop.models.conv4.Conv4` it is
used functionally: the parameters live in a dict and
:func:`innerloop.models.forward` runs the module with them through
``torch.func.functional_call``, so every meta-learner adapts it unchanged. The output
layer is called ``head`` (``is_head`` holds for it, as for Conv4's linear head) and
``embed_only=True`` returns the last hidden layer.

``smooth=True`` swaps ReLU for softplus so that the adapted loss is twice differentiable
everywhere (for gradient checks against finite differences or float64 references).

:func:`init_mlp` draws the parameters from a generator as ``torch.nn.Linear`` does by
default: weights and biases uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)]. Random biases
spread the first layer's kinks over the input range (with zero biases every first-layer
unit of a 1-d input bends at x = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.models.conv4 import Params


class MLP(nn.Module):
    """Fully connected ReLU network ``in_features -> hidden... -> out_features``."""

    def __init__(self, in_features: int = 1, hidden: Sequence[int] = (40, 40), out_features: int = 1,
                 smooth: bool = False):
        super().__init__()
        widths = [in_features, *hidden]
        for label, value in (("in_features", in_features), ("out_features", out_features), *(
                ("hidden", h) for h in hidden)):
            if value < 1:
                raise ValueError(f"MLP: {label} must be positive, got {value}")
        self.body = nn.ModuleList(nn.Linear(widths[i], widths[i + 1]) for i in range(len(hidden)))
        self.head = nn.Linear(widths[-1], out_features)
        self.smooth = smooth

    def forward(self, x: torch.Tensor, embed_only: bool = False) -> torch.Tensor:
        for layer in self.body:
            x = layer(x)
            x = F.softplus(x) if self.smooth else F.relu(x)
        return x if embed_only else self.head(x)


def init_mlp(model: nn.Module, generator: torch.Generator) -> Params:
    """Fresh parameters for ``model`` from ``generator``: every linear layer's weight and bias
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (torch.nn.Linear's default), reproducible per seed."""
    params: Params = {}
    modules = dict(model.named_modules())
    for name, p in model.named_parameters():
        owner = modules[name.rsplit(".", 1)[0]]
        if not isinstance(owner, nn.Linear):
            raise TypeError(f"init_mlp: {name} belongs to a {type(owner).__name__}, expected nn.Linear")
        bound = 1 / math.sqrt(owner.in_features)
        params[name] = torch.empty_like(p).uniform_(-bound, bound, generator=generator)
    return params
