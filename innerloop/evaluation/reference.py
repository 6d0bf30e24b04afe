"""The untrained reference: what a run's evaluation protocol scores without any training.

Evaluation-time adaptation can learn on its own (fine-tuning a random network on the
support set beats chance, and Meta-SGD's initial rates are a protocol of their own), so a
meta-test accuracy means something only next to the score of the same network before
training, under the same protocol: the seed's initialisation (and, for learners that
learn more than ``theta``, the seed's initial rates or update network), adapted and
scored exactly as the trained run is, on the same tasks.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from innerloop.data.sampler import Task
from innerloop.data.store import Store
from innerloop.scoring import evaluate
from innerloop.training import build_run


def untrained_reference(spec, store: Store, tasks: Iterable[Task], device: torch.device,
                        steps: int | None = None) -> np.ndarray:
    """Per-task score of ``spec``'s freshly initialised learner (built from its seed, as
    :func:`innerloop.training.train` builds it before the first iteration) under its own
    evaluation protocol (``steps`` None: the learner's ``eval_steps``), on ``tasks``."""
    learner = build_run(spec, store.image_shape, len(store.class_ids("train"))).to(device)
    return evaluate(learner, tasks, device, steps)
