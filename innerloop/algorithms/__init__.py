"""Meta-learners, selectable by their config name, all on the one inner-loop engine."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from innerloop.algorithms.anil import ANIL, BOIL
from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.maml import MAML, FOMAML, FiniteDifferenceMAML, NegativeMAML
from innerloop.algorithms.metasgd import MetaSGD
from innerloop.algorithms.multitask import Multitask
from innerloop.models import Params

#: Config name -> learner class.
ALGORITHMS: dict[str, type[MetaLearner]] = {
    cls.name: cls
    for cls in (
        MAML, FOMAML, FiniteDifferenceMAML, MetaSGD, NegativeMAML, ANIL, BOIL, Multitask,
    )
}

#: Human-readable names, for figures and tables (in the order tables list them).
DISPLAY_NAMES = {
    "maml": "MAML",
    "fomaml": "FO-MAML",
    "maml_fd": "MAML (FD Hessian)",
    "metasgd": "Meta-SGD",
    "negmaml": "MAML, negative inner lr",
    "anil": "ANIL",
    "boil": "BOIL",
    "multitask": "Multi-task",
}

#: Algorithms whose learned per-element inner learning rates feed Table 1 and Fig. 6.
LEARNS_RATES = {"metasgd"}


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
    """The learner called ``name`` with its config ``options`` (see config/schema.yaml)."""
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown algorithm {name!r}; known: {sorted(ALGORITHMS)}") from None
    return cls.from_config(options, model=model, init=init, inner_steps=inner_steps, generator=generator,
                           n_classes=n_classes)


__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "LEARNS_RATES", "MAML", "MetaLearner", "MetaSGD", "build_learner"]
