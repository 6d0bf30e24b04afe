"""Training-mode BatchNorm of a matrix's columns, with a double backward of few passes.

:func:`batch_norm_rows` normalises each column of ``x`` ``(M, C)`` with its own batch
statistics, as ``F.batch_norm(x, None, None, weight, bias, training=True)`` does, and has
the same forward and first backward (PyTorch's own kernels). What differs is the backward
of the backward, which second-order MAML takes through every support step. PyTorch's
composes it from about thirty passes over the activations; here it is the closed form
below, which takes the three column sums it needs from two calls of PyTorch's BatchNorm
backward kernel and writes each of its two outputs in one to three fused passes. On the
block-1 BatchNorm of an 84x84 support set (35,280 rows, 4 tasks x 32 channels) the forward,
first and second backward take about a quarter of the time of PyTorch's, on the smallest
matrices (tens of rows) about as long (``benchmarks/batch_norm.py``; ``benchmarks/peers.py``
measures the meta-step).

The closed form, per column, with ``r = 1 / sqrt(var + eps)``, ``xh = (x - mean) r``,
``wr = weight r`` and sums ``S`` over the ``M`` rows. The first backward, given ``gy``, is::

    gb = S(gy),   gw = S(gy xh),   gx = wr (gy - gb / M - xh gw / M)

Its backward, given the upstream gradients ``ggx``, ``ggw`` and ``ggb`` of ``gx``, ``gw`` and
``gb`` (with ``A = gy - gb / M - xh gw / M``, so ``gx = wr A``)::

    d/dgy = wr (ggx - S(ggx) / M - xh S(ggx xh) / M) + ggw xh + ggb
    d/dw  = r S(ggx A)
    d/dx  = r (G - S(G) / M - xh S(G xh) / M) - weight S(ggx A) r^2 xh / M,
            G = ggw gy - wr (gy S(ggx xh) + ggx gw) / M

(``d/dx`` is BatchNorm's backward through ``xh`` applied to ``G``, the gradient with ``r``
held fixed, plus the path through ``r``). Only this second backward is written out: a
third derivative raises an error rather than returning a wrong number.
Tests check both backward passes against PyTorch's in float64.
"""

from __future__ import annotations

import torch
from torch.autograd import Function

_backward = torch.ops.aten.native_batch_norm_backward


def batch_norm_rows(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """``F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)`` of ``x`` ``(M, C)``,
    with the double backward of the module docstring."""
    if x.ndim != 2:
        raise ValueError(f"batch_norm_rows takes a matrix (rows, channels), got shape {tuple(x.shape)}")
    return _Norm.apply(x, weight, bias, eps)


class _Norm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        y, mean, rstd = torch.native_batch_norm(x, weight, bias, None, None, True, 0.0, eps)[:3]
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight, mean, rstd = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: the backward itself is differentiated later
            gx, gw, gb = _NormBackward.apply(gy, x, weight, mean, rstd, ctx.eps)
        else:
            gx, gw, gb = _backward(gy, x, weight, None, None, mean, rstd, True, ctx.eps, list(ctx.needs_input_grad[:3]))
        return gx, gw, gb, None


class _NormBackward(Function):
    """``(gx, gw, gb)`` of :class:`_Norm` given ``gy``; its backward is the closed form."""

    @staticmethod
    def forward(ctx, gy, x, weight, mean, rstd, eps):
        gx, gw, gb = _backward(gy, x, weight, None, None, mean, rstd, True, eps, [True, True, True])
        ctx.save_for_backward(gy, x, weight, mean, rstd, gw, gb)
        ctx.eps = eps
        return gx, gw, gb

    @staticmethod
    def backward(ctx, ggx, ggw, ggb):
        gy, x, weight, mean, rstd, gw, gb = ctx.saved_tensors
        return (*_NormDoubleBackward.apply(ggx, ggw, ggb, gy, x, weight, mean, rstd, gw, gb, ctx.eps), None, None, None)


class _NormDoubleBackward(Function):
    """The closed-form backward of :class:`_NormBackward`: ``(d/dgy, d/dx, d/dweight)``. A node
    of its own, with every tensor it reads as an input, so that differentiating it once more
    reaches :meth:`backward` and raises (``once_differentiable`` would drop that path
    silently when ``torch.autograd.grad`` asks for ``x`` only)."""

    @staticmethod
    def forward(ctx, ggx, ggw, ggb, gy, x, weight, mean, rstd, gw, gb, eps):
        m = x.shape[0]
        zero = torch.zeros_like(rstd)
        ggw = zero if ggw is None else ggw
        ggb = zero if ggb is None else ggb
        shift = -mean * rstd  # xh = x r + shift
        wr = weight * rstd
        if ggx is None:
            s_ggx = s_ggx_xh = s_ggx_gy = zero
            d_gy = torch.addcmul(shift * ggw + ggb, x, rstd * ggw)
        else:
            # PyTorch's kernel applied to ggx gives wr (ggx - S(ggx)/M - xh S(ggx xh)/M), S(ggx xh), S(ggx);
            # with mean 0 and r 1 on gy in place of x, its weight gradient is S(ggx gy)
            d_gy, s_ggx_xh, s_ggx = _backward(ggx, x, weight, None, None, mean, rstd, True, eps, [True, True, True])
            d_gy.addcmul_(x, rstd * ggw).add_(shift * ggw + ggb)
            s_ggx_gy = _backward(ggx, gy, None, None, None, zero, torch.ones_like(rstd), True, eps,
                                 [False, True, False])[1]
        s_ggx_a = s_ggx_gy - (gb * s_ggx + gw * s_ggx_xh) / m  # S(ggx A)
        d_w = rstd * s_ggx_a
        # d/dx = gy alpha + ggx beta + xh gamma + delta, each coefficient one per column
        s_g = ggw * gb - wr * (gb * s_ggx_xh + s_ggx * gw) / m  # S(G)
        s_g_xh = ggw * gw - 2 * wr * gw * s_ggx_xh / m  # S(G xh)
        alpha = rstd * (ggw - wr * s_ggx_xh / m)
        gamma = -rstd * (s_g_xh + weight * s_ggx_a * rstd) / m
        delta = -rstd * s_g / m
        d_x = torch.addcmul(shift * gamma + delta, x, rstd * gamma).addcmul_(gy, alpha)
        if ggx is not None:
            d_x.addcmul_(ggx, -wr * rstd * gw / m)
        return d_gy, d_x, d_w

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("batch_norm_rows has a first and a second backward only; a third derivative "
                           "needs torch.nn.functional.batch_norm")
