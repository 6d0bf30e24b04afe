"""Few-shot sine-wave regression tasks (Finn et al. 2017, Sec. 5.1; Huisman thesis Sec. 3.5).

A task is a sine wave with its own amplitude and phase::

    A ~ U[0.1, 5.0],   phi ~ U[0, pi],   x ~ U[-5, 5],   y = A sin(x - phi)

with ``shots`` (K) support points and ``queries`` query points drawn independently from
the same wave (Finn et al. use K of each; ``queries`` may differ). There is no noise. The
targets have variance E[A^2] / 2 = (0.1^2 + 0.1 * 5 + 5^2) / 6 = 4.2517 over tasks (the
MSE of always predicting 0).

Task ``index`` of a split is a pure function of (seed, split, index) (and of K and the
number of queries): its generator is ``numpy.random.default_rng([seed, crc32(split),
index])`` (:func:`innerloop.data.sampler.name_code`), which draws the amplitude, the
phase, then the support and the query inputs. The splits ``train``, ``val`` and ``test``
differ only in this seed stream. The sampler has the interface of
:class:`~innerloop.data.sampler.TaskSampler` (``task(i)``, ``tasks(n, start)``) and
returns :class:`~innerloop.data.sampler.Task` objects with float32 ``(K, 1)`` inputs and
targets and ``classes=()``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from innerloop.data.sampler import Task, name_code

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
SPLITS = ("train", "val", "test")
#: Variance of y over tasks and inputs, E[A^2] E[sin^2] = E[A^2] / 2: the MSE of predicting 0.
TARGET_VARIANCE = (AMPLITUDE[0] ** 2 + AMPLITUDE[0] * AMPLITUDE[1] + AMPLITUDE[1] ** 2) / 3 / 2


def sine(x, amplitude: float, phase: float):
    """y = A sin(x - phi) (numpy arrays or tensors)."""
    lib = torch if isinstance(x, torch.Tensor) else np
    return amplitude * lib.sin(x - phase)


class SineSampler:
    """Deterministic K-shot sine-wave tasks of one split."""

    def __init__(self, split: str, shots: int, queries: int | None = None, seed: int = 0):
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
        queries = shots if queries is None else queries
        for label, value in (("shots", shots), ("queries", queries)):
            if value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.split = split
        self.shots = shots
        self.queries = queries
        self.seed = seed
        self._split_code = name_code(split)

    def _rng(self, index: int) -> np.random.Generator:
        if index < 0:
            raise ValueError(f"task index must be non-negative, got {index}")
        return np.random.default_rng([self.seed, self._split_code, index])

    def wave(self, index: int) -> tuple[float, float]:
        """(amplitude, phase) of task ``index``."""
        rng = self._rng(index)
        return float(rng.uniform(*AMPLITUDE)), float(rng.uniform(*PHASE))

    def task(self, index: int) -> Task:
        """Task number ``index`` (a non-negative integer)."""
        rng = self._rng(index)
        amplitude = rng.uniform(*AMPLITUDE)
        phase = rng.uniform(*PHASE)
        x = rng.uniform(*X_RANGE, size=(self.shots + self.queries, 1))
        y = sine(x, amplitude, phase)
        x, y = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
        return Task(support_x=x[: self.shots], support_y=y[: self.shots],
                    query_x=x[self.shots:], query_y=y[self.shots:], classes=())

    def tasks(self, n: int, start: int = 0) -> list[Task]:
        """Tasks ``start .. start + n - 1``."""
        return [self.task(i) for i in range(start, start + n)]


def sine_tasks(split: str, shots: int, queries: int | None, seed: int, n: int) -> list[Task]:
    """The first ``n`` tasks of ``SineSampler(split, shots, queries, seed)``: a fixed task set."""
    return SineSampler(split, shots, queries, seed).tasks(n)
