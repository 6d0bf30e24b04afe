"""Meta-learners, selectable by their config name, all on the one inner-loop engine."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.maml import MAML
from innerloop.algorithms.metasgd import MetaSGD
from innerloop.models import Params


def _registered() -> tuple[type[MetaLearner], ...]:
    """Every learner class of this package's modules that states its own ``name``, by ``order``."""
    learners = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        learners += [cls for cls in vars(loaded).values()
                     if isinstance(cls, type) and issubclass(cls, MetaLearner) and cls is not MetaLearner
                     and cls.__module__ == loaded.__name__ and "name" in vars(cls)]
    return tuple(sorted(learners, key=lambda cls: cls.order))


#: Every learner, in the order tables list them (within each family, see innerloop.stats.order):
#: a new learner is registered by its own module, with nothing to add here.
LEARNERS: tuple[type[MetaLearner], ...] = _registered()

# The tables below are read off the learners' declarations (innerloop/algorithms/base.py).
#: Config name -> learner class.
ALGORITHMS: dict[str, type[MetaLearner]] = {cls.name: cls for cls in LEARNERS}
#: Human-readable names, for figures and tables (in the order tables list them).
DISPLAY_NAMES: dict[str, str] = {cls.name: cls.label for cls in LEARNERS}
#: Algorithms whose learned per-element inner learning rates feed Table 1 and Fig. 6.
LEARNS_RATES: frozenset[str] = frozenset(cls.name for cls in LEARNERS if cls.learns_rates)


def build_learner(
    name: str,
    options: dict[str, Any],
    *,
    model: nn.Module,
    init: Params,
    inner_steps: int,
    generator: torch.Generator,
    n_classes: int = 0,
) -> MetaLearner:
    """The learner called ``name`` with its config ``options`` (see config/schema.yaml).

    ``clip_grad_norm``, an option of every algorithm, is taken here rather than by each
    constructor: it sets :attr:`MetaLearner.clip_grad_norm`.
    """
    options = dict(options)
    clip = options.pop("clip_grad_norm", None)
    if clip is not None and not clip > 0:
        raise ValueError(f"{name}: clip_grad_norm must be positive or null, got {clip!r}")
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown algorithm {name!r}; known: {sorted(ALGORITHMS)}") from None
    learner = cls.from_config(options, model=model, init=init, inner_steps=inner_steps, generator=generator,
                              n_classes=n_classes)
    learner.clip_grad_norm = clip
    return learner


__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "LEARNERS", "LEARNS_RATES", "MAML", "MetaLearner", "MetaSGD", "build_learner"]
