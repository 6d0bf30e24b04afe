"""Meta-learners, selectable by their config name, all on the one inner-loop engine."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from innerloop.algorithms.alpha_maml import AlphaMAML
from innerloop.algorithms.anil import ANIL, BOIL
from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.lstm_meta import LSTMMetaLearner, LSTMMetaLearnerPlus
from innerloop.algorithms.maml import MAML, FOMAML, FiniteDifferenceMAML, NegativeMAML
from innerloop.algorithms.metasgd import MetaSGD
from innerloop.algorithms.multitask import Multitask
from innerloop.algorithms.protonet import ProtoNet
from innerloop.algorithms.transfer import BaselinePlusPlus, Finetuning, TrainFromScratch
from innerloop.algorithms.reptile import Reptile
from innerloop.algorithms.turtle import FOTurtle, Turtle
from innerloop.models import Params

#: Config name -> learner class.
ALGORITHMS: dict[str, type[MetaLearner]] = {
    cls.name: cls
    for cls in (
        MAML, FOMAML, FiniteDifferenceMAML, MetaSGD, NegativeMAML, ANIL, BOIL, Multitask,
        ProtoNet, TrainFromScratch, Finetuning, BaselinePlusPlus,
        AlphaMAML, Reptile,
        LSTMMetaLearner, LSTMMetaLearnerPlus, Turtle, FOTurtle,
    )
}

#: Human-readable names, for figures and tables (in the order tables list them).
DISPLAY_NAMES = {
    "maml": "MAML",
    "fomaml": "FO-MAML",
    "maml_fd": "MAML (FD Hessian)",
    "metasgd": "Meta-SGD",
    "alpha_maml": "Alpha-MAML",
    "negmaml": "MAML, negative inner lr",
    "anil": "ANIL",
    "boil": "BOIL",
    "multitask": "Multi-task",
    "protonet": "ProtoNet",
    "scratch": "TrainFromScratch",
    "finetune": "Finetuning",
    "baselinepp": "Baseline++",
    "lstm_meta": "Meta-learner LSTM",
    "lstm_meta_plus": "Meta-learner LSTM (enhanced)",
    "turtle": "TURTLE",
    "fo_turtle": "FO-TURTLE",
    "reptile": "Reptile",
}

#: Algorithms whose learned per-element inner learning rates feed Table 1 and Fig. 6.
LEARNS_RATES = {"metasgd", "alpha_maml", "turtle", "fo_turtle"}


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


__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "LEARNS_RATES", "MAML", "MetaLearner", "MetaSGD", "build_learner"]
