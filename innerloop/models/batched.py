"""The forward pass of many tasks' networks at once: one set of batched operations.

Every tensor of ``params`` carries a leading task axis (``T`` copies of the network, one
per task, e.g. the meta-initialisation expanded and then adapted task by task), and the
input ``x`` is ``(T, N, ...)``: task ``t``'s ``N`` examples run through network ``t``.
The result equals ``torch.stack([forward(model, params[t], x[t]) for t in range(T)])``
(float rounding aside), computed without a Python iteration per task:

* Conv4: the task axis is folded into the channel axis, ``(N, T * C, H, W)``, and each
  convolution is ONE grouped convolution (``groups=T``) with the stacked weights
  ``(T * O, C, k, k)``. BatchNorm on the folded tensor normalises every (task, channel)
  pair with its own batch statistics, exactly the per-task BatchNorm of the model
  (``track_running_stats=False``), and the linear head is one batched matrix product.
  The ReLU and max-pool are applied as pool-then-ReLU (equal values; the max-pool
  gradient of a window whose maximum is negative is zeroed by the ReLU either way).
* On the CPU the folded activations are channels-last (:func:`layout`): there a
  contiguous NCHW max-pool is about ten times slower than a channels-last one. A
  channels-last ``(N, C, H, W)`` tensor is the matrix ``(N * H * W, C)`` in memory, and
  BatchNorm runs on that matrix view (:func:`_batch_norm`): the same statistics, while
  PyTorch's BatchNorm double backward on a 4-d channels-last tensor reduces it one
  dimension at a time through strided copies. On the matrix, the double backward is
  :mod:`innerloop.models.norm`'s closed form, a few passes where PyTorch's makes about
  thirty (``benchmarks/peers.py`` measures the step).
* MLP: every linear layer is one batched matrix product.

Any other model has no batched forward (:func:`unsupported` says why) and is run one
task at a time by the callers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.models.conv4 import Conv4, ConvBlock, Params
from innerloop.models.mlp import MLP
from innerloop.models.norm import batch_norm_rows


def unsupported(model: nn.Module) -> str | None:
    """Why ``model`` has no batched forward, or None when it has one."""
    if type(model) is MLP:
        return None
    if type(model) is not Conv4:
        return f"no batched forward for {type(model).__name__} (Conv4 and MLP have one)"
    for block in model.blocks:
        if type(block) is not ConvBlock:
            return f"Conv4 block {type(block).__name__} is not the standard ConvBlock"
        conv, norm = block.conv, block.norm
        if conv.groups != 1 or conv.padding_mode != "zeros" or norm.track_running_stats or not norm.affine:
            return "Conv4 block differs from the standard 3x3 conv + batch-statistics BatchNorm"
    return None


def forward(model: nn.Module, params: Params, x: torch.Tensor, *, embed_only: bool = False,
            activations: dict | None = None) -> torch.Tensor:
    """Outputs ``(T, N, ways)`` (or embeddings ``(T, N, d)``) of ``T`` networks on ``x`` ``(T, N, ...)``.

    With ``activations`` (a dict), Conv4's block outputs are stored in it as
    ``blocks.i -> (T, N, filters, side, side)``.
    """
    if type(model) is MLP:
        return _mlp(model, params, x, embed_only)
    reason = unsupported(model)
    if reason is not None:
        raise TypeError(reason)
    return _conv4(model, params, x, embed_only, activations)


def layout(device: torch.device) -> torch.memory_format:
    """The memory format of Conv4's folded activations on ``device``: channels-last on the
    CPU (see the module docstring), contiguous elsewhere."""
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def _conv4(model: Conv4, params: Params, x: torch.Tensor, embed_only: bool, activations: dict | None) -> torch.Tensor:
    tasks, n = x.shape[:2]
    h = x.transpose(0, 1).reshape(n, tasks * x.shape[2], *x.shape[3:])
    h = h.contiguous(memory_format=layout(h.device))
    for i, block in enumerate(model.blocks):
        prefix = f"blocks.{i}"
        weight = params[f"{prefix}.conv.weight"]
        conv, norm = block.conv, block.norm
        h = F.conv2d(h, weight.reshape(-1, *weight.shape[2:]), params[f"{prefix}.conv.bias"].reshape(-1),
                     stride=conv.stride, padding=conv.padding, dilation=conv.dilation, groups=tasks)
        h = _batch_norm(h, params[f"{prefix}.norm.weight"].reshape(-1), params[f"{prefix}.norm.bias"].reshape(-1),
                        norm.eps)
        if block.smooth:
            h = F.avg_pool2d(F.softplus(h), 2)
        else:
            h = F.relu(F.max_pool2d(h, 2))
        if activations is not None:
            activations[prefix] = h.view(n, tasks, -1, *h.shape[2:]).transpose(0, 1)
    features = h.reshape(n, tasks, -1).transpose(0, 1)
    if embed_only:
        return features
    return torch.baddbmm(params["head.bias"].unsqueeze(1), features, params["head.weight"].transpose(1, 2))


def _batch_norm(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """BatchNorm with batch statistics over every channel of ``h`` ``(N, C, H, W)``; on a
    channels-last ``h``, computed on its ``(N * H * W, C)`` matrix view (no copy)."""
    if not h.is_contiguous(memory_format=torch.channels_last) or h.is_contiguous():
        return F.batch_norm(h, None, None, weight, bias, training=True, eps=eps)
    n, c, height, width = h.shape
    rows = batch_norm_rows(h.permute(0, 2, 3, 1).reshape(-1, c), weight, bias, eps)
    return rows.view(n, height, width, c).permute(0, 3, 1, 2)


def _mlp(model: MLP, params: Params, x: torch.Tensor, embed_only: bool) -> torch.Tensor:
    for i in range(len(model.body)):
        x = torch.baddbmm(params[f"body.{i}.bias"].unsqueeze(1), x, params[f"body.{i}.weight"].transpose(1, 2))
        x = F.softplus(x) if model.smooth else F.relu(x)
    if embed_only:
        return x
    return torch.baddbmm(params["head.bias"].unsqueeze(1), x, params["head.weight"].transpose(1, 2))


def stack(params: Params, tasks: int) -> Params:
    """``params`` repeated along a new leading task axis (views: the gradient of every
    copy flows back to the one tensor)."""
    return {n: p.unsqueeze(0).expand(tasks, *p.shape) for n, p in params.items()}


def unstack(params: Params, t: int) -> Params:
    """Task ``t``'s tensors of stacked ``params``."""
    return {n: p[t] for n, p in params.items()}
