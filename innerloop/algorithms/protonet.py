"""Prototypical networks (Snell et al. 2017) on the Conv4 body.

A class's prototype is the mean embedding of its support examples (Snell eq. 1), and a
query is classified by a softmax over negative squared Euclidean distances (eq. 2)::

    c_k = 1/|S_k| sum_{(x_i, y_i) in S_k} f(x_i)
    p(y = k | x) = softmax_k( -||f(x) - c_k||^2 )

Adaptation is not a gradient loop: it writes the prototypes into Conv4's linear head,

    head.weight[k] = 2 c_k,   head.bias[k] = -||c_k||^2,

so the head's logits ``2 c_k . f - ||c_k||^2 = -||f - c_k||^2 + ||f||^2`` differ from the
negative squared distances only by ``||f||^2``, the same for every class of one query:
softmax, cross-entropy (the prototypical loss, eq. 2 and Algorithm 1) and argmax are
identical. Meta-test, validation and the feature probe therefore use the ordinary
``adapt`` / ``predict`` path, and the head stays a differentiable function of the body,
so the outer loss trains the body through the prototypes. The head's own initialisation
is never used (it is overwritten on every adaptation and receives no gradient), and
``inner_steps`` / ``steps`` have no meaning here.

As for every learner here, BatchNorm normalises with the statistics of the batch it is
given: the support set when the prototypes are computed, the query set when queries are
embedded (Snell's code embeds support and query in one batch).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.algorithms import engine
from innerloop.algorithms.base import MetaLearner, NoOptions
from innerloop.models import Params, batched, embed


def prototypes(features: torch.Tensor, y: torch.Tensor, ways: int) -> torch.Tensor:
    """(ways, d) mean embedding of each class's support examples (Snell eq. 1)."""
    one_hot = F.one_hot(y, ways).to(features.dtype)
    return one_hot.T @ features / one_hot.sum(0)[:, None]


class ProtoNet(MetaLearner):
    name = "protonet"
    label = "ProtoNet"
    order = 100
    family = "meta"
    color = "#a8a81e"
    Options = NoOptions

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int):
        super().__init__(model, init, inner_steps=inner_steps, second_order=True)

    def inner_loop(self, params: Params, x: torch.Tensor, y: torch.Tensor, *, steps: int, mode: engine.Mode,
                   tasks: int | None) -> Params:
        """The body unchanged and the head set to the support set's prototypes (``steps`` is
        ignored); with ``tasks``, each task's prototypes from one batched embedding."""
        with torch.set_grad_enabled(mode is engine.Mode.TRAINING and torch.is_grad_enabled()):
            if tasks is None:
                c = prototypes(embed(self.model, params, x), y, int(y.max()) + 1)
            else:
                features = batched.forward(self.model, params, x, embed_only=True)
                one_hot = F.one_hot(y, int(y.max()) + 1).to(features.dtype)
                c = one_hot.transpose(1, 2) @ features / one_hot.sum(1)[..., None]
            return {**params, "head.weight": 2 * c, "head.bias": -(c**2).sum(-1)}
