"""Meta-learners, selectable by their config name, all on the one inner-loop engine."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.maml import MAML
from innerloop.algorithms.metasgd import MetaSGD
from innerloop.models import Params

#: Config name -> learner class.
ALGORITHMS: dict[str, type[MetaLearner]] = {
    "maml": MAML,
    "metasgd": MetaSGD,
}

#: Human-readable names, for figures and tables.
DISPLAY_NAMES = {"maml": "MAML", "metasgd": "Meta-SGD"}


def build_learner(
    name: str,
    options: dict[str, Any],
    *,
    model: nn.Module,
    init: Params,
    inner_steps: int,
    generator: torch.Generator,
) -> MetaLearner:
    """The learner called ``name`` with its config ``options`` (see config/schema.yaml)."""
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown algorithm {name!r}; known: {sorted(ALGORITHMS)}") from None
    return cls.from_config(options, model=model, init=init, inner_steps=inner_steps, generator=generator)


__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "MAML", "MetaLearner", "MetaSGD", "build_learner"]
