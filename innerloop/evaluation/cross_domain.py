"""Cross-domain evaluation: tasks of one dataset fed to a network trained on another.

A run trained on dataset A is meta-tested and probed on the meta-test split of dataset B
(Huisman's Table 3.4; glyphs -> digits by default). The network fixes the input shape,
so B's images are converted to A's channels and size:

* greyscale -> RGB repeats the channel; RGB -> greyscale takes the ITU-R BT.601 luma
  ``0.299 R + 0.587 G + 0.114 B``;
* the side is resized bilinearly with antialiasing (``torch.nn.functional.interpolate``).

The tasks themselves are B's, drawn by B's sampler exactly as for a run trained on B.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from innerloop.data.sampler import Task, TaskSampler

LUMA = (0.299, 0.587, 0.114)


def convert_images(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Images ``x`` (N, C, H, W) in [0, 1] converted to ``shape`` = (C', H', W')."""
    channels, height, width = shape
    if x.shape[1] != channels:
        if x.shape[1] == 1 and channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 3 and channels == 1:
            x = (x * torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        else:
            raise ValueError(f"cannot convert {x.shape[1]}-channel images to {channels} channels")
    if x.shape[2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        x = x.clamp(0, 1)
    return x.contiguous()


def describe_conversion(source: tuple[int, int, int], shape: tuple[int, int, int]) -> str:
    """What :func:`convert_images` does to images of ``source`` = (C, H, W) to make them
    ``shape``, in words (for the report)."""
    steps = []
    if source[0] != shape[0]:
        steps.append("greyscale repeated to RGB" if source[0] == 1 else
                     "RGB to greyscale (luma 0.299 R + 0.587 G + 0.114 B)" if shape[0] == 1 else
                     f"{source[0]} to {shape[0]} channels")
    if tuple(source[1:]) != tuple(shape[1:]):
        steps.append(f"resized from {source[1]}×{source[2]} to {shape[1]}×{shape[2]} px (bilinear, antialiased)")
    return "; ".join(steps) if steps else f"none needed (both {shape[0]}×{shape[1]}×{shape[2]})"


class ConvertedSampler:
    """A task sampler whose tasks' images are converted to ``shape`` (see the module docstring)."""

    def __init__(self, sampler: TaskSampler, shape: tuple[int, int, int]):
        self.sampler = sampler
        self.shape = tuple(shape)

    def task(self, index: int) -> Task:
        t = self.sampler.task(index)
        return Task(support_x=convert_images(t.support_x, self.shape), support_y=t.support_y,
                    query_x=convert_images(t.query_x, self.shape), query_y=t.query_y, classes=t.classes)

    def tasks(self, n: int, start: int = 0) -> list[Task]:
        return [self.task(i) for i in range(start, start + n)]

    def __getattr__(self, name):
        return getattr(self.sampler, name)
