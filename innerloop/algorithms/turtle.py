"""TURTLE (Huisman thesis Sec. 3.4.3): a stateless feed-forward update network.

For every coordinate of every adapted tensor (batch dimension = number of coordinates)
an MLP g_phi (``hidden_layers`` hidden layers of ``hidden_units`` ReLU units, one
output, shared by all coordinates) maps the inputs I_t named in ``inputs`` to an update::

    theta_{t+1} = theta_t + alpha o g_phi(I_t)                          (eq. 3.7)

with ``alpha`` a learned learning rate per element (extra group ``lr``, initialised to
``lr_init``; with ``learn_lr: false`` it stays at ``lr_init`` and is no meta-parameter).
The inputs, in the order given, per coordinate:

* ``gradient``: dL_support/dtheta_t;
* ``loss``: the support loss L_support(theta_t), the same for every coordinate;
* ``step``: the step index t in {0, .., T - 1};
* ``moving_average``: h_t, the moving average of this coordinate's past updates
  (h_0 = 0, kept in the engine's per-adaptation ``ctx.state``)::

      h_{t+1} = beta h_t + (1 - beta) v_t,   v_t = theta_{t+1} - theta_t   (eq. 3.6)

Initialisation (a choice of this implementation; the thesis does not give one): g_phi
starts as exactly ``-gradient`` whatever the other inputs, so training starts from
Meta-SGD's rule theta - alpha o grad with alpha = lr_init everywhere (MAML's, as long as
alpha is uniform). Hidden units 0 and 1 carry relu(grad) and relu(-grad) through every
hidden layer (weights +-1 from the gradient input, identity rows afterwards, zero
biases) and the output is -relu(grad) + relu(-grad). All other weights and biases are
PyTorch's default uniform(+-1/sqrt(fan_in)) draws from the run's generator, except the
output weights of units 2.., which start at zero (those units receive meta-gradient
once their output weights have moved). Without hidden layers g_phi is linear, with
weight -1 on the gradient. Without ``gradient`` among the inputs every tensor is a
default draw (there is no gradient step to start from).

Second order by default (the meta-gradient differentiates through the inner gradients
fed to g_phi); ``fo_turtle`` is first order. Like the meta-learner LSTM, each inner step
is one call of g_phi over all coordinates at once (:class:`~innerloop.algorithms.coordinatewise.CoordinatewiseLearner`), the
moving average keyed in ``ctx.state`` by the stepped tensor's name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from innerloop.algorithms.engine import StepContext
from innerloop.algorithms.coordinatewise import CoordinatewiseLearner
from innerloop.models import Params

INPUTS = ("gradient", "loss", "step", "moving_average")


def update_network(inputs: int, hidden_layers: int, hidden_units: int, device=None) -> nn.Sequential:
    """The template of g_phi: Linear-ReLU blocks and a linear output of one unit."""
    layers: list[nn.Module] = []
    width = inputs
    for _ in range(hidden_layers):
        layers += [nn.Linear(width, hidden_units, device=device), nn.ReLU()]
        width = hidden_units
    layers.append(nn.Linear(width, 1, device=device))
    return nn.Sequential(*layers)


def init_update_network(net: nn.Sequential, generator: torch.Generator, gradient_index: int | None,
                        dtype=torch.float32, device=None) -> Params:
    """Tensors of ``net`` with g_phi(I) = -I[gradient_index] exactly (see the module docstring)."""
    linears = [(i, m) for i, m in enumerate(net) if isinstance(m, nn.Linear)]
    tensors: Params = {}
    for position, (i, m) in enumerate(linears):
        bound = 1 / math.sqrt(m.in_features)
        w = torch.empty(m.out_features, m.in_features, dtype=torch.float64).uniform_(-bound, bound, generator=generator)
        b = torch.empty(m.out_features, dtype=torch.float64).uniform_(-bound, bound, generator=generator)
        if gradient_index is not None:
            first, last = position == 0, position == len(linears) - 1
            if first and last:  # no hidden layer: g = -gradient
                w.zero_()
                w[0, gradient_index] = -1.0
            elif last:  # -relu(grad) + relu(-grad), the other units silent
                w.zero_()
                w[0, 0], w[0, 1] = -1.0, 1.0
            else:
                w[:2] = 0.0
                if first:
                    w[0, gradient_index], w[1, gradient_index] = 1.0, -1.0
                else:
                    w[0, 0], w[1, 1] = 1.0, 1.0
            b[:2] = 0.0
        tensors[f"{i}.weight"] = w
        tensors[f"{i}.bias"] = b
    return {n: t.to(dtype=dtype, device=device).requires_grad_(True) for n, t in tensors.items()}


class Turtle(CoordinatewiseLearner):
    name = "turtle"
    label = "TURTLE"
    order = 160
    family = "meta"
    color = "#d4a017"
    learns_rates = True
    sine_comparison = True

    @dataclass(frozen=True)
    class Options:
        hidden_layers: int = 5
        hidden_units: int = 20
        inputs: tuple[str, ...] = ("gradient",)
        moving_average_beta: float = 0.9
        lr_init: float = 0.01
        learn_lr: bool = True
        first_order: bool = False

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        generator: torch.Generator,
        hidden_layers: int = Options.hidden_layers,
        hidden_units: int = Options.hidden_units,
        inputs: list[str] | tuple[str, ...] = Options.inputs,
        moving_average_beta: float = Options.moving_average_beta,
        lr_init: float = Options.lr_init,
        learn_lr: bool = Options.learn_lr,
        first_order: bool = Options.first_order,
    ):
        inputs = list(inputs)
        if not inputs:
            raise ValueError(f"{self.name}: inputs must name at least one of {list(INPUTS)}")
        unknown = [i for i in inputs if i not in INPUTS]
        if unknown:
            raise ValueError(f"{self.name}: unknown inputs {unknown}; choose from {list(INPUTS)}")
        if len(set(inputs)) != len(inputs):
            raise ValueError(f"{self.name}: inputs {inputs} repeat an entry")
        if hidden_layers < 0:
            raise ValueError(f"{self.name}: hidden_layers must be >= 0, got {hidden_layers}")
        if hidden_units < 1:
            raise ValueError(f"{self.name}: hidden_units must be >= 1, got {hidden_units}")
        if hidden_layers > 0 and hidden_units < 2 and "gradient" in inputs:
            raise ValueError(f"{self.name}: hidden_units must be >= 2 to start g_phi as -gradient, got {hidden_units}")
        if not 0 <= moving_average_beta <= 1:
            raise ValueError(f"{self.name}: moving_average_beta must lie in [0, 1], got {moving_average_beta}")
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        self.inputs = inputs
        self.beta = moving_average_beta
        self.lr_init = lr_init
        self.learn_lr = learn_lr
        like = next(iter(self.init.values()))
        self.net = update_network(len(inputs), hidden_layers, hidden_units, device="meta")
        self.extra["net"] = init_update_network(
            self.net, generator, inputs.index("gradient") if "gradient" in inputs else None,
            dtype=like.dtype, device=like.device)
        if learn_lr:
            self.extra["lr"] = {n: torch.full_like(p, lr_init).requires_grad_(True) for n, p in self.init.items()}

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int,
                    generator: torch.Generator, n_classes: int = 0):
        return cls(model, init, inner_steps=inner_steps, generator=generator, **cls.with_defaults(options))

    def learning_rates(self) -> Params:
        """alpha of eq. 3.7 per element (constant lr_init when it is not learned)."""
        if self.learn_lr:
            return self.extra["lr"]
        return {n: torch.full_like(p.detach(), self.lr_init) for n, p in self.init.items()}

    def update_network(self, features: torch.Tensor) -> torch.Tensor:
        """g_phi applied to a batch of per-coordinate inputs ``(..., n, len(inputs))`` -> ``(..., n)``."""
        return functional_call(self.net, self.extra["net"], (features,)).squeeze(-1)

    def update(self, theta: torch.Tensor, grad: torch.Tensor, ctx: StepContext, key: str,
               names: Sequence[str]) -> torch.Tensor:
        # theta (n,) for one task, (T, n) for T tasks with their (T,) support losses
        shape = theta.shape
        columns = []
        for kind in self.inputs:
            if kind == "gradient":
                columns.append(grad)
            elif kind == "loss":
                columns.append(ctx.loss.reshape(*shape[:-1], 1).expand(shape))
            elif kind == "step":
                columns.append(torch.full(shape, float(ctx.k), dtype=theta.dtype, device=theta.device))
            else:
                columns.append(ctx.state.get(key, torch.zeros(shape, dtype=theta.dtype, device=theta.device)))
        update = self.update_network(torch.stack(columns, dim=-1))
        if self.learn_lr:
            update = torch.cat([self.extra["lr"][name].reshape(-1) for name in names]) * update
        else:
            update = self.lr_init * update
        if "moving_average" in self.inputs:
            ctx.state[key] = self.beta * ctx.state.get(key, 0.0) + (1 - self.beta) * update
        return theta + update


class FOTurtle(Turtle):
    """TURTLE with the first-order approximation (the inner gradients are constants)."""

    name = "fo_turtle"
    label = "FO-TURTLE"
    order = 170
    family = "meta"
    color = "#b07aa1"

    @dataclass(frozen=True)
    class Options:
        hidden_layers: int = 5
        hidden_units: int = 20
        inputs: tuple[str, ...] = ("gradient",)
        moving_average_beta: float = 0.9
        lr_init: float = 0.01
        learn_lr: bool = True

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, generator: torch.Generator,
                 hidden_layers: int = Options.hidden_layers, hidden_units: int = Options.hidden_units,
                 inputs=Options.inputs, moving_average_beta: float = Options.moving_average_beta,
                 lr_init: float = Options.lr_init, learn_lr: bool = Options.learn_lr):
        super().__init__(model, init, inner_steps=inner_steps, generator=generator, hidden_layers=hidden_layers,
                         hidden_units=hidden_units, inputs=inputs, moving_average_beta=moving_average_beta,
                         lr_init=lr_init, learn_lr=learn_lr, first_order=True)
