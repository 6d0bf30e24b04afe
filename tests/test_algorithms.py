"""Meta-gradients of the engine's learners against an independent float64 reference.

The reference re-implements the inner loop with ``torch.func.grad`` (a different code
path from the engine's ``torch.autograd.grad(create_graph=...)``) on the smooth Conv4
(softplus, average pooling), and both are checked against central finite differences of
the meta-loss along random directions.
"""

from types import SimpleNamespace

import pytest
from reference import smooth_problem
import torch
from torch.func import functional_call, grad
from torch.nn import functional as F

from innerloop.algorithms.anil import ANIL, BOIL
from innerloop.algorithms.maml import FOMAML, MAML, FiniteDifferenceMAML, NegativeMAML
from innerloop.algorithms.metasgd import MetaSGD
from innerloop.algorithms.multitask import Multitask
from innerloop.models import Conv4, init_params

WAYS, SHOTS, QUERIES, SIZE, STEPS = 3, 2, 2, 16, 2


@pytest.fixture
def setup():
    torch.manual_seed(0)
    return smooth_problem()


def reference_meta_loss(model, task, theta, lrs, second_order=True):
    """Query loss after STEPS steps of theta <- theta - lr * grad, written with torch.func."""

    def support_loss(p):
        return F.cross_entropy(functional_call(model, p, (task.support_x,)), task.support_y)

    for _ in range(STEPS):
        g = grad(support_loss)(theta)
        if not second_order:
            g = {k: v.detach() for k, v in g.items()}
        theta = {k: theta[k] - lrs[k] * g[k] for k in theta}
    return F.cross_entropy(functional_call(model, theta, (task.query_x,)), task.query_y)


def engine_meta_gradient(learner, task):
    loss, _ = learner.outer_loss(task)
    params = learner.meta_parameters()
    grads = torch.autograd.grad(loss, list(params.values()))
    return loss.detach(), dict(zip(params, grads))


def finite_difference(f, params, direction, eps=1e-6):
    plus = {k: params[k] + eps * direction[k] for k in params}
    minus = {k: params[k] - eps * direction[k] for k in params}
    return (f(plus) - f(minus)).item() / (2 * eps)


def test_maml_second_order_matches_reference(setup):
    model, init, task = setup
    lr = 0.5  # large enough that the Hessian term is far from negligible
    learner = MAML(model, init, inner_steps=STEPS, inner_lr=lr)
    loss, g = engine_meta_gradient(learner, task)

    theta = {k: v.detach() for k, v in init.items()}
    lrs = {k: torch.tensor(lr, dtype=torch.float64) for k in theta}
    ref_loss = reference_meta_loss(model, task, theta, lrs)
    ref = grad(lambda t: reference_meta_loss(model, task, t, lrs))(theta)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-12)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref[k], rtol=1e-8, atol=1e-10)

    gen = torch.Generator().manual_seed(2)
    for _ in range(3):
        v = {k: torch.randn(t.shape, generator=gen, dtype=torch.float64) for k, t in theta.items()}
        fd = finite_difference(lambda t: reference_meta_loss(model, task, t, lrs), theta, v)
        analytic = sum((g[f"init/{k}"] * v[k]).sum() for k in theta).item()
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_metasgd_matches_reference_and_rates_get_gradients(setup):
    model, init, task = setup
    learner = MetaSGD(model, init, inner_steps=STEPS, generator=torch.Generator().manual_seed(3),
                      lr_init_low=-0.3, lr_init_high=0.6)
    learner.extra["lr"] = {k: v.double().detach().requires_grad_() for k, v in learner.lr.items()}
    loss, g = engine_meta_gradient(learner, task)

    theta = {k: v.detach() for k, v in init.items()}
    lrs = {k: v.detach() for k, v in learner.lr.items()}
    ref_theta, ref_lr = grad(lambda t, a: reference_meta_loss(model, task, t, a), argnums=(0, 1))(theta, lrs)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref_theta[k], rtol=1e-8, atol=1e-10)
        torch.testing.assert_close(g[f"lr/{k}"], ref_lr[k], rtol=1e-8, atol=1e-10)
        assert g[f"lr/{k}"].abs().sum() > 0, f"learning rates of {k} receive no gradient"

    gen = torch.Generator().manual_seed(4)
    v = {k: torch.randn(t.shape, generator=gen, dtype=torch.float64) for k, t in lrs.items()}
    fd = finite_difference(lambda a: reference_meta_loss(model, task, theta, a), lrs, v)
    analytic = sum((g[f"lr/{k}"] * v[k]).sum() for k in lrs).item()
    assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_first_order_drops_the_hessian_term(setup):
    model, init, task = setup
    second = MAML(model, init, inner_steps=STEPS, inner_lr=0.5)
    first = MAML(model, init, inner_steps=STEPS, inner_lr=0.5, first_order=True)
    _, g2 = engine_meta_gradient(second, task)
    _, g1 = engine_meta_gradient(first, task)

    theta = {k: v.detach() for k, v in init.items()}
    lrs = {k: torch.tensor(0.5, dtype=torch.float64) for k in theta}
    ref_fo = grad(lambda t: reference_meta_loss(model, task, t, lrs, second_order=False))(theta)
    for k in theta:
        torch.testing.assert_close(g1[f"init/{k}"], ref_fo[k], rtol=1e-8, atol=1e-10)
    difference = sum((g2[k] - g1[k]).norm() for k in g1) / sum(g2[k].norm() for k in g2)
    assert difference > 1e-3, "first- and second-order meta-gradients coincide"


