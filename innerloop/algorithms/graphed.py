"""One meta-step as one CUDA graph: the inner loops, the meta-gradient and the outer update.

On a GPU the networks of this study are small enough that a meta-step is bound by kernel
launches, not arithmetic (README, "On a GPU"). A CUDA graph records the step's kernels once
and replays them with one launch. What the step does is unchanged: replaying the graph runs
the same kernels on the same tensors as :meth:`MetaLearner.accumulate_tasks` followed by the
clip and the optimiser's step, eagerly.

Capture needs what CUDA graphs need (``torch.cuda.graph``):

* static shapes and addresses: the meta-batch's tasks are copied into tensors owned by the
  graph before each replay, so every meta-batch must have the shapes of the first;
* no host synchronisation inside the step (no ``.item()``, no data-dependent Python control
  flow);
* a capturable optimiser: Adam and SGD with ``capturable=True``, which keep their step
  counts on the device;
* warm-up on a side stream before capture (autograd and cuDNN allocate lazily). The warm-up
  runs real steps, so the meta-parameters and the optimiser's state are saved before it and
  copied back, in place, after it: the first replayed step is the run's first step.

Where any of this does not hold (no CUDA, a learner or optimiser that synchronises or is not
capturable, a failed capture) :func:`capture` returns None and says why, and the caller runs
the eager step. ``create_graph=True`` (second order) captures like any other backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from innerloop.algorithms.base import MetaLearner
from innerloop.data.sampler import Task

#: Optimisers that can run inside a graph once their parameter groups are capturable.
CAPTURABLE_OPTIMISERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)
_TASK_TENSORS = ("support_x", "support_y", "query_x", "query_y")


def unsupported(learner: MetaLearner, optimiser: torch.optim.Optimizer, tasks: list[Task]) -> str | None:
    """Why this meta-step cannot be captured (None: it can be tried)."""
    if not torch.cuda.is_available():
        return "no CUDA device"
    devices = {t.device.type for t in learner.meta_parameters().values()}
    if devices != {"cuda"}:
        return f"meta-parameters on {sorted(devices)}, not CUDA"
    if not learner.meta_trained:
        return f"{learner.name} is not meta-trained"
    if type(optimiser) not in CAPTURABLE_OPTIMISERS:
        return f"{type(optimiser).__name__} has no capturable form"
    if type(optimiser) is torch.optim.SGD and any(g.get("momentum", 0) for g in optimiser.param_groups):
        return "SGD with momentum"  # its buffer is created on the first step, outside any graph
    shapes = {tuple(getattr(t, n).shape for n in _TASK_TENSORS) for t in tasks}
    if len(shapes) != 1:
        return "the tasks of a meta-batch differ in shape"
    return None


class GraphedMetaStep:
    """``step(tasks) -> (losses, metrics)``: one recorded meta-step, replayed on new tasks.

    Built by :func:`capture`; ``tasks`` must have the shapes of the tasks it was captured
    with. Returns the ``(T,)`` query losses and metrics of the step, as tensors on the
    device (read them after the replay; reading synchronises).
    """

    def __init__(self, graph: torch.cuda.CUDAGraph, inputs: list[Task], outputs: tuple[torch.Tensor, torch.Tensor]):
        self.graph, self.inputs, self.outputs = graph, inputs, outputs

    def __call__(self, tasks: list[Task]) -> tuple[torch.Tensor, torch.Tensor]:
        if len(tasks) != len(self.inputs):
            raise ValueError(f"captured for {len(self.inputs)} tasks, got {len(tasks)}")
        for static, task in zip(self.inputs, tasks):
            for name in _TASK_TENSORS:
                getattr(static, name).copy_(getattr(task, name), non_blocking=True)
        self.graph.replay()
        return self.outputs


def make_capturable(optimiser: torch.optim.Optimizer) -> None:
    """Switch ``optimiser``'s groups to their capturable form (step counts on the device)."""
    for group in optimiser.param_groups:
        if "capturable" in group:
            group["capturable"] = True
    for param, state in optimiser.state.items():
        step = state.get("step")
        if torch.is_tensor(step) and step.device != param.device:
            state["step"] = step.to(param.device, torch.float32)


