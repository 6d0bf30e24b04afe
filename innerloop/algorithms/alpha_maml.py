"""Alpha-MAML (Behl, Baydin, Torr 2019): MAML whose two learning rates adapt online by
hypergradient descent (Baydin et al. 2018).

The four updates of one outer iteration (paper eq. 7, Algorithm 2)::

    theta'_i  = theta - alpha_t grad_theta L_train(i)(theta)                    (inner step, eq. 1)
    alpha_t+1 = alpha_t - alpha_hyperlr * dL_test/dalpha                         (eq. 4)
    beta_t    = beta_t-1 + beta_hyperlr * g_t . g_t-1                            (eq. 6)
    theta_t   = theta_t-1 - beta_t g_t                                           (eq. 2)

with ``g_t`` the meta-gradient of theta (the meta-batch mean, as the training loop
accumulates it; Algorithm 2 writes a sum, which only rescales the hyper-learning rates).
For one inner step eq. 3 gives ``dL_test/dalpha = -grad_theta' L_test . grad_theta
L_train``, so the alpha update is eq. 7's ``alpha + alpha_hyperlr * grad L_test . grad
L_train``. Here alpha is a differentiable scalar meta-parameter (``extra["lr"]["alpha"]``)
and its hypergradient comes from autograd through the inner loop, which is eq. 3 for
one step and stays exact for several (with ``first_order`` the inner gradients are
constants, so the alpha hypergradient is first order too, like theta's).

The outer update is :class:`HypergradientSGD`, whose state (beta in its theta group's
``lr``, the previous meta-gradient in its per-parameter state) is in its ``state_dict``,
so a resumed run continues exactly. Alpha is in its own plain-SGD group at
``alpha_hyperlr``: no Adam moves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params


class HypergradientSGD(torch.optim.Optimizer):
    """SGD whose rate follows the hypergradient rule of Baydin et al. (Alpha-MAML eq. 6).

    For a group with ``hypergradient=True``, one step is::

        lr <- lr + hyperlr * g_t . g_t-1      (dot product over all tensors of the group)
        p  <- p - lr * g_t

    (``g_0 = 0``: the first step uses the initial rate). Groups with ``hypergradient=False``
    are plain SGD at their ``lr``. The current rate is the group's ``lr`` and the previous
    gradient the per-parameter state ``previous_grad``; both are in ``state_dict()``.
    """

    def __init__(self, params, lr: float, hyperlr: float = 0.0, hypergradient: bool = True):
        if hyperlr < 0:
            raise ValueError(f"HypergradientSGD: hyperlr must be >= 0, got {hyperlr}")
        super().__init__(params, dict(lr=lr, hyperlr=hyperlr, hypergradient=hypergradient))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["hypergradient"]:
                dot = 0.0
                for p in group["params"]:
                    previous = self.state[p].get("previous_grad")
                    if p.grad is not None and previous is not None:
                        dot += float((p.grad.double() * previous.double()).sum())
                group["lr"] = group["lr"] + group["hyperlr"] * dot
                for p in group["params"]:
                    if p.grad is None:
                        self.state[p].pop("previous_grad", None)
                    else:
                        self.state[p]["previous_grad"] = p.grad.detach().clone()
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])
        return loss


class AlphaMAML(MetaLearner):
    name = "alpha_maml"
    label = "Alpha-MAML"
    order = 50
    family = "meta"
    color = "#f28e2b"
    learns_rates = True
    sine_comparison = True
    inner_steps_sweep = True

    @dataclass(frozen=True)
    class Options:
        inner_lr: float = 0.01
        outer_lr: float | None = None
        alpha_hyperlr: float = 1e-4
        beta_hyperlr: float = 1e-6
        first_order: bool = False

    def __init__(
        self,
        model: nn.Module,
        init: Params,
        *,
        inner_steps: int,
        inner_lr: float = Options.inner_lr,
        outer_lr: float | None = Options.outer_lr,
        alpha_hyperlr: float = Options.alpha_hyperlr,
        beta_hyperlr: float = Options.beta_hyperlr,
        first_order: bool = Options.first_order,
    ):
        super().__init__(model, init, inner_steps=inner_steps, second_order=not first_order)
        if not (alpha_hyperlr >= 0 and math.isfinite(alpha_hyperlr)):
            raise ValueError(f"alpha_maml: alpha_hyperlr must be a finite number >= 0, got {alpha_hyperlr}")
        if not (beta_hyperlr >= 0 and math.isfinite(beta_hyperlr)):
            raise ValueError(f"alpha_maml: beta_hyperlr must be a finite number >= 0, got {beta_hyperlr}")
        if outer_lr is not None and not outer_lr > 0:
            raise ValueError(f"alpha_maml: outer_lr (beta_0) must be positive or null, got {outer_lr}")
        self.outer_lr = outer_lr
        self.alpha_hyperlr = alpha_hyperlr
        self.beta_hyperlr = beta_hyperlr
        dtype = next(iter(self.init.values())).dtype
        self.extra["lr"] = {"alpha": torch.tensor(float(inner_lr), dtype=dtype, requires_grad=True)}
        self._optimiser: HypergradientSGD | None = None

    @property
    def alpha(self) -> torch.Tensor:
        """The current inner learning rate (a 0-d meta-parameter)."""
        return self.extra["lr"]["alpha"]

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return param - self.alpha * grad

    def learning_rates(self) -> Params:
        """Alpha broadcast to every parameter's shape (one rate for all elements)."""
        alpha = self.alpha.detach()
        return {n: alpha.expand(p.shape) for n, p in self.init.items()}

    def make_optimiser(self, outer_lr: float) -> HypergradientSGD:
        """Hypergradient SGD on theta (beta_0 = the ``outer_lr`` option, else ``outer_lr``)
        and plain SGD at ``alpha_hyperlr`` on alpha."""
        beta0 = self.outer_lr if self.outer_lr is not None else outer_lr
        self._optimiser = HypergradientSGD([
            {"params": list(self.init.values()), "lr": beta0, "hyperlr": self.beta_hyperlr, "hypergradient": True},
            {"params": [self.alpha], "lr": self.alpha_hyperlr, "hyperlr": 0.0, "hypergradient": False},
        ], lr=beta0)
        return self._optimiser

    @property
    def beta(self) -> float:
        """The current outer learning rate (beta_0 before any optimiser exists)."""
        if self._optimiser is not None:
            return self._optimiser.param_groups[0]["lr"]
        return self.outer_lr if self.outer_lr is not None else math.nan

    def log_values(self) -> dict[str, float]:
        return {"alpha": self.alpha.item(), "beta": self.beta}