def test_evaluation_adaptation_is_detached_and_leaves_meta_parameters(setup):
    model, init, task = setup
    learner = MAML(model, init, inner_steps=STEPS, inner_lr=0.5)
    before = learner.state_dict()
    adapted = learner.adapt(task.support_x, task.support_y, meta_gradient=False)
    assert all(not p.requires_grad for p in adapted.values())
    assert any(not torch.equal(adapted[k], init[k]) for k in init)
    for k, v in learner.state_dict().items():
        assert torch.equal(v, before[k])


def test_finite_difference_hessian_matches_exact_second_order(setup):
    model, init, task = setup
    exact = MAML(model, init, inner_steps=STEPS, inner_lr=0.5)
    fd = FiniteDifferenceMAML(model, init, inner_steps=STEPS, inner_lr=0.5, epsilon=1e-5)
    first = FOMAML(model, init, inner_steps=STEPS, inner_lr=0.5)
    loss_exact, g_exact = engine_meta_gradient(exact, task)
    loss_fd, g_fd = engine_meta_gradient(fd, task)
    _, g_first = engine_meta_gradient(first, task)
    torch.testing.assert_close(loss_fd, loss_exact, rtol=1e-12, atol=1e-12)
    for k in g_exact:
        torch.testing.assert_close(g_fd[k], g_exact[k], rtol=1e-5, atol=1e-8)
    # ... and the Hessian term it approximates is not negligible here.
    gap = sum((g_exact[k] - g_first[k]).norm() for k in g_exact) / sum(g_exact[k].norm() for k in g_exact)
    assert gap > 1e-3


@pytest.mark.parametrize("cls, adapted", [(ANIL, "head"), (BOIL, "body")])
def test_partial_adaptation_matches_reference(setup, cls, adapted):
    model, init, task = setup
    lr = 0.5
    learner = cls(model, init, inner_steps=STEPS, inner_lr=lr)
    loss, g = engine_meta_gradient(learner, task)

    theta = {k: v.detach() for k, v in init.items()}
    moves = {k: (k.startswith("head.") == (adapted == "head")) for k in theta}
    assert any(moves.values()) and not all(moves.values())
    lrs = {k: torch.tensor(lr if moves[k] else 0.0, dtype=torch.float64) for k in theta}
    torch.testing.assert_close(loss, reference_meta_loss(model, task, theta, lrs), rtol=1e-12, atol=1e-12)
    ref = grad(lambda t: reference_meta_loss(model, task, t, lrs))(theta)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref[k], rtol=1e-8, atol=1e-10)
    adapted_params = learner.adapt(task.support_x, task.support_y, meta_gradient=False)
    for k in theta:
        assert torch.equal(adapted_params[k], theta[k]) != moves[k], f"{k} moved: {not moves[k]}"


def test_negative_maml_ascends_in_training_and_descends_at_evaluation(setup):
    model, init, task = setup
    learner = NegativeMAML(model, init, inner_steps=STEPS, inner_lr=-0.5, eval_inner_lr=0.5)
    theta = {k: v.detach() for k, v in init.items()}
    loss, g = engine_meta_gradient(learner, task)
    minus = {k: torch.tensor(-0.5, dtype=torch.float64) for k in theta}
    ref = grad(lambda t: reference_meta_loss(model, task, t, minus))(theta)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref[k], rtol=1e-8, atol=1e-10)
    support = learner.support_loss(task.support_x, task.support_y)
    trained = learner.adapt(task.support_x, task.support_y)
    evaluated = learner.adapt(task.support_x, task.support_y, meta_gradient=False)
    assert support(trained) > support(theta) > support(evaluated)
    with pytest.raises(ValueError, match="inner_lr must be negative"):
        NegativeMAML(model, init, inner_steps=STEPS, inner_lr=0.1)


