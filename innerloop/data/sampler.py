"""Episodic few-shot task sampler over a prepared store.

A task (episode) draws ``ways`` classes of one split without replacement, then
``shots + queries`` distinct images of each class without replacement; the
first ``shots`` form the support set and the rest the query set, so support
and query never share an image.  Labels are 0..ways-1 in the (random) order
in which the classes were drawn, and both sets are grouped by class:
``[0] * shots + [1] * shots + ...``.

Task ``index`` is a pure function of (dataset name, split, seed, index) (and
of ways/shots/queries and the store contents): its generator is
``numpy.random.default_rng([seed, crc32(split), index, crc32(dataset)])``.
The codes are CRC-32 checksums, never Python's salted ``hash()``, so tasks are
the same in every process.  Consequently an evaluation task set is simply
``TaskSampler(store, "test", ways, shots, queries, seed=eval_seed).task(i)``
for ``i in range(n)`` (see :func:`fixed_tasks`), identical for every algorithm
by construction, and training can draw task ``i`` at step ``i``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch

from innerloop.data.store import SPLITS, Store


@dataclass(frozen=True)
class Task:
    """One few-shot episode; images are float32 in [0, 1]."""

    support_x: torch.Tensor  # (ways * shots, C, H, W)
    support_y: torch.Tensor  # int64 (ways * shots,), grouped by class
    query_x: torch.Tensor  # (ways * queries, C, H, W)
    query_y: torch.Tensor  # int64 (ways * queries,), grouped by class
    classes: tuple[int, ...]  # store class ids, in label order

    def to(self, device: torch.device | str) -> Task:
        """A copy with all tensors on ``device``."""
        return Task(
            support_x=self.support_x.to(device),
            support_y=self.support_y.to(device),
            query_x=self.query_x.to(device),
            query_y=self.query_y.to(device),
            classes=self.classes,
        )


def name_code(name: str) -> int:
    """A stable integer code for a name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


class TaskSampler:
    """Deterministic N-way K-shot tasks from one split of a store."""

    def __init__(
        self, store: Store, split: str, ways: int, shots: int, queries: int, seed: int
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
        for label, value in (("ways", ways), ("shots", shots), ("queries", queries)):
            if value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        class_ids = store.class_ids(split)
        if ways > len(class_ids):
            raise ValueError(
                f"ways={ways} exceeds the {len(class_ids)} classes in the {split!r} split "
                f"of dataset {store.dataset!r}"
            )
        by_class = store.indices_by_class(split)
        smallest = min(len(members) for members in by_class.values())
        if shots + queries > smallest:
            raise ValueError(
                f"shots + queries = {shots} + {queries} = {shots + queries} exceeds the "
                f"{smallest} images of the smallest class in the {split!r} split of "
                f"dataset {store.dataset!r}"
            )
        self.store = store
        self.split = split
        self.ways = ways
        self.shots = shots
        self.queries = queries
        self.seed = seed
        self._class_ids = class_ids
        self._by_class = by_class
        self._codes = (name_code(split), name_code(store.dataset))

    def task(self, index: int) -> Task:
        """Task number ``index`` (a non-negative integer)."""
        if index < 0:
            raise ValueError(f"task index must be non-negative, got {index}")
        split_code, dataset_code = self._codes
        rng = np.random.default_rng([self.seed, split_code, index, dataset_code])
        classes = rng.choice(self._class_ids, size=self.ways, replace=False)
        per_class = self.shots + self.queries
        drawn = np.stack(
            [rng.choice(self._by_class[int(c)], size=per_class, replace=False) for c in classes]
        )
        support = drawn[:, : self.shots].reshape(-1)
        query = drawn[:, self.shots :].reshape(-1)
        return Task(
            support_x=self._images(support),
            support_y=torch.arange(self.ways).repeat_interleave(self.shots),
            query_x=self._images(query),
            query_y=torch.arange(self.ways).repeat_interleave(self.queries),
            classes=tuple(int(c) for c in classes),
        )

    def tasks(self, n: int, start: int = 0) -> list[Task]:
        """Tasks ``start .. start + n - 1``."""
        return [self.task(i) for i in range(start, start + n)]

    def _images(self, indices: np.ndarray) -> torch.Tensor:
        pixels = self.store.images[indices]
        return torch.from_numpy(np.divide(pixels, np.float32(255), dtype=np.float32))


def fixed_tasks(
    store: Store, split: str, ways: int, shots: int, queries: int, seed: int, n: int
) -> list[Task]:
    """The first ``n`` tasks of ``TaskSampler(store, split, ways, shots, queries, seed)``."""
    return TaskSampler(store, split, ways, shots, queries, seed).tasks(n)


@dataclass(frozen=True)
class Batch:
    """An ordinary labelled mini-batch; ``y`` indexes the classes of the split it was drawn
    from (position in ``store.class_ids(split)``), not the ways of a task."""

    x: torch.Tensor  # (n, C, H, W), float32 in [0, 1]
    y: torch.Tensor  # int64 (n,)

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.x.to(device), self.y.to(device))