def eager_step(learner: MetaLearner, optimiser: torch.optim.Optimizer, tasks: list[Task],
               weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The meta-step that is captured: gradients, clip, update. It is
    :func:`innerloop.training.outer_step` without its check of the loss between the gradients
    and the update (a graph replays the update whatever the loss; ``fit`` then sees the
    non-finite loss, or non-finite parameters, after it)."""
    optimiser.zero_grad(set_to_none=True)
    losses, metrics = learner.accumulate_tasks(tasks, weight)
    learner.clip_meta_gradient()
    optimiser.step()
    return losses, metrics


def capture(learner: MetaLearner, optimiser: torch.optim.Optimizer, tasks: list[Task], weight: float, *,
            warmup: int = 3, log: Callable[[str], None] = print) -> GraphedMetaStep | None:
    """The meta-step on tasks shaped like ``tasks``, captured as one CUDA graph; None (and
    ``log`` says why) where it cannot be, and then nothing about the learner has changed."""
    reason = unsupported(learner, optimiser, tasks)
    if reason is not None:
        log(f"meta-step not captured as a CUDA graph ({reason}); running it eagerly")
        return None
    make_capturable(optimiser)
    saved = _snapshot(learner, optimiser)
    inputs = [Task(*(getattr(t, n).clone() for n in _TASK_TENSORS), classes=getattr(t, "classes", ()))
              for t in tasks]
    try:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                eager_step(learner, optimiser, inputs, weight)
        torch.cuda.current_stream().wait_stream(side)
        _restore(learner, optimiser, saved)
        graph = torch.cuda.CUDAGraph()
        optimiser.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            outputs = eager_step(learner, optimiser, inputs, weight)
    except Exception as error:  # capture is an optimisation: any failure falls back to eager
        torch.cuda.synchronize()
        _restore(learner, optimiser, saved)
        optimiser.zero_grad(set_to_none=True)
        log(f"meta-step not captured as a CUDA graph ({type(error).__name__}: {error}); running it eagerly")
        return None
    log(f"meta-step captured as one CUDA graph ({learner.name}, {len(tasks)} tasks)")
    return GraphedMetaStep(graph, inputs, outputs)


def _snapshot(learner: MetaLearner, optimiser: torch.optim.Optimizer) -> dict:
    return {"params": {n: p.detach().clone() for n, p in learner.meta_parameters().items()},
            "state": {id(p): {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()}
                      for p, s in optimiser.state.items()}}


def _restore(learner: MetaLearner, optimiser: torch.optim.Optimizer, saved: dict) -> None:
    """Meta-parameters and optimiser state back to ``saved``, in place (the graph holds their
    addresses); state the warm-up created starts from zero, as a fresh optimiser's does."""
    with torch.no_grad():
        for n, p in learner.meta_parameters().items():
            p.copy_(saved["params"][n])
        for p, state in optimiser.state.items():
            before = saved["state"].get(id(p), {})
            for key, value in state.items():
                if torch.is_tensor(value):
                    value.copy_(before[key]) if key in before else value.zero_()
                elif key in before:
                    state[key] = before[key]


class GraphedSteps:
    """The training loop's meta-steps through one graph: captured on the first meta-batch,
    replayed on every later one of the same shapes; :meth:`step_for` returns None (run the
    step eagerly) where capture failed or the shapes differ."""

    def __init__(self, learner: MetaLearner, optimiser: torch.optim.Optimizer, weight: float, *,
                 log: Callable[[str], None] = print):
        self.learner, self.optimiser, self.weight, self.log = learner, optimiser, weight, log
        self.step: GraphedMetaStep | None = None
        self.failed = False

    def step_for(self, tasks: list[Task]) -> GraphedMetaStep | None:
        if self.failed:
            return None
        if self.step is None:
            self.step = capture(self.learner, self.optimiser, tasks, self.weight, log=self.log)
            self.failed = self.step is None
            return self.step
        if len(tasks) != len(self.step.inputs) or any(
                getattr(t, n).shape != getattr(s, n).shape for t, s in zip(tasks, self.step.inputs) for n in _TASK_TENSORS):
            return None
        return self.step
