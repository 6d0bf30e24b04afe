"""The transfer-learning baselines of Chen et al. (2019), as compared in Huisman's Table 3.1.

All three fine-tune on each test task's support set with full-batch SGD through the
inner-loop engine, ``finetune_steps`` steps at ``finetune_lr`` (``eval_steps`` =
``finetune_steps``)::

    phi_{k+1} = phi_k - finetune_lr * grad_phi L_support(phi_k)

They differ in where ``phi_0`` comes from and which tensors ``phi`` are:

* ``scratch`` ("TrainFromScratch"): nothing is trained before the test tasks
  (``meta_trained = False``: the outer loop runs no iteration); every parameter of
  Conv4 is fine-tuned from the run's random initialisation (from the seed).
* ``finetune`` (Chen's "Baseline", Huisman's "Finetuning"): the Conv4 body is
  pre-trained with a linear classifier over the ``n_classes`` classes of the meta-training
  split (extra group ``pretrain``: ``weight`` (n_classes, d), ``bias`` (n_classes,)) by
  cross-entropy on ordinary mini-batches of the meta-training images under their class's
  index among the training classes (:class:`innerloop.data.sampler.ClassBatchSampler`)::

      L_pre = CE( W f(x) + b, class(x) )

  At meta-test the body is frozen and a new linear head (Conv4's own head from the seed's
  initialisation, never trained) is fine-tuned on the support set's embeddings.
* ``baselinepp`` (Chen's "Baseline++"): the same with a cosine-similarity classifier,
  for pre-training and for the fine-tuned head alike::

      logits_c = temperature * cos(f(x), w_c) = temperature * (f / ||f||) . (w_c / ||w_c||)

  (no bias; Chen's code additionally learns a norm per class through WeightNorm, the
  paper's text and this module use the plain cosine.)

The pre-training is Chen et al.'s schedule, not the meta-learners': ``epochs`` passes over
the training images in mini-batches of ``batch_size`` (Chen et al.: 400 epochs of 16),
Adam at the run's ``outer_lr`` (Chen: 1e-3), validated once per epoch with the meta-test
protocol on the validation tasks (:meth:`Finetuning.training_data` turns the run's spec into
that schedule for the outer loop). Training-time adaptation is not used. The fine-tuning of
the transfer baselines never passes a gradient to the body (its features are computed once
per task, without a graph).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from innerloop.algorithms.base import MetaLearner
from innerloop.algorithms.engine import StepContext
from innerloop.models import Params, embed, is_head

if TYPE_CHECKING:
    from innerloop.data.sampler import Batch


def _check_finetuning(name: str, finetune_steps: int, finetune_lr: float) -> None:
    if not isinstance(finetune_steps, int) or finetune_steps < 1:
        raise ValueError(f"{name}: finetune_steps must be a positive integer, got {finetune_steps!r}")
    if not finetune_lr > 0:
        raise ValueError(f"{name}: finetune_lr must be positive, got {finetune_lr!r}")


def cosine_logits(features: torch.Tensor, weight: torch.Tensor, temperature: float) -> torch.Tensor:
    """``temperature * cos(f, w_c)`` for every row ``f`` of ``features`` and row ``w_c`` of ``weight``."""
    return temperature * F.normalize(features, dim=1) @ F.normalize(weight, dim=1).T


class _SGDFinetuning(MetaLearner):
    """Full-batch SGD at ``finetune_lr`` for ``finetune_steps`` steps (the evaluation-time adaptation)."""

    def __init__(self, model: nn.Module, init: Params, *, finetune_steps: int, finetune_lr: float):
        _check_finetuning(self.name, finetune_steps, finetune_lr)
        super().__init__(model, init, inner_steps=finetune_steps, second_order=False)
        self.finetune_lr = finetune_lr
        self.eval_steps = finetune_steps

    def step(self, name: str, param: torch.Tensor, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return param - self.finetune_lr * grad


class TrainFromScratch(_SGDFinetuning):
    name = "scratch"
    label = "TrainFromScratch"
    order = 110
    family = "transfer"
    color = "#7f7f7f"
    meta_trained = False

    @dataclasses.dataclass(frozen=True)
    class Options:
        finetune_steps: int = 50
        finetune_lr: float = 0.1

    def __init__(self, model: nn.Module, init: Params, *, inner_steps: int = 0,
                 finetune_steps: int = Options.finetune_steps, finetune_lr: float = Options.finetune_lr):
        super().__init__(model, init, finetune_steps=finetune_steps, finetune_lr=finetune_lr)


class Finetuning(_SGDFinetuning):
    """Chen's Baseline: pre-train body + linear classifier, fine-tune a new linear head."""

    name = "finetune"
    label = "Finetuning"
    order = 120
    family = "transfer"
    color = "#c49c94"

    @dataclasses.dataclass(frozen=True)
    class Options:
        finetune_steps: int = 50
        finetune_lr: float = 0.1
        epochs: int = 400
        batch_size: int = 16
        validations_per_epoch: int = 1

    def __init__(self, model: nn.Module, init: Params, *, pretrain: Params, inner_steps: int = 0,
                 finetune_steps: int = Options.finetune_steps, finetune_lr: float = Options.finetune_lr,
                 epochs: int = Options.epochs, batch_size: int = Options.batch_size,
                 validations_per_epoch: int = Options.validations_per_epoch):
        super().__init__(model, init, finetune_steps=finetune_steps, finetune_lr=finetune_lr)
        for key, value in (("epochs", epochs), ("batch_size", batch_size),
                           ("validations_per_epoch", validations_per_epoch)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{self.name}: {key} must be a positive integer, got {value!r}")
        self.epochs = epochs
        self.batch_size = batch_size
        self.validations_per_epoch = validations_per_epoch
        self.extra["pretrain"] = {n: t.detach().clone().requires_grad_(True) for n, t in pretrain.items()}

    @classmethod
    def pretrain_head(cls, n_classes: int, embedding: int, generator: torch.Generator, **options) -> Params:
        """The pre-training classifier's initialisation: Xavier-uniform weight, zero bias."""
        weight = torch.empty(n_classes, embedding)
        nn.init.xavier_uniform_(weight, generator=generator)
        return {"weight": weight, "bias": torch.zeros(n_classes)}

    @classmethod
    def from_config(cls, options: dict, *, model: nn.Module, init: Params, inner_steps: int,
                    generator: torch.Generator, n_classes: int = 0):
        if n_classes < 1:
            raise ValueError(f"{cls.name} pre-trains a classifier over the training classes: "
                             f"n_classes must be positive, got {n_classes}")
        options = cls.with_defaults(options)
        embedding = init["head.weight"].shape[1]
        pretrain = cls.pretrain_head(n_classes, embedding, generator, **options)
        return cls(model, init, inner_steps=inner_steps, pretrain=pretrain, **options)

    # -- the classifier on top of the body -----------------------------------------------
    def head_logits(self, head: Params, features: torch.Tensor) -> torch.Tensor:
        """Logits of a linear classifier ``{"weight", "bias"}`` on ``features``."""
        return F.linear(features, head["weight"], head["bias"])

    def predict(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        head = {"weight": params["head.weight"], "bias": params["head.bias"]}
        return self.head_logits(head, embed(self.model, params, x))

    def adapts(self, name: str) -> bool:
        return is_head(name)

    # -- meta-test: the new head on the frozen body --------------------------------------
    #: The head is fine-tuned at evaluation only; nothing is learned through it.
    meta_gradient_through_adaptation = False
    no_batched_adaptation = "its adaptation fine-tunes a new head on the frozen body's features, task by task"

    def support_loss(self, x: torch.Tensor, y: torch.Tensor):
        """``params -> L_support`` of the head alone on the support set's features: the body
        does not adapt, so its features are computed once, at the first call (the
        evaluation-time adaptation fine-tunes a new head of ``params`` on the frozen body;
        ``steps`` defaults to ``finetune_steps``)."""
        features = None

        def loss(params: Params) -> torch.Tensor:
            nonlocal features
            if features is None:
                with torch.no_grad():
                    features = embed(self.model, params, x)
            return self.loss(self.head_logits({"weight": params["head.weight"], "bias": params["head.bias"]},
                                              features), y)

        return loss

    # -- meta-training: pre-training on the global labels --------------------------------
    def training_data(self, store, spec):
        """Ordinary mini-batches of the training split, and ``spec`` turned into Chen et al.'s
        schedule: one mini-batch per outer iteration, ``epochs`` epochs, a checkpoint once per
        epoch and ``validations_per_epoch`` validations per epoch (the plateau rule decides after
        window + patience validations)."""
        from innerloop.data.sampler import ClassBatchSampler

        batches = ClassBatchSampler(store, "train", self.batch_size, seed=spec.seed)
        per_epoch = batches.batches_per_epoch
        return batches, dataclasses.replace(spec, meta_batch=1, iterations=self.epochs * per_epoch,
                                            val_every=max(1, per_epoch // self.validations_per_epoch),
                                            checkpoint_every=per_epoch)

    def outer_loss(self, batch: "Batch") -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy of the pre-training classifier on a labelled batch (labels over the
        training classes), and its accuracy (detached)."""
        output = self.head_logits(self.extra["pretrain"], embed(self.model, self.init, batch.x))
        return self.loss(output, batch.y), self.metric(output, batch.y)


class BaselinePlusPlus(Finetuning):
    """Chen's Baseline++: Finetuning with cosine-similarity classifiers."""

    name = "baselinepp"
    label = "Baseline++"
    order = 130
    family = "transfer"
    color = "#e377c2"

    @dataclasses.dataclass(frozen=True)
    class Options(Finetuning.Options):
        temperature: float = 10.0

    def __init__(self, model: nn.Module, init: Params, *, pretrain: Params, inner_steps: int = 0,
                 finetune_steps: int = Options.finetune_steps, finetune_lr: float = Options.finetune_lr,
                 epochs: int = Options.epochs, batch_size: int = Options.batch_size,
                 validations_per_epoch: int = Options.validations_per_epoch,
                 temperature: float = Options.temperature):
        if not temperature > 0:
            raise ValueError(f"baselinepp: temperature must be positive, got {temperature!r}")
        super().__init__(model, init, pretrain=pretrain, inner_steps=inner_steps, finetune_steps=finetune_steps,
                         finetune_lr=finetune_lr, epochs=epochs, batch_size=batch_size,
                         validations_per_epoch=validations_per_epoch)
        self.temperature = temperature

    @classmethod
    def pretrain_head(cls, n_classes: int, embedding: int, generator: torch.Generator, **options) -> Params:
        """The cosine classifier's initial class vectors (Xavier-uniform; no bias)."""
        weight = torch.empty(n_classes, embedding)
        nn.init.xavier_uniform_(weight, generator=generator)
        return {"weight": weight}

    def head_logits(self, head: Params, features: torch.Tensor) -> torch.Tensor:
        return cosine_logits(features, head["weight"], self.temperature)

    def adapts(self, name: str) -> bool:
        return name == "head.weight"  # the cosine head has no bias
