"""The one inner-loop engine every gradient-based meta-learner runs on.

An inner loop takes ``steps`` gradient steps on the support loss, starting from the
meta-parameters::

    theta_{k+1}[n] = step(n, theta_k[n], grad_n L_support(theta_k), ctx_k)   for n in adapted names

Algorithms differ only in their choices, never in the loop:

* which parameters adapt (``adapts``: all for MAML, the head for ANIL, the body for BOIL),
* how a step is taken (``step``: a scalar rate for MAML, a learned rate per element for
  Meta-SGD, a learned update network for TURTLE, an LSTM cell for the meta-learner LSTM),
* what the outer loss differentiates through (one :class:`Gradient` setting: ``second``
  order keeps the graph of each inner gradient so the meta-gradient contains the Hessian
  terms; ``first`` order treats the inner gradients as constants; ``finite_difference``
  gets the Hessian terms from differences of gradients instead of double backward).

The loop runs in one of two :class:`Mode` s: ``TRAINING`` (meta-training: the adapted
tensors stay differentiable to the gradient setting's order) or ``EVALUATION`` (meta-test,
probe: a plain adaptation whose inner gradients are constants, whatever the setting).

A step sees a :class:`StepContext`: the step index, the mode, the current support loss (an
input of the meta-learner LSTM and TURTLE) and a ``state`` dict that lives for one
adaptation (the LSTM's cell and gates, TURTLE's moving average). Stateless rules ignore it.

The loop runs over ``torch.autograd.grad`` with ``create_graph`` for second order, for one
task or for many at once: a support loss may return one loss per task (a vector) for
parameters that carry a leading task axis (:mod:`innerloop.models.batched`); the tasks
are independent, so the gradient of the losses' sum holds each task's own gradient, and
a step rule sees the vector of per-task losses in ``ctx.loss``. One task at a time is
the reference path; measured on torch 2.14.1, ``torch.func.vmap`` over tasks gives a
wrong second-order meta-gradient through ``batch_norm``, so it is not used.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Params = dict[str, torch.Tensor]
#: ``support_loss(params) -> scalar``: the loss the inner loop descends.
SupportLoss = Callable[[Params], torch.Tensor]


class Mode(enum.Enum):
    """What an adaptation is for."""

    TRAINING = "training"  #: meta-training: differentiable w.r.t. the meta-parameters
    EVALUATION = "evaluation"  #: meta-test, probe, CKA: a plain adaptation


@dataclass(frozen=True)
class Gradient:
    """How a meta-training adaptation's meta-gradient treats the inner gradients.

    ``order``: ``"second"`` (double backward), ``"first"`` (the inner gradients are constants)
    or ``"finite_difference"`` (the Hessian-vector products of :func:`fd_gradients`, at
    ``epsilon``, relative to the norm of the adapted tensors with ``relative``, computed in
    ``dtype``; None: the parameters' own precision).
    """

    order: str = "second"
    epsilon: float | None = None
    relative: bool = False
    dtype: torch.dtype | None = None

    def __post_init__(self):
        if self.order not in ("second", "first", "finite_difference"):
            raise ValueError(f"gradient order must be second, first or finite_difference, got {self.order!r}")
        if (self.order == "finite_difference") != (self.epsilon is not None):
            raise ValueError("a finite-difference gradient needs epsilon, and only it takes one")
        if self.epsilon is not None and not self.epsilon > 0:
            raise ValueError(f"finite-difference epsilon must be positive, got {self.epsilon}")

    @property
    def keeps_graph(self) -> bool:
        """Whether the meta-gradient differentiates through the inner gradients."""
        return self.order != "first"


SECOND_ORDER = Gradient("second")
FIRST_ORDER = Gradient("first")


@dataclass
class StepContext:
    """What one inner step may look at besides its tensor and gradient."""

    k: int  #: step index, 0 .. steps - 1
    steps: int  #: total steps of this adaptation
    loss: torch.Tensor  #: support loss at theta_k (in the graph when second order)
    state: dict = field(default_factory=dict)  #: scratch state kept across the steps of one adaptation
    mode: Mode = Mode.TRAINING  #: what the adaptation is for


#: ``step(name, param, grad, ctx) -> new param``: one inner update of one tensor.
StepRule = Callable[[str, torch.Tensor, torch.Tensor, StepContext], torch.Tensor]


def adapt(
    support_loss: SupportLoss,
    params: Params,
    *,
    steps: int,
    step: StepRule,
    adapts: Callable[[str], bool],
    gradient: Gradient = SECOND_ORDER,
    mode: Mode = Mode.TRAINING,
) -> tuple[Params, list[torch.Tensor]]:
    """Run the inner loop; return the adapted parameters and the (detached) support loss per step.

    Parameters that do not adapt are passed through unchanged (the same tensors, so the
    outer gradient reaches them directly). In ``TRAINING`` mode with a first-order
    ``gradient`` the inner gradients are detached: the adapted parameters still depend on
    the meta-parameters (and on any learned step sizes) through the update itself, which is
    exactly the first-order approximation of MAML. With second order they keep their graph;
    with finite differences they are computed without one and their backward pass is the
    finite-difference Hessian-vector product of :func:`fd_gradients`. In ``EVALUATION``
    mode the inner gradients are constants whatever ``gradient`` says.

    In evaluation, pass detached parameters; the adapted ones are made differentiable here
    so that the inner gradients can be taken.
    """
    names = [n for n in params if adapts(n)]
    params = dict(params)
    for n in names:
        if not params[n].requires_grad:
            params[n] = params[n].detach().requires_grad_(True)
    keep = mode is Mode.TRAINING and gradient.keeps_graph
    differences = keep and gradient.order == "finite_difference"
    losses: list[torch.Tensor] = []
    state: dict = {}
    for k in range(steps):
        if differences:
            loss, grads = fd_gradients(support_loss, params, names, gradient.epsilon, relative=gradient.relative,
                                       dtype=gradient.dtype)
        else:
            loss = support_loss(params)
            total = loss if loss.ndim == 0 else loss.sum()  # per-task losses: each task's gradient
            grads = torch.autograd.grad(total, [params[n] for n in names], create_graph=keep)
            if not keep:
                grads = [g.detach() for g in grads]
        losses.append(loss.detach())
        ctx = StepContext(k=k, steps=steps, loss=loss if keep else loss.detach(), state=state, mode=mode)
        for n, g in zip(names, grads):
            params[n] = step(n, params[n], g, ctx)
    return params, losses


def fd_gradients(
    support_loss: SupportLoss, params: Params, names: list[str], epsilon: float, *, relative: bool = False,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The support loss and its gradients w.r.t. ``names``, differentiable by finite differences.

    The gradients' backward pass, given the upstream vector ``v``, returns the central
    difference Hessian-vector product (Agarwal, "Investigating MAML", eq. 2)::

        H v  ~=  ||v|| * (grad L(theta + eps * v/||v||) - grad L(theta - eps * v/||v||)) / (2 eps)

    (the step is taken along the unit vector so ``epsilon`` is a distance in parameter
    space whatever the scale of ``v``; with ``relative`` the distance is ``epsilon *
    ||theta||``, the norm of the adapted tensors at that step). With per-task losses (a
    vector; tensors with a leading task axis) the norm, the step and ``||theta||`` are each
    task's own, as one task at a time would take them. With ``dtype`` (float64) the
    gradients, the perturbed points and their difference are computed in that precision
    and returned in the parameters' own: in float32 no step is both small enough to cross
    no ReLU / max-pool kink and large enough to rise above round-off
    (benchmarks/fd_hessian.py). ``support_loss`` must then accept tensors of ``dtype``.
    Only the adapted tensors get this backward; the
    loss itself is returned detached, so a meta-gradient through the loss value (an input
    of learned update rules) is first order.
    """
    others = {n: p.detach().to(dtype) for n, p in params.items() if n not in names}
    own = params[names[0]].dtype

    def gradient_at(tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        with torch.enable_grad():
            leaves = [t.detach().to(dtype).requires_grad_(True) for t in tensors]
            loss = support_loss({**others, **dict(zip(names, leaves))})
            return loss.detach(), list(torch.autograd.grad(loss if loss.ndim == 0 else loss.sum(), leaves))

    theta = tuple(params[n] for n in names)
    loss, grads = gradient_at(theta)
    loss, grads = loss.to(own), [g.to(own) for g in grads]

    class _Gradient(torch.autograd.Function):
        @staticmethod
        def forward(*tensors):
            return tuple(grads)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, *v):
            saved = ctx.saved_tensors
            theta = tuple(t.to(dtype) for t in saved)
            v = tuple(u.to(dtype) for u in v)
            if loss.ndim == 0:
                norm = torch.sqrt(sum((u.double() ** 2).sum() for u in v)).to(v[0].dtype)
                if norm == 0:
                    return tuple(torch.zeros_like(t) for t in saved)
                step = epsilon * torch.sqrt(sum((t.double() ** 2).sum() for t in theta)).item() if relative else epsilon
                scale = step / norm
                _, plus = gradient_at(tuple(t + scale * u for t, u in zip(theta, v)))
                _, minus = gradient_at(tuple(t - scale * u for t, u in zip(theta, v)))
                return tuple(((p - m) / (2 * scale)).to(own) for p, m in zip(plus, minus))
            # one norm (and step) per task, without a host synchronisation (a task with v = 0 gets 0)
            norm = torch.sqrt(sum((u.double() ** 2).flatten(1).sum(1) for u in v)).to(v[0].dtype)
            zero = norm == 0
            step = (epsilon * torch.sqrt(sum((t.double() ** 2).flatten(1).sum(1) for t in theta)).to(v[0].dtype)
                    if relative else epsilon)
            scale = step / torch.where(zero, torch.ones_like(norm), norm)

            def per_task(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                return s.view(-1, *([1] * (t.ndim - 1)))

            _, plus = gradient_at(tuple(t + per_task(scale, t) * u for t, u in zip(theta, v)))
            _, minus = gradient_at(tuple(t - per_task(scale, t) * u for t, u in zip(theta, v)))
            return tuple(torch.where(per_task(zero, p), 0.0, (p - m) / (2 * per_task(scale, p))).to(own)
                         for p, m in zip(plus, minus))

    return loss, list(_Gradient.apply(*theta))
