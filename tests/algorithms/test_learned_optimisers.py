"""The learned optimisers: the meta-learner LSTM (plain and enhanced) and TURTLE (and FO-TURTLE).

Meta-gradients with respect to theta and to the update network's parameters are checked
against independent float64 references on the smooth Conv4: the LSTM cell in its
textbook form with zero initial states, the log/sign preprocessing without a clamp, the
MLP in plain tensor code (the learner calls an ``nn.Sequential`` through
``functional_call``), and the inner gradients with ``torch.func.grad``. The learners pack
all coordinates into one vector for the engine; their per-tensor step rule is checked to
give the same adaptation and meta-gradient. First-order variants are checked
against the reference with the inner gradients (and the loss input) detached. Then the
two "subsumes MAML" facts: the LSTM with forget gate 1 and input gate alpha, and TURTLE
with update -grad and alpha = lr, adapt exactly as MAML does.
"""

import math
from types import SimpleNamespace

import pytest
from reference import smooth_problem
import torch
from torch import nn
from torch.func import functional_call, grad
from torch.nn import functional as F

from innerloop.algorithms import MAML, build_learner, engine
from innerloop.algorithms.lstm_meta import LSTMMetaLearner, LSTMMetaLearnerPlus
from innerloop.algorithms.turtle import FOTurtle, Turtle

WAYS, SHOTS, QUERIES, SIZE, STEPS = 3, 2, 2, 16, 2
P = 10.0  # Andrychowicz et al.'s preprocessing constant


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread for every test here: these learners run many small tensor ops, and
    on the shared 2-core machine two OpenMP threads per process made them up to 15x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def setup():
    torch.manual_seed(0)
    return smooth_problem()


def meta_gradient(learner, task):
    loss, _ = learner.outer_loss(task)
    params = learner.meta_parameters()
    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    return loss.detach(), {k: torch.zeros_like(p) if g is None else g for (k, p), g in zip(params.items(), grads)}


def detached(tensors):
    return {k: v.detach().clone() for k, v in tensors.items()}


def flat(tensors, names):
    return torch.cat([tensors[k].reshape(-1) for k in names])


def unflat(vector, like):
    out, start = {}, 0
    for k, t in like.items():
        out[k] = vector[start:start + t.numel()].reshape(t.shape)
        start += t.numel()
    return out


def inner_gradient(model, task, theta, second_order):
    """Support loss and its gradient at ``theta`` (both constants when first order)."""

    def support_loss(p):
        return F.cross_entropy(functional_call(model, p, (task.support_x,)), task.support_y)

    loss, g = support_loss(theta), grad(support_loss)(theta)
    if not second_order:
        loss, g = loss.detach(), {k: v.detach() for k, v in g.items()}
    return loss, g


def query_loss(model, task, theta):
    return F.cross_entropy(functional_call(model, theta, (task.query_x,)), task.query_y)


def assert_rel_different(a, b, threshold=1e-3):
    difference = sum((a[k] - b[k]).norm() for k in a) / sum(a[k].norm() for k in a)
    assert difference > threshold, "first- and second-order meta-gradients coincide"


def directional_fd(f, params, direction, eps=1e-6):
    plus = {k: params[k] + eps * direction[k] for k in params}
    minus = {k: params[k] - eps * direction[k] for k in params}
    return (f(plus) - f(minus)).item() / (2 * eps)


# -- the meta-learner LSTM ----------------------------------------------------------------

def reference_preprocess(x):
    """(log|x|/p, sign x) for |x| >= e^-p, else (-1, e^p x); written without clamp."""
    keep = x.abs() >= math.exp(-P)
    safe = torch.where(keep, x.abs(), torch.ones_like(x))
    return torch.where(keep, torch.log(safe) / P, -1.0), torch.where(keep, torch.sign(x), x * math.exp(P))