class ClassBatchSampler:
    """Ordinary mini-batches over every image of one split (Chen et al. 2019's pre-training).

    Epoch ``e`` is a permutation of the split's images drawn from
    ``numpy.random.default_rng([seed, crc32(split), e, crc32(dataset), crc32("batches")])``;
    batch ``i`` is slice ``i % batches_per_epoch`` of epoch ``i // batches_per_epoch`` (the
    last, partial slice of an epoch is dropped). So batch ``i`` is a pure function of
    (store, split, batch_size, seed, i), as :meth:`TaskSampler.task` is, and a resumed run
    draws what an uninterrupted one would. The outer loop draws items by ``task(index)``,
    which is :meth:`batch` here.
    """

    def __init__(self, store: Store, split: str, batch_size: int, seed: int) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        class_ids = store.class_ids(split)
        self.indices = np.concatenate([m for m in store.indices_by_class(split).values()])
        if batch_size > len(self.indices):
            raise ValueError(f"batch_size={batch_size} exceeds the {len(self.indices)} images of the {split!r} "
                             f"split of dataset {store.dataset!r}")
        self.store = store
        self.split = split
        self.batch_size = batch_size
        self.seed = seed
        self.n_classes = len(class_ids)
        self.batches_per_epoch = len(self.indices) // batch_size
        self._labels = np.searchsorted(class_ids, store.labels[self.indices])
        self._codes = (name_code(split), name_code(store.dataset), name_code("batches"))
        self._epoch: tuple[int, np.ndarray] | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._epoch is None or self._epoch[0] != epoch:
            split_code, dataset_code, kind_code = self._codes
            rng = np.random.default_rng([self.seed, split_code, epoch, dataset_code, kind_code])
            self._epoch = (epoch, rng.permutation(len(self.indices)))
        return self._epoch[1]

    def batch(self, index: int) -> Batch:
        """Mini-batch number ``index`` (a non-negative integer)."""
        if index < 0:
            raise ValueError(f"batch index must be non-negative, got {index}")
        epoch, position = divmod(index, self.batches_per_epoch)
        chosen = self._permutation(epoch)[position * self.batch_size:(position + 1) * self.batch_size]
        pixels = self.store.images[self.indices[chosen]]
        return Batch(torch.from_numpy(np.divide(pixels, np.float32(255), dtype=np.float32)),
                     torch.from_numpy(self._labels[chosen].astype(np.int64)))

    task = batch


class TaskImages:
    """The meta-training tasks of a :class:`TaskSampler` as labelled batches: task ``i``'s
    support and query images under the index of their class among the split's classes (the
    "union of tasks" with global labels, the multi-task baseline's training data)."""

    def __init__(self, sampler: TaskSampler) -> None:
        self.sampler = sampler
        class_ids = sampler.store.class_ids(sampler.split)
        self.n_classes = len(class_ids)
        self._index = {int(c): i for i, c in enumerate(class_ids)}

    def task(self, index: int) -> Batch:
        task = self.sampler.task(index)
        classes = torch.tensor([self._index[c] for c in task.classes], dtype=torch.long)
        return Batch(torch.cat([task.support_x, task.query_x]), classes[torch.cat([task.support_y, task.query_y])])