def test_multitask_trains_without_adapting_and_fine_tunes_at_evaluation(setup):
    model, init, task = setup
    learner = Multitask(model, init, inner_steps=STEPS, inner_lr=0.5)
    loss, g = engine_meta_gradient(learner, task)
    theta = {k: v.detach() for k, v in init.items()}
    ref_loss = F.cross_entropy(functional_call(model, theta, (task.query_x,)), task.query_y)
    ref = grad(lambda t: F.cross_entropy(functional_call(model, t, (task.query_x,)), task.query_y))(theta)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-12)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref[k], rtol=1e-8, atol=1e-10)
    evaluated = learner.adapt(task.support_x, task.support_y, meta_gradient=False)
    lrs = {k: 0.5 for k in theta}
    expected = dict(theta)
    for _ in range(STEPS):
        step_grad = grad(lambda t: F.cross_entropy(functional_call(model, t, (task.support_x,)), task.support_y))(expected)
        expected = {k: expected[k] - lrs[k] * step_grad[k] for k in theta}
    for k in theta:
        torch.testing.assert_close(evaluated[k], expected[k], rtol=1e-10, atol=1e-12)


def test_positive_metasgd_rates_stay_positive_and_match_reference(setup):
    model, init, task = setup
    learner = MetaSGD(model, init, inner_steps=STEPS, generator=torch.Generator().manual_seed(3),
                      lr_init_low=0.01, lr_init_high=0.6, positive=True)
    learner.extra["lr"] = {k: v.double().detach().requires_grad_() for k, v in learner.extra["lr"].items()}
    rates = learner.learning_rates()
    assert all((r > 0).all() for r in rates.values())
    loss, g = engine_meta_gradient(learner, task)
    theta = {k: v.detach() for k, v in init.items()}
    rho = {k: v.detach() for k, v in learner.extra["lr"].items()}
    ref_theta, ref_rho = grad(lambda t, r: reference_meta_loss(model, task, t, {k: F.softplus(v) for k, v in r.items()}),
                              argnums=(0, 1))(theta, rho)
    for k in theta:
        torch.testing.assert_close(g[f"init/{k}"], ref_theta[k], rtol=1e-8, atol=1e-10)
        torch.testing.assert_close(g[f"lr/{k}"], ref_rho[k], rtol=1e-8, atol=1e-10)
    with torch.no_grad():  # a large negative push on rho leaves the rate positive
        for r in learner.extra["lr"].values():
            r.sub_(50.0)
    assert all((r > 0).all() for r in learner.learning_rates().values())


def test_finite_difference_hessian_breaks_down_across_relu_and_max_pool_kinks():
    """Why maml_fd is only trustworthy on smooth networks: on the ReLU/max-pool Conv4 a
    perturbation along v switches activation patterns, and the difference quotient of the
    gradient is dominated by those jumps (the exact Hessian-vector product is not)."""
    gen = torch.Generator().manual_seed(0)
    model = Conv4(in_channels=1, ways=WAYS, filters=4, image_size=SIZE).double()
    init = {k: v.double() for k, v in init_params(model, gen).items()}
    task = SimpleNamespace(
        support_x=torch.rand(WAYS * SHOTS, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        support_y=torch.arange(WAYS).repeat_interleave(SHOTS),
        query_x=torch.rand(WAYS * QUERIES, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        query_y=torch.arange(WAYS).repeat_interleave(QUERIES),
    )
    _, exact = engine_meta_gradient(MAML(model, init, inner_steps=STEPS, inner_lr=0.5), task)
    _, fd = engine_meta_gradient(FiniteDifferenceMAML(model, init, inner_steps=STEPS, inner_lr=0.5, epsilon=1e-3), task)
    error = sum((fd[k] - exact[k]).norm() ** 2 for k in exact) ** 0.5 / sum(v.norm() ** 2 for v in exact.values()) ** 0.5
    print(f"relative error of the finite-difference meta-gradient on the ReLU Conv4: {error:.3g}")
    assert error > 0.05
