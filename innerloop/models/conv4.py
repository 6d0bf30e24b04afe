"""Conv4, the four-block convolutional network of MAML, Meta-SGD and the study.

Each block is a 3x3 convolution, BatchNorm, ReLU and 2x2 max-pool; the flattened output
of block 4 is the embedding (1,600-d at 84x84 with 64 filters: 64 * 5 * 5) and a linear
head maps it to the N ways.

BatchNorm always normalises with the current batch's statistics and keeps no running
statistics (``track_running_stats=False``), at meta-train and meta-test time alike, as
every reference MAML does. The model is used functionally: parameters live in a dict
that the inner loop replaces step by step, and ``forward(params, x)`` runs the module
with those tensors through :func:`torch.func.functional_call`.

``smooth=True`` swaps ReLU for softplus and max-pool for average pooling so that the
adapted loss is twice differentiable everywhere; gradient checks against finite
differences use that variant (finite differences are meaningless through ReLU and
max-pool kinks).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

Params = dict[str, torch.Tensor]

#: Names of the layers as the paper's Table 1 calls them, keyed by parameter prefix.
LAYER_NAMES = {
    "blocks.0": "conv1",
    "blocks.1": "conv2",
    "blocks.2": "conv3",
    "blocks.3": "conv4",
    "head": "logits",
}


def layer_of(param_name: str) -> str:
    """The paper's layer name ("conv1".."conv4", "logits") of a parameter name."""
    for prefix, layer in LAYER_NAMES.items():
        if param_name.startswith(prefix + "."):
            return layer
    raise KeyError(f"parameter {param_name!r} belongs to no known layer")


def is_head(param_name: str) -> bool:
    """Whether a parameter belongs to the network's output layer (what ANIL adapts)."""
    return param_name.startswith("head.")


def embedding_size(image_size: int, filters: int, blocks: int = 4) -> int:
    """Length of the flattened block-4 output (floor-halving per max-pool)."""
    side = image_size
    for _ in range(blocks):
        side //= 2
    if side < 1:
        raise ValueError(f"image_size {image_size} is too small for {blocks} pooling blocks")
    return filters * side * side


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, smooth: bool):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, track_running_stats=False)
        self.smooth = smooth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        if self.smooth:
            return F.avg_pool2d(F.softplus(x), 2)
        return F.max_pool2d(F.relu(x), 2)


class Conv4(nn.Module):
    """Four conv blocks and a linear head; see the module docstring."""

    def __init__(
        self,
        in_channels: int = 1,
        ways: int = 5,
        filters: int = 64,
        image_size: int = 28,
        smooth: bool = False,
    ):
        super().__init__()
        channels = [in_channels] + [filters] * 4
        self.blocks = nn.Sequential(
            *(ConvBlock(channels[i], channels[i + 1], smooth) for i in range(4))
        )
        self.head = nn.Linear(embedding_size(image_size, filters), ways)

    def forward(self, x: torch.Tensor, embed_only: bool = False) -> torch.Tensor:
        features = self.blocks(x).flatten(1)
        return features if embed_only else self.head(features)


def init_params(model: nn.Module, generator: torch.Generator) -> Params:
    """Fresh parameters for ``model`` drawn from ``generator`` (reproducible per seed).

    Convolution and linear weights are Xavier-uniform, biases zero, BatchNorm scale 1
    and shift 0: the initialisation of the reference MAML code.
    """
    params: Params = {}
    for name, p in model.named_parameters():
        t = torch.empty_like(p)
        if name.endswith("norm.weight"):
            nn.init.ones_(t)
        elif name.endswith("bias"):
            nn.init.zeros_(t)
        else:
            nn.init.xavier_uniform_(t, generator=generator)
        params[name] = t
    return params


def forward(model: nn.Module, params: Params, x: torch.Tensor) -> torch.Tensor:
    """Logits of ``model`` run with the tensors in ``params``."""
    return functional_call(model, params, (x,))


def embed(model: nn.Module, params: Params, x: torch.Tensor) -> torch.Tensor:
    """Embedding of ``x``: the model with its head stripped, run with ``params``."""
    return functional_call(model, params, (x,), {"embed_only": True})