def reference_lstm_meta_loss(model, task, theta, lstm, meta, *, preprocess, second_order, steps=STEPS):
    """Query loss after ``steps`` meta-learner-LSTM updates of all coordinates at once."""
    names = list(theta)
    hidden = meta["W_i"].numel() - 2
    n = sum(t.numel() for t in theta.values())
    h = c = torch.zeros(n, hidden, dtype=torch.float64)
    i_gate = f_gate = torch.zeros(n, dtype=torch.float64)
    for _ in range(steps):
        loss, g = inner_gradient(model, task, theta, second_order)
        gv, tv, lv = flat(g, names), flat(theta, names), loss.expand(n)
        if preprocess:
            g1, g2 = reference_preprocess(gv)
            l1, l2 = reference_preprocess(lv)
            x = torch.stack([g1, g2, l1, l2], dim=1)
        else:
            x = torch.stack([gv, lv], dim=1)
        gates = x @ lstm["weight_ih"].T + lstm["bias_ih"] + h @ lstm["weight_hh"].T + lstm["bias_hh"]
        gi, gf, gg, go = gates.split(hidden, dim=1)  # PyTorch's gate order: input, forget, cell, output
        c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
        h = torch.sigmoid(go) * torch.tanh(c)
        w_i, w_f = meta["W_i"], meta["W_f"]
        i_gate = torch.sigmoid(h @ w_i[:hidden] + w_i[hidden] * tv + w_i[hidden + 1] * i_gate + meta["b_i"])
        f_gate = torch.sigmoid(h @ w_f[:hidden] + w_f[hidden] * tv + w_f[hidden + 1] * f_gate + meta["b_f"])
        theta = unflat(f_gate * tv - i_gate * gv, theta)
    return query_loss(model, task, theta)


def lstm_learner(model, init, *, preprocess, first_order, seed=3):
    """A learner whose gates depend visibly on every input (larger weights than the default init)."""
    learner = LSTMMetaLearner(model, init, inner_steps=STEPS, generator=torch.Generator().manual_seed(seed),
                              hidden_size=5, preprocess=preprocess, first_order=first_order, lr_init=0.3)
    gen = torch.Generator().manual_seed(seed + 1)
    meta = {k: (v + 0.5 * torch.randn(v.shape, generator=gen, dtype=torch.float64)).detach().requires_grad_()
            for k, v in learner.extra["meta"].items()}
    meta["b_f"] = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)  # f ~ 0.88: the decay matters
    learner.extra["meta"] = meta
    return learner


