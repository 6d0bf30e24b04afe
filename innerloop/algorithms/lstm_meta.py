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

The states (h, c, i, f) live in the engine's per-adaptation ``ctx.state``, keyed by the
name of the tensor the engine steps (one flat vector of all coordinates; see
:class:`~innerloop.algorithms.coordinatewise.CoordinatewiseLearner`). Initialisation as the original: gate weights uniform in [-0.01, 0.01],
forget bias uniform in [4, 6] (f ~ 1), input bias logit(lr_init) (i = lr_init); the
first LSTM uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)] (PyTorch's default),
all from the run's generator.

* ``lstm_meta``: the original, first order (the gradient and loss inputs are constants of
  the meta-gradient; the update still differentiates through theta_{t-1} and the gates),
  preprocessed inputs, the run's ``inner_steps``.
* ``lstm_meta_plus``: the enhanced version of Huisman et al. ("raw gradients as input,
  second-order gradients, 8 updates per task", thesis Table 3.1 note 3).

Meta-parameters: ``init`` (theta), ``lstm`` (the first layer: the tensors of an
``nn.LSTMCell``, its equations written out in :meth:`LSTMMetaLearner.update` so that the
constant loss input and the zero initial states cost nothing) and ``meta`` (``W_i``, ``W_f`` of length hidden_size + 2, ``b_i``, ``b_f``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from innerloop.algorithms.coordinatewise import CoordinatewiseLearner
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


def _affine(bias: torch.Tensor, x: torch.Tensor, weight_t: torch.Tensor) -> torch.Tensor:
    """``bias + x @ weight_t`` in one fused product, for ``x`` (n, k) or a stack (T, n, k)."""
    if x.ndim == 2:
        return torch.addmm(bias, x, weight_t)
    return torch.baddbmm(bias, x, weight_t.expand(x.shape[0], *weight_t.shape))


class LSTMMetaLearner(CoordinatewiseLearner):
    name = "lstm_meta"
    label = "Meta-learner LSTM"
    order = 140
    family = "meta"
    color = "#59a14f"
    sine_comparison = True

    @dataclass(frozen=True)
    class Options:
        hidden_size: int = 20
        preprocess: bool = True
        first_order: bool = True
        #: Updates per task (None: the run's inner_steps).
        inner_steps: int | None = None
        lr_init: float = 0.01

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        generator: torch.Generator,
        hidden_size: int = Options.hidden_size,
        preprocess: bool = Options.preprocess,
        first_order: bool = Options.first_order,
        lr_init: float = Options.lr_init,
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
        #: Columns of the LSTM input per scalar (gradient, loss): 2 when preprocessed.
        self.width = 2 if preprocess else 1
        like = next(iter(self.init.values()))
        kw = dict(dtype=like.dtype, device=like.device)

        def uniform(shape, low, high):
            t = torch.empty(shape, dtype=torch.float64).uniform_(low, high, generator=generator)
            return t.to(**kw).requires_grad_(True)

        bound = 1 / math.sqrt(hidden_size)
        gates = 4 * hidden_size
        self.extra["lstm"] = {  # the tensors of nn.LSTMCell(2 * width, hidden_size), same names and layout
            "weight_ih": uniform((gates, 2 * self.width), -bound, bound),
            "weight_hh": uniform((gates, hidden_size), -bound, bound),
            "bias_ih": uniform((gates,), -bound, bound),
            "bias_hh": uniform((gates,), -bound, bound),
        }
        self.extra["meta"] = {
            "W_i": uniform((hidden_size + 2,), -0.01, 0.01),
            "W_f": uniform((hidden_size + 2,), -0.01, 0.01),
            "b_i": torch.tensor(math.log(lr_init / (1 - lr_init)), **kw).requires_grad_(True),
            "b_f": uniform((), 4.0, 6.0),
        }

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int,
                    generator: torch.Generator, n_classes: int = 0):
        options = cls.with_defaults(options)
        steps = options.pop("inner_steps")
        return cls(model, init, inner_steps=inner_steps if steps is None else steps, generator=generator, **options)

    def update(self, theta: torch.Tensor, grad: torch.Tensor, ctx: StepContext, key: str,
               names: Sequence[str]) -> torch.Tensor:
        hs, w, lstm, m = self.hidden_size, self.width, self.extra["lstm"], self.extra["meta"]
        # theta (n,) for one task, (T, n) for T tasks with their (T,) support losses
        loss = ctx.loss.reshape(*theta.shape[:-1], 1, 1)
        g, lo = (preprocess(grad), preprocess(loss).squeeze(-2)) if self.preprocess else (grad[..., None], loss)
        # First layer, nn.LSTMCell's equations (gate order i, f, g, o) written out: the loss
        # columns are the same for every coordinate, so their product is one row; at t = 0
        # the states are zero and their terms are left out (exact zeros).
        row = lo @ lstm["weight_ih"][:, w:].T + lstm["bias_ih"] + lstm["bias_hh"]
        gates = _affine(row, g, lstm["weight_ih"][:, :w].T)
        state = ctx.state.get(key)
        if state is not None:
            gates = _affine(gates, state[0], lstm["weight_hh"].T)
        gi, gf, gg, go = gates.chunk(4, dim=-1)
        c = torch.sigmoid(gi) * torch.tanh(gg)
        if state is not None:
            c = c + torch.sigmoid(gf) * state[1]
        h = torch.sigmoid(go) * torch.tanh(c)
        # The meta-LSTM cell (eq. 3.3): i_t and f_t in one product with h_t.
        pre = h @ torch.stack([m["W_i"][:hs], m["W_f"][:hs]], dim=1)
        pre_i = pre[..., 0] + m["W_i"][hs] * theta + m["b_i"]
        pre_f = pre[..., 1] + m["W_f"][hs] * theta + m["b_f"]
        if state is not None:
            pre_i = pre_i + m["W_i"][hs + 1] * state[2]
            pre_f = pre_f + m["W_f"][hs + 1] * state[3]
        i, f = torch.sigmoid(pre_i), torch.sigmoid(pre_f)
        ctx.state[key] = (h, c, i, f)
        return f * theta - i * grad


class LSTMMetaLearnerPlus(LSTMMetaLearner):
    """Huisman et al.'s enhanced meta-learner LSTM: raw gradients, second order, 8 updates."""

    name = "lstm_meta_plus"
    label = "Meta-learner LSTM (enhanced)"
    order = 150
    family = "meta"
    color = "#1e5a1e"

    @dataclass(frozen=True)
    class Options(LSTMMetaLearner.Options):
        preprocess: bool = False
        first_order: bool = False
        inner_steps: int | None = 8

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, generator: torch.Generator,
                 hidden_size: int = Options.hidden_size, preprocess: bool = Options.preprocess,
                 first_order: bool = Options.first_order, lr_init: float = Options.lr_init):
        super().__init__(model, init, inner_steps=inner_steps, generator=generator, hidden_size=hidden_size,
                         preprocess=preprocess, first_order=first_order, lr_init=lr_init)
