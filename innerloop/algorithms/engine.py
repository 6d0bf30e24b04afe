"""The one inner-loop engine every gradient-based meta-learner runs on.

An inner loop takes ``steps`` gradient steps on the support loss, starting from the
meta-parameters::

    theta_{k+1}[n] = step(n, theta_k[n], grad_n L_support(theta_k), k)   for n in adapted names

Algorithms differ only in their choices, never in the loop:

* which parameters adapt (``adapts``: all for MAML, the head for ANIL, the body for BOIL),
* how a step is taken (``step``: a scalar rate for MAML, a learned rate per element for
  Meta-SGD, a learned update rule for TURTLE ...),
* what the outer loss differentiates through (``second_order``: keep the graph of each
  inner gradient so the meta-gradient contains the Hessian terms, or treat the inner
  gradients as constants, the first-order approximation).

The loop is a plain per-task Python loop over ``torch.autograd.grad`` with
``create_graph=second_order``: measured on torch 2.14.1, ``torch.func.vmap`` over tasks
gives a wrong second-order meta-gradient through ``batch_norm`` and is slower on CPU.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Params = dict[str, torch.Tensor]
#: ``step(name, param, grad, k) -> new param``: one inner update of one tensor.
StepRule = Callable[[str, torch.Tensor, torch.Tensor, int], torch.Tensor]
#: ``support_loss(params) -> scalar``: the loss the inner loop descends.
SupportLoss = Callable[[Params], torch.Tensor]


def adapt(
    support_loss: SupportLoss,
    params: Params,
    *,
    steps: int,
    step: StepRule,
    adapts: Callable[[str], bool],
    second_order: bool,
) -> tuple[Params, list[torch.Tensor]]:
    """Run the inner loop; return the adapted parameters and the (detached) support loss per step.

    Parameters that do not adapt are passed through unchanged (the same tensors, so the
    outer gradient reaches them directly). With ``second_order=False`` the inner
    gradients are detached: the adapted parameters still depend on the meta-parameters
    (and on any learned step sizes) through the update itself, which is exactly the
    first-order approximation of MAML.

    When called outside meta-training (evaluation, the feature probe), pass detached
    parameters; the adapted ones are made differentiable here so that the inner
    gradients can be taken.
    """
    names = [n for n in params if adapts(n)]
    params = dict(params)
    for n in names:
        if not params[n].requires_grad:
            params[n] = params[n].detach().requires_grad_(True)
    losses: list[torch.Tensor] = []
    for k in range(steps):
        loss = support_loss(params)
        losses.append(loss.detach())
        grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=second_order)
        for n, g in zip(names, grads):
            params[n] = step(n, params[n], g if second_order else g.detach(), k)
    return params, losses