@pytest.mark.parametrize("preprocess, first_order", [(True, True), (False, False), (True, False), (False, True)])
def test_lstm_meta_gradient_matches_reference(setup, preprocess, first_order):
    model, init, task = setup
    learner = lstm_learner(model, init, preprocess=preprocess, first_order=first_order)
    loss, g = meta_gradient(learner, task)

    theta, lstm, meta = (detached(t) for t in (learner.init, learner.extra["lstm"], learner.extra["meta"]))
    def f(t, a, m):
        return reference_lstm_meta_loss(model, task, t, a, m, preprocess=preprocess, second_order=not first_order)
    torch.testing.assert_close(loss, f(theta, lstm, meta), rtol=1e-12, atol=1e-12)
    ref = grad(f, argnums=(0, 1, 2))(theta, lstm, meta)
    for group, reference in zip(("init", "lstm", "meta"), ref):
        for k, r in reference.items():
            torch.testing.assert_close(g[f"{group}/{k}"], r, rtol=1e-8, atol=1e-10, msg=f"{group}/{k}")
            assert g[f"{group}/{k}"].abs().sum() > 0, f"{group}/{k} receives no meta-gradient"

    if not first_order:  # the reference itself against finite differences, along the LSTM's weights
        v = {k: torch.randn(t.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
             for k, t in lstm.items()}
        fd = directional_fd(lambda a: f(theta, a, meta), lstm, v)
        analytic = sum((g[f"lstm/{k}"] * v[k]).sum() for k in lstm).item()
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_lstm_first_order_differs_from_second_order(setup):
    model, init, task = setup
    _, first = meta_gradient(lstm_learner(model, init, preprocess=False, first_order=True), task)
    _, second = meta_gradient(lstm_learner(model, init, preprocess=False, first_order=False), task)
    assert_rel_different(second, first)


@pytest.mark.parametrize("cls", [LSTMMetaLearner, LSTMMetaLearnerPlus])
def test_lstm_with_open_forget_gate_and_constant_input_gate_is_maml(setup, cls):
    """Thesis Theorem 1: W = 0, f -> 1 and i = alpha reproduce MAML's adapted weights."""
    model, init, task = setup
    alpha = 0.4
    learner = cls(model, init, inner_steps=3, generator=torch.Generator().manual_seed(0), lr_init=alpha)
    with torch.no_grad():
        learner.extra["meta"]["W_i"].zero_()
        learner.extra["meta"]["W_f"].zero_()
        learner.extra["meta"]["b_f"].fill_(50.0)  # sigmoid(50) == 1.0 in float64
    maml = MAML(model, init, inner_steps=3, inner_lr=alpha, first_order=not learner.second_order)
    for meta_gradient_on in (True, False):
        ours = learner.adapt(task.support_x, task.support_y, meta_gradient=meta_gradient_on)
        theirs = maml.adapt(task.support_x, task.support_y, meta_gradient=meta_gradient_on)
        for k in init:
            torch.testing.assert_close(ours[k], theirs[k], rtol=1e-12, atol=1e-14)
        assert any((ours[k] - init[k]).abs().max() > 1e-3 for k in init), "adaptation moved nothing"
    # ... and the meta-gradient of the initialisation is MAML's (second order for the enhanced one)
    _, g = meta_gradient(learner, task)
    _, g_maml = meta_gradient(maml, task)
    for k in init:
        torch.testing.assert_close(g[f"init/{k}"], g_maml[f"init/{k}"], rtol=1e-9, atol=1e-12)


def test_lstm_initialisation_and_options(setup):
    model, init, _ = setup
    gen = torch.Generator().manual_seed(0)
    plain = build_learner("lstm_meta", {}, model=model, init=init, inner_steps=3, generator=gen)
    plus = build_learner("lstm_meta_plus", {}, model=model, init=init, inner_steps=3, generator=gen)
    assert (plain.inner_steps, plain.eval_steps, plain.second_order, plain.preprocess) == (3, 3, False, True)
    assert (plus.inner_steps, plus.eval_steps, plus.second_order, plus.preprocess) == (8, 8, True, False)
    assert build_learner("lstm_meta", {"inner_steps": 5}, model=model, init=init, inner_steps=3,
                         generator=gen).inner_steps == 5
    assert build_learner("lstm_meta_plus", {"inner_steps": None}, model=model, init=init, inner_steps=3,
                         generator=gen).inner_steps == 3
    meta = plain.extra["meta"]
    assert torch.sigmoid(meta["b_i"]).item() == pytest.approx(0.01, rel=1e-9)
    assert torch.sigmoid(meta["b_f"]).item() > 0.98
    assert meta["W_i"].abs().max() <= 0.01 and meta["W_f"].abs().max() <= 0.01
    assert plain.extra["lstm"]["weight_ih"].shape == (80, 4) and plus.extra["lstm"]["weight_ih"].shape == (80, 2)
    assert all(t.dtype == torch.float64 and t.is_leaf and t.requires_grad
               for t in plain.meta_parameters().values())
    # seeded by the generator, not by the global RNG
    again = build_learner("lstm_meta", {}, model=model, init=init, inner_steps=3, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(123)
    for k, v in again.meta_parameters().items():
        assert torch.equal(v, build_learner("lstm_meta", {}, model=model, init=init, inner_steps=3,
                                            generator=torch.Generator().manual_seed(0)).meta_parameters()[k])
    for bad, option in [({"lr_init": 1.0}, "lr_init"), ({"hidden_size": 0}, "hidden_size"),
                        ({"inner_steps": 0}, "inner_steps")]:
        with pytest.raises(ValueError, match=option):
            build_learner("lstm_meta", bad, model=model, init=init, inner_steps=3, generator=gen)


def test_lstm_state_is_fresh_per_adaptation_and_works_on_an_mlp():
    """Two adaptations of the same task agree (no state leaks), and any model works (sine MLP)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))
    init = {k: v.detach().clone() for k, v in model.named_parameters()}
    x, y = torch.linspace(-5, 5, 10)[:, None], torch.sin(torch.linspace(-5, 5, 10))[:, None]
    task = SimpleNamespace(support_x=x, support_y=y, query_x=x + 0.1, query_y=torch.sin(x + 0.1))
    for name in ("lstm_meta", "lstm_meta_plus", "turtle", "fo_turtle"):
        learner = build_learner(name, {}, model=model, init=init, inner_steps=2, generator=torch.Generator().manual_seed(0))
        learner.regression = True
        first = learner.adapt(x, y, meta_gradient=False)
        second = learner.adapt(x, y, meta_gradient=False)
        assert all(torch.equal(first[k], second[k]) for k in init)
        assert any(not torch.equal(first[k], init[k]) for k in init)
        learner.accumulate(task, 1.0)
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in learner.meta_parameters().values())


# -- TURTLE -------------------------------------------------------------------------------

def reference_mlp(net, x):
    """g_phi written out: ReLU after every layer but the last."""
    layers = sorted({int(k.split(".")[0]) for k in net})
    for j, i in enumerate(layers):
        x = x @ net[f"{i}.weight"].T + net[f"{i}.bias"]
        if j < len(layers) - 1:
            x = torch.relu(x)
    return x[:, 0]


def reference_turtle_loss(model, task, theta, net, lr, *, inputs, beta, second_order, steps=STEPS):
    """Query loss after ``steps`` TURTLE updates (eqs. 3.6-3.7) of all coordinates at once."""
    names = list(theta)
    n = sum(t.numel() for t in theta.values())
    average = torch.zeros(n, dtype=torch.float64)
    for t in range(steps):
        loss, g = inner_gradient(model, task, theta, second_order)
        columns = {"gradient": flat(g, names), "loss": loss * torch.ones(n, dtype=torch.float64),
                   "step": torch.full((n,), float(t), dtype=torch.float64), "moving_average": average}
        update = flat(lr, names) * reference_mlp(net, torch.stack([columns[i] for i in inputs], dim=1))
        average = beta * average + (1 - beta) * update
        theta = unflat(flat(theta, names) + update, theta)
    return query_loss(model, task, theta)


def turtle_learner(cls, model, init, inputs, seed=3):
    """A learner whose update network is far from its -grad start and whose rates vary per element."""
    learner = cls(model, init, inner_steps=STEPS, generator=torch.Generator().manual_seed(seed), hidden_layers=2,
                  hidden_units=6, inputs=inputs, moving_average_beta=0.7)
    gen = torch.Generator().manual_seed(seed + 1)
    learner.extra["net"] = {k: (v + 0.3 * torch.randn(v.shape, generator=gen, dtype=torch.float64)).detach()
                            .requires_grad_() for k, v in learner.extra["net"].items()}
    learner.extra["lr"] = {k: torch.empty_like(v).uniform_(0.1, 0.6, generator=gen).detach().requires_grad_()
                           for k, v in learner.extra["lr"].items()}
    return learner


ALL_INPUTS = ["gradient", "loss", "step", "moving_average"]


@pytest.mark.parametrize("cls, inputs", [
    (Turtle, ["gradient"]),
    (Turtle, ALL_INPUTS),
    (FOTurtle, ALL_INPUTS),
    (Turtle, ["moving_average", "gradient", "loss"]),
])
def test_turtle_meta_gradient_matches_reference(setup, cls, inputs):
    model, init, task = setup
    learner = turtle_learner(cls, model, init, inputs)
    loss, g = meta_gradient(learner, task)

    theta, net, lr = (detached(t) for t in (learner.init, learner.extra["net"], learner.extra["lr"]))
    def f(t, phi, a):
        return reference_turtle_loss(model, task, t, phi, a, inputs=inputs, beta=0.7,
                                     second_order=cls is Turtle)
    torch.testing.assert_close(loss, f(theta, net, lr), rtol=1e-12, atol=1e-12)
    ref = grad(f, argnums=(0, 1, 2))(theta, net, lr)
    for group, reference in zip(("init", "net", "lr"), ref):
        for k, r in reference.items():
            torch.testing.assert_close(g[f"{group}/{k}"], r, rtol=1e-8, atol=1e-10, msg=f"{group}/{k}")
    assert all(g[f"net/{k}"].abs().sum() > 0 for k in net), "the update network receives no meta-gradient"

    if cls is Turtle:  # the reference itself against finite differences, along phi
        v = {k: torch.randn(t.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
             for k, t in net.items()}
        fd = directional_fd(lambda phi: f(theta, phi, lr), net, v)
        analytic = sum((g[f"net/{k}"] * v[k]).sum() for k in net).item()
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_turtle_first_order_differs_from_second_order(setup):
    model, init, task = setup
    _, second = meta_gradient(turtle_learner(Turtle, model, init, ALL_INPUTS), task)
    _, first = meta_gradient(turtle_learner(FOTurtle, model, init, ALL_INPUTS), task)
    assert_rel_different(second, first)


@pytest.mark.parametrize("inputs", [["gradient"], ["loss", "step", "moving_average", "gradient"]])
def test_turtle_with_minus_gradient_update_is_maml(setup, inputs):
    """g_phi = -grad and alpha = lr is MAML's adaptation: both for g_phi replaced by -grad and
    for g_phi as initialised (which starts as exactly -grad whatever its other inputs)."""
    model, init, task = setup
    lr = 0.4
    maml = MAML(model, init, inner_steps=3, inner_lr=lr)
    expected = maml.adapt(task.support_x, task.support_y)
    _, g_maml = meta_gradient(maml, task)

    initialised = Turtle(model, init, inner_steps=3, generator=torch.Generator().manual_seed(0), inputs=inputs,
                         lr_init=lr)
    replaced = Turtle(model, init, inner_steps=3, generator=torch.Generator().manual_seed(0), inputs=inputs,
                      lr_init=lr, hidden_layers=1, hidden_units=3)
    with torch.no_grad():
        for t in replaced.extra["net"].values():
            t.normal_(generator=torch.Generator().manual_seed(7))
    column = inputs.index("gradient")
    replaced.update_network = lambda features: -features[:, column]
    for learner in (initialised, replaced):
        adapted = learner.adapt(task.support_x, task.support_y)
        for k in init:
            torch.testing.assert_close(adapted[k], expected[k], rtol=1e-12, atol=1e-14)
        _, g = meta_gradient(learner, task)
        for k in init:
            torch.testing.assert_close(g[f"init/{k}"], g_maml[f"init/{k}"], rtol=1e-9, atol=1e-12)

    # the initialised g_phi is -gradient on arbitrary inputs
    features = torch.randn(1000, len(inputs), dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(initialised.update_network(features), -features[:, column], rtol=0, atol=0)


def test_turtle_options(setup):
    model, init, _ = setup
    gen = torch.Generator().manual_seed(0)
    learner = build_learner("turtle", {}, model=model, init=init, inner_steps=3, generator=gen)
    assert learner.second_order and not build_learner("fo_turtle", {}, model=model, init=init, inner_steps=3,
                                                      generator=gen).second_order
    assert len([k for k in learner.extra["net"] if k.endswith("weight")]) == 6  # 5 hidden layers + output
    assert learner.extra["net"]["0.weight"].shape == (20, 1)
    assert all(torch.equal(r, torch.full_like(r, 0.01)) for r in learner.learning_rates().values())
    assert any(k.startswith("lr/") for k in learner.meta_parameters())

    fixed = build_learner("turtle", {"learn_lr": False, "lr_init": 1.0}, model=model, init=init, inner_steps=3,
                          generator=gen)
    assert not any(k.startswith("lr/") for k in fixed.meta_parameters())
    assert all(torch.equal(r, torch.ones_like(r)) for r in fixed.learning_rates().values())
    for bad, option in [({"inputs": ["gradient", "curvature"]}, "inputs"), ({"inputs": []}, "inputs"),
                        ({"moving_average_beta": 1.5}, "moving_average_beta"), ({"hidden_layers": -1}, "hidden_layers"),
                        ({"hidden_units": 1}, "hidden_units")]:
        with pytest.raises(ValueError, match=option):
            build_learner("turtle", bad, model=model, init=init, inner_steps=3, generator=gen)


# -- both ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda model, init: lstm_learner(model, init, preprocess=True, first_order=True),
    lambda model, init: lstm_learner(model, init, preprocess=False, first_order=False),
    lambda model, init: turtle_learner(Turtle, model, init, ALL_INPUTS),
    lambda model, init: turtle_learner(FOTurtle, model, init, ALL_INPUTS),
], ids=["lstm_meta", "lstm_meta_plus", "turtle", "fo_turtle"])
def test_one_flat_vector_equals_the_step_rule_tensor_by_tensor(setup, make):
    model, init, task = setup
    learner = make(model, init)
    flat = learner.adapt(task.support_x, task.support_y)
    per_tensor, _ = engine.adapt(learner.support_loss(task.support_x, task.support_y), learner.init, steps=STEPS,
                                 step=learner.step, adapts=learner.adapts, gradient=learner.gradient)
    meta = learner.meta_parameters()
    grads = [torch.autograd.grad(learner.loss(learner.predict(adapted, task.query_x), task.query_y),
                                 list(meta.values())) for adapted in (flat, per_tensor)]
    for k in init:
        torch.testing.assert_close(flat[k], per_tensor[k], rtol=1e-12, atol=1e-14)
    for k, a, b in zip(meta, *grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-13, msg=k)
