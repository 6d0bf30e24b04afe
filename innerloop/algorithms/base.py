"""What every gradient-based meta-learner shares: meta-parameters and the engine's choices.

A learner holds the meta-initialisation ``theta`` (``self.init``) plus whatever else the
outer loop learns (Meta-SGD's rates, ...). A subclass states its choices by overriding
``adapts`` (which tensors move in the inner loop) and ``step`` (how one tensor moves);
the loop itself is :func:`innerloop.algorithms.engine.adapt`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.algorithms import engine
from innerloop.models import Params, forward

if TYPE_CHECKING:
    from innerloop.data.sampler import Task

#: Separator between a meta-parameter's group ("init", "lr", ...) and its tensor name.
SEP = "/"


class MetaLearner:
    """Base class: a meta-initialisation adapted by the shared inner-loop engine."""

    name = "base"

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int, second_order: bool = True):
        if inner_steps < 0:
            raise ValueError(f"inner_steps must be >= 0, got {inner_steps}")
        self.model = model
        self.init = _leaves(init)
        self.inner_steps = inner_steps
        self.second_order = second_order
        #: Further meta-parameter groups the outer loop learns, by name (e.g. {"lr": ...}).
        self.extra: dict[str, Params] = {}

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int, generator: torch.Generator):
        """Build from the algorithm's config options; ``generator`` seeds any random init."""
        return cls(model, init, inner_steps=inner_steps, **options)

    # -- the engine's choices -------------------------------------------------------
    def adapts(self, name: str) -> bool:
        """Whether parameter ``name`` moves in the inner loop (all of them by default)."""
        return True

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, k: int) -> torch.Tensor:
        """One inner update of one tensor; see :data:`engine.StepRule`."""
        raise NotImplementedError

    def learning_rates(self) -> Params | None:
        """Per-element inner-loop learning rates, for algorithms that learn them."""
        return None

    # -- shared machinery ---------------------------------------------------------------
    def meta_parameters(self) -> dict[str, torch.Tensor]:
        """Everything the outer optimiser updates, flat and in a stable order."""
        groups = {"init": self.init, **self.extra}
        return {f"{g}{SEP}{n}": t for g, tensors in groups.items() for n, t in tensors.items()}

    def support_loss(self, x: torch.Tensor, y: torch.Tensor):
        return lambda params: F.cross_entropy(forward(self.model, params, x), y)

    def adapt(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        steps: int | None = None,
        params: Params | None = None,
        meta_gradient: bool = True,
    ) -> Params:
        """Adapt ``params`` (default: the meta-initialisation) to the support set (x, y).

        With ``meta_gradient=True`` the result stays differentiable with respect to the
        meta-parameters (to the order the learner was built with); with ``False`` it is a
        plain evaluation-time adaptation and the result is detached.
        """
        params = self.init if params is None else params
        if not meta_gradient:
            params = {n: p.detach() for n, p in params.items()}
        adapted, _ = engine.adapt(
            self.support_loss(x, y),
            params,
            steps=self.inner_steps if steps is None else steps,
            step=self.step,
            adapts=self.adapts,
            second_order=self.second_order and meta_gradient,
        )
        if not meta_gradient:
            adapted = {n: p.detach() for n, p in adapted.items()}
        return adapted

    def outer_loss(self, task: "Task") -> tuple[torch.Tensor, torch.Tensor]:
        """Query loss after adapting to the support set, and query accuracy (detached)."""
        adapted = self.adapt(task.support_x, task.support_y)
        logits = forward(self.model, adapted, task.query_x)
        accuracy = (logits.argmax(1) == task.query_y).float().mean().detach()
        return F.cross_entropy(logits, task.query_y), accuracy

    # -- state ------------------------------------------------------------------------
    def to(self, device: torch.device | str) -> "MetaLearner":
        self.model.to(device)
        self.init = _leaves(self.init, device)
        self.extra = {group: _leaves(tensors, device) for group, tensors in self.extra.items()}
        return self

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.meta_parameters().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        current = self.meta_parameters()
        if set(state) != set(current):
            missing, unexpected = set(current) - set(state), set(state) - set(current)
            raise KeyError(f"state does not match {self.name}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        for key, tensor in current.items():
            with torch.no_grad():
                tensor.copy_(state[key])


def _leaves(params: Params, device: torch.device | str | None = None) -> Params:
    """Detached copies that are leaves requiring grad (what an optimiser can own)."""
    return {n: p.detach().to(device).clone().requires_grad_(True) for n, p in params.items()}
