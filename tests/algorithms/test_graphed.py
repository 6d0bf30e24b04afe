"""The CUDA-graph meta-step (:mod:`innerloop.algorithms.graphed`) where it cannot capture.

On the CPU (CI, this machine) :func:`capture` must decline, say why, and leave the learner
and its optimiser exactly as they were, so the caller's eager step is the run's step; the
eager step is the one :func:`innerloop.training.fit` takes. Capture itself, and that its
replayed steps equal the eager ones, is checked on a GPU in ``tests/algorithms/test_cuda.py``.
"""

import torch
from test_batched import learner_for, problem

from innerloop.algorithms import graphed


def test_capture_declines_on_the_cpu_and_changes_nothing():
    model, init, tasks = problem(smooth=False)
    learner = learner_for("maml", model, init)
    optimiser = learner.make_optimiser(1e-3)
    before = {n: p.detach().clone() for n, p in learner.meta_parameters().items()}
    said = []
    assert graphed.capture(learner, optimiser, tasks, 1 / len(tasks), log=said.append) is None
    assert said == ["meta-step not captured as a CUDA graph (no CUDA device); running it eagerly"]
    assert not optimiser.state
    for n, p in learner.meta_parameters().items():
        assert torch.equal(p, before[n]) and p.grad is None, n


def test_unsupported_names_each_reason():
    model, init, tasks = problem(smooth=False)
    learner = learner_for("maml", model, init)
    optimiser = learner.make_optimiser(1e-3)
    if not torch.cuda.is_available():
        assert graphed.unsupported(learner, optimiser, tasks) == "no CUDA device"
        return
    assert "not CUDA" in graphed.unsupported(learner, optimiser, tasks)
    learner.to("cuda")
    momentum = torch.optim.SGD(learner.meta_parameters().values(), lr=0.1, momentum=0.9)
    assert graphed.unsupported(learner, momentum, tasks) == "SGD with momentum"


def test_eager_step_is_the_training_loops_step():
    """Gradients of the meta-batch mean, then one optimiser step, from zeroed gradients."""
    model, init, tasks = problem(smooth=False)
    stepped, reference = learner_for("metasgd", model, init), learner_for("metasgd", model, init)
    opt_a, opt_b = stepped.make_optimiser(1e-2), reference.make_optimiser(1e-2)
    for p in stepped.meta_parameters().values():
        p.grad = torch.ones_like(p)  # stale gradients must not leak into the step
    losses, metrics = graphed.eager_step(stepped, opt_a, tasks, 1 / len(tasks))
    opt_b.zero_grad(set_to_none=True)
    expected, _ = reference.accumulate_tasks(tasks, 1 / len(tasks))
    opt_b.step()
    torch.testing.assert_close(losses, expected, rtol=0, atol=0)
    for (n, a), b in zip(stepped.meta_parameters().items(), reference.meta_parameters().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=n)
    assert metrics.shape == (len(tasks),)



def test_the_training_loops_graph_falls_back_once_and_stays_eager():
    model, init, tasks = problem(smooth=False)
    learner = learner_for("maml", model, init)
    said = []
    steps = graphed.GraphedSteps(learner, learner.make_optimiser(1e-3), 1 / len(tasks), log=said.append)
    assert steps.step_for(tasks) is None and steps.step_for(tasks) is None
    assert len(said) == 1 and "no CUDA device" in said[0]
