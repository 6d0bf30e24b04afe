"""A trained run loaded for evaluation: its learner, its spec and the fixed tasks it is scored on."""

from __future__ import annotations

from pathlib import Path

import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store
from innerloop.evaluation.cross_domain import ConvertedSampler
from innerloop.training import load_model


def load_for_evaluation(model_path: Path, store_path: Path, *, split: str, seed: int, device: torch.device):
    """A trained learner on ``device``, its spec, and the fixed task sampler of its setting
    on ``split`` of the store (tasks fixed by (dataset, split, seed) for every algorithm).

    The store may be another dataset than the one the run was trained on (cross-domain
    evaluation): its images are then converted to the network's input shape
    (:class:`~innerloop.evaluation.cross_domain.ConvertedSampler`).
    """
    learner, spec, _ = load_model(model_path, device)
    store = load_store(store_path)
    sampler = TaskSampler(store, split, spec.ways, spec.shots, spec.queries, seed=seed)
    if tuple(store.image_shape) != learner.input_shape:
        sampler = ConvertedSampler(sampler, learner.input_shape)
    return learner, spec, sampler
