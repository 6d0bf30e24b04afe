"""Learners with their own outer update: Alpha-MAML (hypergradient SGD) and Reptile (interpolation).

Alpha-MAML's hypergradient of alpha is checked against eq. 7's product for one inner step
and against finite differences of an independent torch.func query loss for two steps;
its optimiser against a hand-computed step (dyadic numbers, so the check is exact);
its checkpoint against an uninterrupted run. Reptile's outer step is checked against the
interpolation computed by an independent torch.func inner loop.
"""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from torch.func import functional_call, grad
from torch.nn import functional as F

from innerloop.algorithms import ALGORITHMS, build_learner
from innerloop.algorithms.alpha_maml import AlphaMAML, HypergradientSGD
from innerloop.algorithms.reptile import Reptile
from innerloop.models import Conv4, init_params
from innerloop.runs import RunSpec
from innerloop.training import Interrupted, load_model, train

WAYS, SHOTS, QUERIES, SIZE = 3, 2, 2, 16


def make_task(seed):
    gen = torch.Generator().manual_seed(seed)
    return SimpleNamespace(
        support_x=torch.rand(WAYS * SHOTS, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        support_y=torch.arange(WAYS).repeat_interleave(SHOTS),
        query_x=torch.rand(WAYS * QUERIES, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        query_y=torch.arange(WAYS).repeat_interleave(QUERIES),
    )


@pytest.fixture
def setup():
    model = Conv4(in_channels=1, ways=WAYS, filters=3, image_size=SIZE, smooth=True).double()
    init = {k: v.double() for k, v in init_params(model, torch.Generator().manual_seed(0)).items()}
    return model, init, make_task(1)


def support_loss(model, task, p):
    return F.cross_entropy(functional_call(model, p, (task.support_x,)), task.support_y)


def query_loss(model, task, p):
    return F.cross_entropy(functional_call(model, p, (task.query_x,)), task.query_y)


def reference_adapt(model, task, theta, lr, steps, second_order=True):
    """``steps`` steps of theta <- theta - lr * grad L_support, written with torch.func."""
    for _ in range(steps):
        g = grad(lambda p: support_loss(model, task, p))(theta)
        if not second_order:
            g = {k: v.detach() for k, v in g.items()}
        theta = {k: theta[k] - lr * g[k] for k in theta}
    return theta


def dot(a, b):
    return sum((a[k] * b[k]).sum() for k in a)


# -- Alpha-MAML ---------------------------------------------------------------------------

def test_registered_with_display_names():
    from innerloop.algorithms import DISPLAY_NAMES

    assert ALGORITHMS["alpha_maml"] is AlphaMAML and ALGORITHMS["reptile"] is Reptile
    assert {"alpha_maml", "reptile"} <= set(DISPLAY_NAMES)


def test_alpha_hypergradient_is_eq7_product_for_one_step(setup):
    model, init, task = setup
    alpha0, hyper = 0.4, 0.125
    learner = AlphaMAML(model, init, inner_steps=1, inner_lr=alpha0, alpha_hyperlr=hyper)
    loss, _ = learner.outer_loss(task)
    (d_alpha,) = torch.autograd.grad(loss, [learner.alpha])

    theta = {k: v.detach() for k, v in init.items()}
    g_train = grad(lambda p: support_loss(model, task, p))(theta)
    adapted = {k: theta[k] - alpha0 * g_train[k] for k in theta}
    g_test = grad(lambda p: query_loss(model, task, p))(adapted)
    product = dot(g_test, g_train)  # eq. 7: alpha_{i+1} = alpha_i + hyperlr * grad L_test . grad L_train
    assert product.abs() > 1e-4, "degenerate case: the hypergradient is ~0"
    torch.testing.assert_close(d_alpha, -product, rtol=1e-10, atol=1e-14)

    # ... and the optimiser applies it: alpha <- alpha + alpha_hyperlr * product.
    optimiser = learner.make_optimiser(0.01)
    optimiser.zero_grad()
    learner.accumulate(task, 1.0)
    optimiser.step()
    torch.testing.assert_close(learner.alpha.detach(), torch.tensor(alpha0, dtype=torch.float64) + hyper * product,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("first_order", [False, True])
def test_alpha_hypergradient_matches_finite_difference_for_two_steps(setup, first_order):
    model, init, task = setup
    alpha0, steps = 0.4, 2
    learner = AlphaMAML(model, init, inner_steps=steps, inner_lr=alpha0, first_order=first_order)
    loss, _ = learner.outer_loss(task)
    params = learner.meta_parameters()
    grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))

    theta = {k: v.detach() for k, v in init.items()}

    def meta_loss(t, a):
        return query_loss(model, task, reference_adapt(model, task, t, a, steps, second_order=not first_order))

    a = torch.tensor(alpha0, dtype=torch.float64)
    ref_theta, ref_alpha = grad(meta_loss, argnums=(0, 1))(theta, a)
    torch.testing.assert_close(grads["lr/alpha"], ref_alpha, rtol=1e-8, atol=1e-12)
    for k in theta:
        torch.testing.assert_close(grads[f"init/{k}"], ref_theta[k], rtol=1e-8, atol=1e-10)
    if not first_order:  # the exact hypergradient: a central difference of the query loss in alpha
        eps = 1e-6
        fd = (meta_loss(theta, a + eps) - meta_loss(theta, a - eps)).item() / (2 * eps)
        assert grads["lr/alpha"].item() == pytest.approx(fd, rel=1e-6, abs=1e-10)
        # with two steps the hypergradient is not eq. 3's one-step product
        g_train = grad(lambda p: support_loss(model, task, p))(theta)
        one_step = -dot(grad(lambda p: query_loss(model, task, p))(reference_adapt(model, task, theta, a, steps)),
                        g_train)
        assert abs(grads["lr/alpha"].item() - one_step.item()) > 1e-6


def test_hypergradient_sgd_step_by_hand():
    """Dyadic numbers: every product and sum below is exact in float64."""
    theta = {"w": torch.tensor([1.0, -2.0], dtype=torch.float64), "b": torch.tensor([0.5], dtype=torch.float64)}
    model = SimpleNamespace()
    learner = AlphaMAML(model, theta, inner_steps=1, inner_lr=0.25, outer_lr=0.5, alpha_hyperlr=0.0625,
                        beta_hyperlr=0.125)
    optimiser = learner.make_optimiser(outer_lr=99.0)  # the option beta_0 = 0.5 takes precedence
    w, b, alpha = learner.init["w"], learner.init["b"], learner.alpha
    assert learner.log_values() == {"alpha": 0.25, "beta": 0.5}

    g1 = {"w": torch.tensor([0.5, 1.0], dtype=torch.float64), "b": torch.tensor([-2.0], dtype=torch.float64)}
    w.grad, b.grad, alpha.grad = g1["w"].clone(), g1["b"].clone(), torch.tensor(4.0, dtype=torch.float64)
    optimiser.step()
    # first step: no previous gradient, beta_1 = beta_0 = 0.5
    assert torch.equal(w.detach(), torch.tensor([1.0 - 0.25, -2.0 - 0.5], dtype=torch.float64))
    assert torch.equal(b.detach(), torch.tensor([0.5 + 1.0], dtype=torch.float64))
    assert alpha.item() == 0.25 - 0.0625 * 4.0
    assert learner.log_values() == {"alpha": 0.0, "beta": 0.5}

    g2 = {"w": torch.tensor([2.0, -1.0], dtype=torch.float64), "b": torch.tensor([-1.0], dtype=torch.float64)}
    w.grad, b.grad, alpha.grad = g2["w"].clone(), g2["b"].clone(), torch.tensor(-2.0, dtype=torch.float64)
    before = {k: v.detach().clone() for k, v in learner.init.items()}
    optimiser.step()
    g_dot = 2.0 * 0.5 + (-1.0) * 1.0 + (-1.0) * (-2.0)  # g_2 . g_1 = 2
    beta2 = 0.5 + 0.125 * g_dot  # 0.75
    assert optimiser.param_groups[0]["lr"] == beta2 == learner.log_values()["beta"]
    for k in before:
        assert torch.equal(learner.init[k].detach(), before[k] - beta2 * g2[k]), k
    assert alpha.item() == 0.0 + 0.0625 * 2.0

    # the state a checkpoint needs: beta and the previous gradient
    state = optimiser.state_dict()
    assert state["param_groups"][0]["lr"] == beta2
    saved = [s["previous_grad"] for s in state["state"].values() if "previous_grad" in s]
    assert len(saved) == 2 and {tuple(t.tolist()) for t in saved} == {(2.0, -1.0), (-1.0,)}


def test_hypergradient_sgd_resumes_from_state_dict():
    def fresh():
        p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        return p, HypergradientSGD([p], lr=0.5, hyperlr=0.25)

    grads = [torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor([0.5, 0.5], dtype=torch.float64),
             torch.tensor([-1.0, 2.0], dtype=torch.float64)]
    p, opt = fresh()
    for g in grads:
        p.grad = g.clone()
        opt.step()
    q, opt_q = fresh()
    q.grad = grads[0].clone()
    opt_q.step()
    state = opt_q.state_dict()
    r, opt_r = fresh()
    with torch.no_grad():
        r.copy_(q)
    opt_r.load_state_dict(state)
    for g in grads[1:]:
        r.grad = g.clone()
        opt_r.step()
    assert torch.equal(p, r) and opt.param_groups[0]["lr"] == opt_r.param_groups[0]["lr"] != 0.5


def test_alpha_maml_learning_rates_and_options(setup):
    model, init, _ = setup
    learner = build_learner("alpha_maml", {"inner_lr": -0.3}, model=model, init=init, inner_steps=1,
                            generator=torch.Generator())
    rates = learner.learning_rates()
    assert set(rates) == set(init)
    for k in init:
        assert rates[k].shape == init[k].shape and torch.all(rates[k] == -0.3)
    assert set(learner.meta_parameters()) == {f"init/{k}" for k in init} | {"lr/alpha"}
    assert learner.alpha.dtype == torch.float64 and learner.alpha.ndim == 0
    assert not isinstance(learner.make_optimiser(0.01), torch.optim.Adam)
    assert learner.log_values()["beta"] == 0.01
    for bad in ({"alpha_hyperlr": -1.0}, {"beta_hyperlr": -1e-3}, {"outer_lr": 0.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AlphaMAML(model, init, inner_steps=1, **bad)


def resume_spec(algorithm, options):
    return RunSpec(dataset="tiny", algorithm=algorithm, seed=3, ways=3, shots=1, queries=2, filters=4,
                   iterations=6, meta_batch=2, inner_steps=2, outer_lr=0.05, val_every=2, val_tasks=3,
                   val_seed=9, checkpoint_every=100, options=options)


def run(tmp_path, s, store, stop_after=None):
    paths = dict(model_path=tmp_path / "model.pt", log_path=tmp_path / "train_log.csv",
                 validation_path=tmp_path / "validation.csv", checkpoint_path=tmp_path / "ckpt" / "checkpoint.pt")
    train(s, store, device=torch.device("cpu"), progress=False, stop_after=stop_after, **paths)
    return paths


@pytest.mark.parametrize("algorithm, options", [
    ("alpha_maml", {"inner_lr": 0.1, "alpha_hyperlr": 0.01, "beta_hyperlr": 0.01}),
    ("reptile", {"inner_lr": 0.1, "outer_stepsize": 0.5}),
])
def test_resume_equals_uninterrupted(tmp_path, tiny_store, algorithm, options):
    s = resume_spec(algorithm, options)
    whole = run(tmp_path / "whole", s, tiny_store)
    with pytest.raises(Interrupted):
        run(tmp_path / "split", s, tiny_store, stop_after=3)
    resumed = run(tmp_path / "split", s, tiny_store)

    a, _, _ = load_model(whole["model_path"])
    b, _, status = load_model(resumed["model_path"])
    assert status["resumed_from"] == 3
    for key, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[key]), key
    for name in ("log_path", "validation_path"):
        pd.testing.assert_frame_equal(pd.read_csv(whole[name]), pd.read_csv(resumed[name]), check_exact=True)
    log = pd.read_csv(whole["log_path"])
    if algorithm == "alpha_maml":
        # both rates move every iteration after the first (beta needs a previous gradient),
        # so a resume that lost the previous gradient or beta would change the log
        assert log["alpha"].diff().iloc[1:].ne(0).all()
        assert log["beta"].iloc[0] == 0.05 and log["beta"].diff().iloc[1:].ne(0).all()


# -- Reptile ------------------------------------------------------------------------------

def test_reptile_outer_step_is_the_interpolation(setup):
    """theta <- theta + epsilon * mean_i (theta~_i - theta), theta~_i adapted on support + query;
    the log reports the query loss after a support-only adaptation (as meta-test does)."""
    model, init, _ = setup
    tasks = [make_task(5), make_task(6), make_task(7)]
    inner_lr, epsilon, steps = 0.3, 0.25, 3
    learner = Reptile(model, init, inner_steps=steps, inner_lr=inner_lr, outer_stepsize=epsilon)
    learner.eval_steps = 1  # meta-training must use inner_steps whatever the evaluation steps
    optimiser = learner.make_optimiser(outer_lr=123.0)  # ignored: epsilon is the outer step
    optimiser.zero_grad(set_to_none=True)
    logged = [learner.accumulate(t, 1 / len(tasks)) for t in tasks]
    optimiser.step()

    theta = {k: v.detach() for k, v in init.items()}
    whole = [SimpleNamespace(support_x=torch.cat([t.support_x, t.query_x]),
                             support_y=torch.cat([t.support_y, t.query_y])) for t in tasks]
    adapted = [reference_adapt(model, w, theta, inner_lr, steps, second_order=False) for w in whole]
    expected = {k: theta[k] + epsilon * sum(a[k] - theta[k] for a in adapted) / len(tasks) for k in theta}
    moved = 0.0
    for k in theta:
        torch.testing.assert_close(learner.init[k].detach(), expected[k], rtol=1e-12, atol=1e-14)
        moved += (expected[k] - theta[k]).norm().item()
    assert moved > 1e-3

    for (loss, accuracy), t, w in zip(logged, tasks, whole):
        on_support = reference_adapt(model, t, theta, inner_lr, steps, second_order=False)
        torch.testing.assert_close(loss, query_loss(model, t, on_support).detach(), rtol=1e-12, atol=1e-14)
        out = functional_call(model, on_support, (t.query_x,))
        assert accuracy.item() == (out.argmax(1) == t.query_y).float().mean().item()
        assert not loss.requires_grad
        # the logged loss is not the training fit of the support+query adaptation
        fit = query_loss(model, t, reference_adapt(model, w, theta, inner_lr, steps)).item()
        assert abs(loss.item() - fit) > 1e-6


def test_reptile_options():
    for bad in ({"inner_lr": 0.0}, {"outer_stepsize": -0.1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Reptile(SimpleNamespace(), {"w": torch.zeros(1)}, inner_steps=1, **bad)
