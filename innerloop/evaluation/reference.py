"""The untrained reference: what a network that was never meta-trained scores under an
algorithm's own evaluation protocol.

An algorithm's evaluation adapts to each task's support set with its own steps and rates
(Meta-SGD with its initial learned rates, the transfer baselines with their fine-tuning),
so part of any meta-test accuracy is what that protocol alone achieves from a random
initialisation. The reference is the same learner, freshly initialised from the run's
seed, scored by :func:`innerloop.evaluation.meta_test.evaluate` on the same fixed tasks.
"""

from __future__ import annotations

import numpy as np
import torch

from innerloop.data.sampler import fixed_tasks
from innerloop.evaluation.meta_test import evaluate


def untrained_reference(spec, store, *, split: str = "val", n_tasks: int | None = None, seed: int | None = None,
                        device: torch.device | str = "cpu") -> np.ndarray:
    """Per-task accuracy of ``spec``'s learner before any training (a
    :class:`innerloop.training.RunSpec`, initialised from ``spec.seed``) on the fixed tasks
    of ``split`` of ``store``: by default the run's validation tasks (``spec.val_tasks``
    tasks seeded by ``spec.val_seed``), so it compares with the run's validation curve."""
    from innerloop.training import build_run

    device = torch.device(device)
    learner = build_run(spec, store.image_shape, len(store.classes)).to(device)
    tasks = fixed_tasks(store, split, spec.ways, spec.shots, spec.queries,
                        seed=spec.val_seed if seed is None else seed, n=spec.val_tasks if n_tasks is None else n_tasks)
    return evaluate(learner, tasks, device)
