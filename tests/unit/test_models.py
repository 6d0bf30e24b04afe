"""The networks (innerloop.models): Conv4 with the paper's shapes, batch-statistics BatchNorm and a
functional forward; the sine-wave MLP."""

import math

import pytest
import torch

from innerloop.models import MLP, Conv4, embed, embedding_size, forward, init_mlp, init_params, is_head, layer_of
from innerloop.models.norm import batch_norm_rows


def test_embedding_is_1600_at_84_with_64_filters():
    assert embedding_size(84, 64) == 1600
    model = Conv4(in_channels=3, ways=5, filters=64, image_size=84)
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(4, 3, 84, 84)
    assert embed(model, params, x).shape == (4, 1600)
    assert forward(model, params, x).shape == (4, 5)


def test_batchnorm_keeps_no_running_statistics_and_uses_the_batch():
    model = Conv4(in_channels=1, ways=3, filters=4, image_size=28)
    assert list(model.buffers()) == []
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(6, 1, 28, 28)
    # The same image gets a different embedding in a different batch: statistics come from the batch.
    assert not torch.allclose(embed(model, params, x)[:1], embed(model, params, torch.cat([x[:1], 2 * x[1:]]))[:1])


def test_forward_uses_the_given_parameters_not_the_modules():
    model = Conv4(in_channels=1, ways=3, filters=4, image_size=28)
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(5, 1, 28, 28)
    shifted = {**params, "head.bias": params["head.bias"] + 1.0}
    torch.testing.assert_close(forward(model, shifted, x), forward(model, params, x) + 1.0)
    assert {layer_of(n) for n in params} == {"conv1", "conv2", "conv3", "conv4", "logits"}


# --------------------------------------------------------------------------------------
# The sine-wave MLP (innerloop.models.mlp)
# --------------------------------------------------------------------------------------

def test_mlp_forward_is_functional_with_finn_et_al_shapes():
    model = MLP()
    params = init_mlp(model, torch.Generator().manual_seed(0))
    assert {n: tuple(p.shape) for n, p in params.items()} == {
        "body.0.weight": (40, 1), "body.0.bias": (40,), "body.1.weight": (40, 40), "body.1.bias": (40,),
        "head.weight": (1, 40), "head.bias": (1,)}
    assert sum(p.numel() for p in params.values()) == 1761
    x = torch.linspace(-5, 5, 13).unsqueeze(1)
    y = forward(model, params, x)
    assert y.shape == (13, 1)
    assert embed(model, params, x).shape == (13, 40)
    assert [n for n in params if is_head(n)] == ["head.weight", "head.bias"]
    # The tensors passed in are used, not the module's own.
    shifted = {**params, "head.bias": params["head.bias"] + 2.0}
    torch.testing.assert_close(forward(model, shifted, x), y + 2.0)
    by_hand = params["head.weight"] @ torch.relu(params["body.1.weight"] @ torch.relu(
        params["body.0.weight"] @ x.T + params["body.0.bias"][:, None]) + params["body.1.bias"][:, None])
    torch.testing.assert_close(y, (by_hand + params["head.bias"][:, None]).T)


def test_mlp_init_is_reproducible_and_bounded():
    model = MLP(hidden=(40, 40))
    a = init_mlp(model, torch.Generator().manual_seed(5))
    b = init_mlp(model, torch.Generator().manual_seed(5))
    c = init_mlp(model, torch.Generator().manual_seed(6))
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not torch.equal(a["body.1.weight"], c["body.1.weight"])
    for name, fan_in in (("body.0", 1), ("body.1", 40), ("head", 40)):
        for kind in ("weight", "bias"):
            t = a[f"{name}.{kind}"]
            assert t.abs().max() <= 1 / math.sqrt(fan_in)
            if t.numel() >= 40:  # uniform over the whole range, not a narrower one
                assert t.abs().max() > 0.8 / math.sqrt(fan_in)


def test_smooth_mlp_has_a_nonzero_second_derivative():
    x = torch.linspace(-2, 2, 7).unsqueeze(1).requires_grad_(True)
    for smooth, nonzero in ((True, True), (False, False)):
        model = MLP(hidden=(6,), smooth=smooth)
        params = init_mlp(model, torch.Generator().manual_seed(1))
        (dy,) = torch.autograd.grad(forward(model, params, x).sum(), x, create_graph=True)
        (d2y,) = torch.autograd.grad(dy.sum(), x, allow_unused=True, materialize_grads=True)
        assert bool(d2y.abs().sum() > 0) == nonzero


def test_mlp_rejects_bad_widths():
    with pytest.raises(ValueError, match="hidden"):
        MLP(hidden=(40, 0))


# --------------------------------------------------------------------------------------
# BatchNorm of a matrix with a closed-form double backward (innerloop.models.norm)

def _norm_inputs(rows=37, channels=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = (3 * torch.randn(rows, channels, generator=gen, dtype=torch.float64) + 1).requires_grad_(True)
    weight = torch.randn(channels, generator=gen, dtype=torch.float64).requires_grad_(True)
    bias = torch.randn(channels, generator=gen, dtype=torch.float64).requires_grad_(True)
    return gen, x, weight, bias


def test_batch_norm_rows_passes_gradcheck_and_gradgradcheck():
    _, x, weight, bias = _norm_inputs()
    f = lambda x, w, b: batch_norm_rows(x, w, b, 1e-5)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, weight, bias))
    assert torch.autograd.gradgradcheck(f, (x, weight, bias))


# which of (gx, gw, gb) the second loss uses: all, and each one alone (the others' upstream is None)
@pytest.mark.parametrize("uses", [(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1)])
def test_batch_norm_rows_double_backward_equals_pytorchs(uses):
    gen, x, weight, bias = _norm_inputs(seed=1)
    gy = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    probe = [torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in (x, weight, bias)]

    def second(norm):
        y = norm(x, weight, bias)
        grads = torch.autograd.grad(y, (x, weight, bias), gy * torch.tanh(y), create_graph=True)
        loss = sum((g * p * g).sum() for g, p, use in zip(grads, probe, uses) if use)
        return torch.autograd.grad(loss, (x, weight, bias), allow_unused=True, materialize_grads=True)

    ours = second(lambda x, w, b: batch_norm_rows(x, w, b, 1e-5))
    theirs = second(lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=1e-5))
    for name, a, b in zip(("x", "weight", "bias"), ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=f"d/d{name}")


def test_batch_norm_rows_first_backward_is_pytorchs_and_a_third_is_refused():
    _, x, weight, bias = _norm_inputs(seed=2)
    y = batch_norm_rows(x, weight, bias, 1e-5)
    torch.testing.assert_close(y, torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5),
                               rtol=0, atol=0)
    (gx,) = torch.autograd.grad(y.pow(3).sum(), x, create_graph=True)  # (the sum of y^2 is constant in x)
    (ggx,) = torch.autograd.grad(gx.pow(3).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="third derivative"):
        torch.autograd.grad(ggx.sum(), x)
    with pytest.raises(ValueError, match="matrix"):
        batch_norm_rows(x.view(37, 6, 1), weight, bias, 1e-5)
