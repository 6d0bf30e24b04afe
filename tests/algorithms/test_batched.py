"""The batched inner loop (all tasks of a meta-batch in one set of operations) against the
per-task loop, in float64: meta-gradients of every algorithm, evaluation numbers, and the
batched forward itself, on the smooth Conv4 and on the real ReLU/max-pool Conv4."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from algorithm_cases import gradient_cases

from innerloop.algorithms import ALGORITHMS, build_learner
from innerloop.algorithms.base import stack_tasks
from innerloop.data.sampler import Batch
from innerloop.data.sampler import TaskSampler
from innerloop.evaluation.probe import feature_probe
from innerloop.evaluation.representations import representation_change
from innerloop.models import MLP, Conv4, batched, embed, forward, init_mlp, init_params
from innerloop.scoring import evaluate

WAYS, SHOTS, QUERIES, SIZE, STEPS, TASKS = 3, 2, 2, 16, 2, 3

#: Every registered algorithm with options that make its learned parts matter, and its
#: variants: case id -> (algorithm, options) (tests/algorithm_cases.py).
CASES = gradient_cases()
#: Learners whose adaptation keeps the per-task loop (they say why: ``no_batched_adaptation``).
LOOP_ONLY = {case for case, (name, _) in CASES.items() if ALGORITHMS[name].no_batched_adaptation}
#: Learners with no meta-gradient (``meta_trained = False``: nothing is meta-trained).
NOT_META_TRAINED = {case for case, (name, _) in CASES.items() if not ALGORITHMS[name].meta_trained}


def problem(smooth: bool, seed: int = 0):
    model = Conv4(in_channels=1, ways=WAYS, filters=3, image_size=SIZE, smooth=smooth).double()
    init = {k: v.double() for k, v in init_params(model, torch.Generator().manual_seed(seed)).items()}
    gen = torch.Generator().manual_seed(seed + 1)
    tasks = []
    for _ in range(TASKS):
        order = torch.randperm(WAYS, generator=gen)
        tasks.append(SimpleNamespace(
            support_x=torch.rand(WAYS * SHOTS, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
            support_y=order.repeat_interleave(SHOTS),
            query_x=torch.rand(WAYS * QUERIES, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
            query_y=order.repeat_interleave(QUERIES),
            classes=tuple(torch.randperm(10, generator=gen)[:WAYS].tolist())))
    return model, init, tasks


def learner_for(case: str, model, init):
    name, options = CASES[case]
    learner = build_learner(name, dict(options), model=model, init=init, inner_steps=STEPS,
                            generator=torch.Generator().manual_seed(3), n_classes=10)
    for group, tensors in learner.extra.items():  # move every learned part off its special initial value
        gen = torch.Generator().manual_seed(4)
        for n, t in tensors.items():
            if group in ("net", "meta") or (group == "lr" and name == "turtle"):
                noise = 0.05 * torch.randn(t.shape, generator=gen, dtype=torch.float64)
                tensors[n] = (t.detach().double() + noise).requires_grad_(True)
            else:
                tensors[n] = t.detach().double().requires_grad_(True)
    if "meta" in learner.extra:
        learner.extra["meta"]["b_f"] = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    return learner


def meta_gradients(learner, tasks, batch: bool):
    learner.batch_tasks = batch
    for t in learner.meta_parameters().values():
        t.grad = None
    losses, metrics = learner.accumulate_tasks(tasks, 1 / len(tasks))
    grads = {k: (t.grad.clone() if t.grad is not None else torch.zeros_like(t))
             for k, t in learner.meta_parameters().items()}
    return losses, metrics, grads


def relative(a: dict, b: dict, group: str) -> tuple[float, float]:
    keys = [k for k in b if k.startswith(group + "/")]
    x = torch.cat([a[k].reshape(-1) for k in keys])
    y = torch.cat([b[k].reshape(-1) for k in keys])
    return float((x - y).norm() / y.norm()), float(y.norm())


@pytest.mark.parametrize("smooth", [True, False], ids=["smooth", "relu_maxpool"])
@pytest.mark.parametrize("case", [c for c in CASES if c not in LOOP_ONLY | NOT_META_TRAINED])
def test_batched_meta_gradient_equals_the_loop(case, smooth):
    model, init, tasks = problem(smooth)
    learner = learner_for(case, model, init)
    assert learner.batch_unsupported() is None and learner.batches(tasks)
    loss_b, metric_b, batched_grads = meta_gradients(learner, tasks, batch=True)
    loss_l, metric_l, loop_grads = meta_gradients(learner, tasks, batch=False)
    torch.testing.assert_close(loss_b, loss_l, rtol=1e-12, atol=0)
    torch.testing.assert_close(metric_b, metric_l, rtol=0, atol=0)
    groups = sorted({k.split("/")[0] for k in loop_grads})
    for group in groups:
        error, size = relative(batched_grads, loop_grads, group)
        assert size > 0, f"{case}: {group} receives no meta-gradient"
        assert error < 1e-10, f"{case}: {group} differs by {error:.2e} relative"


@pytest.mark.parametrize("case", sorted(LOOP_ONLY))
def test_learners_without_a_batched_adaptation_say_why_and_keep_the_loop(case):
    model, init, tasks = problem(True)
    learner = learner_for(case, model, init)
    assert "adapt" in learner.batch_unsupported()
    assert not learner.batches(tasks)
    # their outer loop draws labelled batches over the training classes (learner.training_data)
    batches = [Batch(torch.cat([t.support_x, t.query_x]),
                     torch.tensor(t.classes)[torch.cat([t.support_y, t.query_y])]) for t in tasks]
    loss, metric, grads = meta_gradients(learner, batches, batch=True)
    assert loss.shape == (TASKS,) and relative(grads, grads, "pretrain")[1] > 0


def test_other_models_keep_the_loop():
    class Wide(Conv4):
        pass

    model = Wide(in_channels=1, ways=WAYS, filters=3, image_size=SIZE)
    learner = build_learner("maml", {"inner_lr": 0.1}, model=model, init=init_params(model, torch.Generator()),
                            inner_steps=1, generator=torch.Generator())
    assert "Wide" in learner.batch_unsupported()


@pytest.mark.parametrize("smooth", [True, False])
def test_batched_forward_equals_one_network_per_task(smooth):
    model, init, tasks = problem(smooth)
    gen = torch.Generator().manual_seed(9)
    params = {n: p + 0.1 * torch.randn((TASKS, *p.shape), generator=gen, dtype=torch.float64)
              for n, p in init.items()}
    x = torch.stack([t.query_x for t in tasks])
    activations = {}
    out = batched.forward(model, params, x, activations=activations)
    for t in range(TASKS):
        torch.testing.assert_close(out[t], forward(model, batched.unstack(params, t), x[t]), rtol=1e-12, atol=1e-13)
    assert activations["blocks.3"].shape == (TASKS, WAYS * QUERIES, 3, 1, 1)


@pytest.mark.parametrize("size", [23, 42])
def test_batched_embeddings_and_activations_equal_one_network_per_task(size):
    """Odd sides (pooling drops a row) and a final map larger than 1x1, where the flattening
    order of the channels-last activations shows."""
    model = Conv4(in_channels=1, ways=WAYS, filters=3, image_size=size).double()
    gen = torch.Generator().manual_seed(4)
    params = {n: p.unsqueeze(0) + 0.1 * torch.randn((TASKS, *p.shape), generator=gen, dtype=torch.float64)
              for n, p in init_params(model, gen).items()}
    x = torch.rand(TASKS, 4, 1, size, size, generator=gen, dtype=torch.float64)
    activations = {}
    features = batched.forward(model, params, x, embed_only=True, activations=activations)
    for t in range(TASKS):
        own = {}
        hooks = [model.blocks[i].register_forward_hook(lambda m, i_, out, i=i: own.__setitem__(i, out))
                 for i in range(4)]
        try:
            torch.testing.assert_close(features[t], embed(model, batched.unstack(params, t), x[t]), rtol=1e-12,
                                       atol=1e-13)
        finally:
            for hook in hooks:
                hook.remove()
        for i in range(4):
            torch.testing.assert_close(activations[f"blocks.{i}"][t], own[i], rtol=1e-12, atol=1e-13)


def test_batched_mlp_equals_the_loop_for_sine_regression():
    model = MLP(smooth=True).double()
    init = {k: v.double() for k, v in init_mlp(model, torch.Generator().manual_seed(0)).items()}
    gen = torch.Generator().manual_seed(1)
    tasks = [SimpleNamespace(support_x=torch.rand(10, 1, generator=gen, dtype=torch.float64),
                             support_y=torch.rand(10, 1, generator=gen, dtype=torch.float64),
                             query_x=torch.rand(10, 1, generator=gen, dtype=torch.float64),
                             query_y=torch.rand(10, 1, generator=gen, dtype=torch.float64)) for _ in range(TASKS)]
    learner = build_learner("metasgd", {}, model=model, init=init, inner_steps=STEPS,
                            generator=torch.Generator().manual_seed(2))
    learner.regression = True
    learner.extra["lr"] = {k: v.double().detach().requires_grad_() for k, v in learner.extra["lr"].items()}
    loss_b, _, batched_grads = meta_gradients(learner, tasks, batch=True)
    loss_l, _, loop_grads = meta_gradients(learner, tasks, batch=False)
    torch.testing.assert_close(loss_b, loss_l, rtol=1e-12, atol=0)
    for group in ("init", "lr"):
        assert relative(batched_grads, loop_grads, group)[0] < 1e-10


def test_finite_difference_hessian_takes_each_tasks_own_step():
    """Batched maml_fd equals the loop's even where the tasks' directions differ in norm by far."""
    model, init, tasks = problem(True)
    learner = learner_for("maml_fd", model, init)
    tasks[1].query_x = tasks[1].query_x * 40  # a much larger upstream vector for task 1
    _, _, batched_grads = meta_gradients(learner, tasks, batch=True)
    _, _, loop_grads = meta_gradients(learner, tasks, batch=False)
    assert relative(batched_grads, loop_grads, "init")[0] < 1e-10


@pytest.fixture(scope="module")
def trained(tiny_store):
    store = tiny_store
    model = Conv4(in_channels=store.image_shape[0], ways=3, filters=4, image_size=store.image_shape[1]).double()
    init = {k: v.double() for k, v in init_params(model, torch.Generator().manual_seed(0)).items()}
    sampler = TaskSampler(store, "test", 3, 1, 2, seed=0)

    class Double:
        def task(self, i):
            t = sampler.task(i)
            return t.__class__(t.support_x.double(), t.support_y, t.query_x.double(), t.query_y, t.classes)

    return model, init, Double()


@pytest.mark.parametrize("name, options", [
    ("metasgd", {"lr_init_low": 0.5, "lr_init_high": 1.0}), ("anil", {"inner_lr": 1.0}), ("protonet", {}),
    ("lstm_meta", {"hidden_size": 3, "lr_init": 0.5}), ("scratch", {"finetune_steps": 4, "finetune_lr": 1.0})])
def test_meta_test_probe_and_cka_equal_the_loop(trained, name, options):
    model, init, sampler = trained
    learner = build_learner(name, options, model=model, init=init, inner_steps=4,
                            generator=torch.Generator().manual_seed(1))
    for group in learner.extra.values():
        for n, t in group.items():
            group[n] = t.detach().double().requires_grad_(True)
    results = {}
    for batch in (True, False):
        learner.batch_tasks = batch
        results[batch] = (
            evaluate(learner, (sampler.task(i) for i in range(9)), torch.device("cpu")),
            feature_probe(learner, sampler, 9, torch.device("cpu"), progress=False),
            representation_change(learner, sampler, 9, torch.device("cpu"), progress=False),
        )
    learner.batch_tasks = True
    assert learner.batches([sampler.task(0), sampler.task(1)])
    np.testing.assert_array_equal(results[True][0], results[False][0])
    assert results[True][0].std() > 0  # the scores vary: the comparison can fail
    for a, b in zip(results[True][1:], results[False][1:]):
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        numeric = a.select_dtypes("number").columns
        np.testing.assert_allclose(a[numeric].to_numpy(float), b[numeric].to_numpy(float), rtol=1e-9, atol=1e-12)


def test_stack_tasks_keeps_each_tasks_classes():
    _, _, tasks = problem(True)
    batch = stack_tasks(tasks)
    assert batch.support_x.shape == (TASKS, WAYS * SHOTS, 1, SIZE, SIZE)
    assert batch.classes == tuple(t.classes for t in tasks)


def test_large_images_keep_the_loop_on_the_cpu_unless_freed_memory_is_kept(monkeypatch):
    """At 84x84 the batch is slower than the loop on the CPU where every large block is
    mapped afresh, and faster where the process keeps freed memory (as the workflow's jobs do)."""
    from innerloop import devices

    model = Conv4(in_channels=3, ways=WAYS, filters=3, image_size=84)
    learner = build_learner("maml", {"inner_lr": 0.1}, model=model, init=init_params(model, torch.Generator()),
                            inner_steps=1, generator=torch.Generator())
    task = SimpleNamespace(support_x=torch.zeros(WAYS, 3, 84, 84), query_x=torch.zeros(WAYS, 3, 84, 84))
    small = SimpleNamespace(support_x=torch.zeros(WAYS, 3, 32, 32), query_x=torch.zeros(WAYS, 3, 32, 32))
    monkeypatch.setattr(devices, "_keeping_freed_memory", False)
    assert learner.batch_unsupported() is None and not learner.batches([task, task])
    assert learner.batches([small, small])
    monkeypatch.setattr(devices, "_keeping_freed_memory", True)
    assert learner.batches([task, task]) and learner.batches([small, small])
