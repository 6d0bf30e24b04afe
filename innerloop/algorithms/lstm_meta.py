"""The meta-learner LSTM (Ravi & Larochelle 2017) and its enhanced version (Huisman, Sec. 3.5).

A coordinate-wise learned optimiser whose cell state IS the base-learner's weights. For
every coordinate of every adapted tensor (the batch dimension is the number of
coordinates, so one small network serves Conv4 and the sine-wave MLP alike):

1. a first LSTM layer (``hidden_size`` units, weights shared by all coordinates) reads
   the per-coordinate input ``x_t = [grad, loss]``, each through the log/sign
   preprocessing of Andrychowicz et al. (2016, App. A; p = 10) when ``preprocess``::

       x -> (log|x| / p, sign x)   if |x| >= e^-p,   (-1, e^p x)   otherwise

   and carries its own hidden and cell state (h_t, c_t) across the inner steps;
2. a "meta-LSTM" cell whose cell state is theta (thesis eq. 3.3; Ravi & Larochelle eq. 2)::

       i_t     = sigmoid(W_i . [h_t, theta_{t-1}, i_{t-1}] + b_i)      (learning rate)
       f_t     = sigmoid(W_f . [h_t, theta_{t-1}, f_{t-1}] + b_f)      (weight decay)
       theta_t = f_t * theta_{t-1} - i_t * grad_t

   with i_0 = f_0 = 0 (as the reference PyTorch port of the original). With W = 0,
   f = 1 and i = alpha this is MAML's step (the thesis's Theorem 1: the meta-learner
   LSTM subsumes MAML).

The states (h, c, i, f) live in the engine's per-adaptation ``ctx.state`` keyed by the
parameter name. Initialisation as the original: gate weights uniform in [-0.01, 0.01],
forget bias uniform in [4, 6] (f ~ 1), input bias logit(lr_init) (i = lr_init); the
first LSTM uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)] (PyTorch's default),
all from the run's generator.

* ``lstm_meta``: the original, first order (the gradient and loss inputs are constants of
  the meta-gradient; the update still differentiates through theta_{t-1} and the gates),
  preprocessed inputs, the run's ``inner_steps``.
* ``lstm_meta_plus``: the enhanced version of Huisman et al. ("raw gradients as input,
  second-order gradients, 8 updates per task", thesis Table 3.1 note 3).

Meta-parameters: ``init`` (theta), ``lstm`` (the first layer, the tensors of
``nn.LSTMCell``) and ``meta`` (``W_i``, ``W_f`` of length hidden_size + 2, ``b_i``, ``b_f``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params

#: The p of Andrychowicz et al.'s preprocessing.
PREPROCESS_P = 10.0


def preprocess(x: torch.Tensor, p: float = PREPROCESS_P) -> torch.Tensor:
    """Andrychowicz et al. (2016, App. A): ``x`` (any shape) -> ``(*x.shape, 2)``.

    Twice differentiable away from |x| = e^-p (the clamp keeps log's gradient finite in
    the branch that is not taken).
    """
    threshold = math.exp(-p)
    large = x.abs() >= threshold
    first = torch.where(large, torch.log(x.abs().clamp_min(threshold)) / p, -torch.ones_like(x))
    second = torch.where(large, torch.sign(x), math.exp(p) * x)
    return torch.stack([first, second], dim=-1)


class LSTMMetaLearner(MetaLearner):
    name = "lstm_meta"
    #: Updates per task when the options do not say (None: the run's inner_steps).
    default_inner_steps: int | None = None

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        generator: torch.Generator,
        hidden_size: int = 20,
        preprocess: bool = True,
        first_order: bool = True,
        lr_init: float = 0.01,
    ):
        if inner_steps < 1:
            raise ValueError(f"{self.name}: inner_steps must be >= 1, got {inner_steps}")
        if hidden_size < 1:
            raise ValueError(f"{self.name}: hidden_size must be >= 1, got {hidden_size}")
        if not 0 < lr_init < 1:
            raise ValueError(f"{self.name}: lr_init must lie in (0, 1) (a sigmoid gate), got {lr_init}")
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        self.hidden_size = hidden_size
        self.preprocess = preprocess
        inputs = 4 if preprocess else 2  # [grad, loss], two numbers each when preprocessed
        like = next(iter(self.init.values()))
        kw = dict(dtype=like.dtype, device=like.device)

        def uniform(shape, low, high):
            return torch.empty(shape, dtype=torch.float64).uniform_(low, high, generator=generator).to(**kw)

        # First layer: a stateless nn.LSTMCell template (on the meta device: no tensors, no
        # draw from the global RNG), its tensors in extra["lstm"].
        self.cell = nn.LSTMCell(inputs, hidden_size, device="meta")
        bound = 1 / math.sqrt(hidden_size)
        self.extra["lstm"] = {n: uniform(p.shape, -bound, bound).requires_grad_(True)
                              for n, p in self.cell.named_parameters()}
        self.extra["meta"] = {
            "W_i": uniform((hidden_size + 2,), -0.01, 0.01).requires_grad_(True),
            "W_f": uniform((hidden_size + 2,), -0.01, 0.01).requires_grad_(True),
            "b_i": torch.tensor(math.log(lr_init / (1 - lr_init)), **kw).requires_grad_(True),
            "b_f": uniform((), 4.0, 6.0).requires_grad_(True),
        }

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int,
                    generator: torch.Generator, n_classes: int = 0):
        options = dict(options)
        steps = options.pop("inner_steps", cls.default_inner_steps)
        return cls(model, init, inner_steps=inner_steps if steps is None else steps, generator=generator, **options)

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        n, hs = param.numel(), self.hidden_size
        theta, g = param.reshape(n), grad.reshape(n)
        loss = ctx.loss.reshape(1)
        if self.preprocess:
            x = torch.cat([preprocess(g), preprocess(loss).expand(n, 2)], dim=1)
        else:
            x = torch.stack([g, loss.expand(n)], dim=1)
        state = ctx.state.get(name)
        hx = None if state is None else state[:2]
        h, c = functional_call(self.cell, self.extra["lstm"], (x, hx))
        m = self.extra["meta"]
        if state is None:
            i_prev = f_prev = torch.zeros_like(theta)
        else:
            i_prev, f_prev = state[2:]
        # i_t and f_t in one product with the hidden state: [W_i; W_f] over h_t.
        w_h = torch.stack([m["W_i"][:hs], m["W_f"][:hs]], dim=1)  # (hidden, 2)
        pre = h @ w_h
        i = torch.sigmoid(pre[:, 0] + m["W_i"][hs] * theta + m["W_i"][hs + 1] * i_prev + m["b_i"])
        f = torch.sigmoid(pre[:, 1] + m["W_f"][hs] * theta + m["W_f"][hs + 1] * f_prev + m["b_f"])
        ctx.state[name] = (h, c, i, f)
        return (f * theta - i * g).reshape(param.shape)


class LSTMMetaLearnerPlus(LSTMMetaLearner):
    """Huisman et al.'s enhanced meta-learner LSTM: raw gradients, second order, 8 updates."""

    name = "lstm_meta_plus"
    default_inner_steps = 8

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, generator: torch.Generator,
                 hidden_size: int = 20, preprocess: bool = False, first_order: bool = False,
                 lr_init: float = 0.01):
        super().__init__(model, init, inner_steps=inner_steps, generator=generator, hidden_size=hidden_size,
                         preprocess=preprocess, first_order=first_order, lr_init=lr_init)
