"""Few-shot sine-wave regression (Finn et al. 2017, Sec. 5.1; Huisman thesis Sec. 3.5).

A learner adapts the 1-40-40-1 ReLU network (:class:`~innerloop.models.MLP`) to the K
support points of a sine wave (:mod:`innerloop.data.sine`) and is scored by the mean
squared error on the query points::

    L_T(theta) = 1/|Q| sum_{(x, y) in Q} (f_theta(x) - y)^2

in the inner loop (support set) and the outer loop (query set) alike: the learner is
built by :func:`innerloop.algorithms.build_learner` and switched to regression
(``learner.regression = True``), so its loss and its metric are the MSE. Meta-training is
:func:`innerloop.training.fit`, the image runs' outer loop, on the sine sampler; a run is
described by a :class:`~innerloop.runs.RunSpec` with ``dataset="sine"``, ``ways=1``,
``queries`` the query points per task and ``filters`` the width of the two hidden layers.

The thesis's two experiments, planned as data in :mod:`innerloop.runs` (the workflow's
rules sine_run and sine_tables run them):

* ``comparison`` (thesis Fig. 3.3): each configured algorithm on K-shot waves, scored on a
  fixed set of test tasks; the figure shows the median MSE over seeds.
* ``turtle_study`` (thesis Fig. 3.2): TURTLE on K-shot waves, first order (``fo_turtle``)
  and second order (``turtle``) x T inner steps x hidden layers of the update network,
  with the learning rates alpha of eq. 3.7 fixed, not learned (``learn_lr: false``,
  ``lr_init: alpha``), and the gradient as the only input of the update network, as in
  the thesis; first- and second-order MAML with the same T are the reference lines.
  Scored on fixed meta-validation tasks, as the thesis's figure is.

  The thesis fixes alpha = 1 with a randomly initialised update network. This
  repository's TURTLE starts its update network as g_phi(grad) = -grad, so alpha = 1 is
  plain gradient descent at rate 1, which diverges on this MLP (support losses reach
  inf within three steps on most tasks at T = 5). ``turtle_study.alpha`` therefore
  defaults to 0.01, MAML's inner learning rate: every TURTLE of the grid starts as its
  MAML reference line, and alpha is still a constant that scales g_phi's output.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner, build_learner
from innerloop.checkpoints import load_checked, save_checked
from innerloop.data.sine import SineSampler, sine_tasks
from innerloop.divergence import diverged_tasks, is_diverged
from innerloop.models import MLP, init_mlp
from innerloop.runs import DATASET, RunSpec
from innerloop.scoring import evaluate
from innerloop.training import fit



# --------------------------------------------------------------------------------------
# One run: build, train, save, load, evaluate
# --------------------------------------------------------------------------------------



def _check_spec(spec: RunSpec) -> None:
    if spec.dataset != DATASET or spec.ways != 1:
        raise ValueError(f"not a sine run: dataset={spec.dataset!r}, ways={spec.ways} (expected 'sine', 1)")


def build_sine_run(spec: RunSpec, *, smooth: bool = False) -> MetaLearner:
    """The freshly initialised regression learner of ``spec`` (on the CPU).

    The MLP (hidden width ``spec.filters``) and every random initialisation of the
    learner come from one generator seeded with ``spec.seed``.
    """
    _check_spec(spec)
    generator = torch.Generator().manual_seed(spec.seed)
    model = MLP(hidden=(spec.filters, spec.filters), smooth=smooth)
    init = init_mlp(model, generator)
    learner = build_learner(spec.algorithm, spec.options, model=model, init=init, inner_steps=spec.inner_steps,
                            generator=generator, n_classes=0)
    learner.regression = True
    return learner


def train_sine(
    spec: RunSpec,
    *,
    model_path: Path,
    log_path: Path,
    validation_path: Path,
    checkpoint_path: Path,
    device: torch.device | str = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
) -> MetaLearner:
    """Meta-train ``spec`` on sine waves (resuming from ``checkpoint_path``); save the model.

    Meta-training task ``i`` is task ``i`` of the ``train`` sampler seeded with
    ``spec.seed``; validation is the mean MSE on the first ``spec.val_tasks`` tasks of the
    ``val`` split seeded with ``spec.val_seed``. The logs (``iteration, loss, mse``; and
    ``iteration, mse, ci95``) are written by :func:`innerloop.training.fit`.
    """
    device = torch.device(device)
    learner = build_sine_run(spec).to(device)
    sampler = SineSampler("train", spec.shots, spec.queries, seed=spec.seed)
    val_tasks = sine_tasks("val", spec.shots, spec.queries, seed=spec.val_seed, n=spec.val_tasks)
    fit(learner, spec, sampler, val_tasks, log_path=log_path, validation_path=validation_path,
        checkpoint_path=checkpoint_path, device=device, progress=progress, stop_after=stop_after)
    save_sine_model(model_path, learner, spec, learner.training_status)
    return learner


def save_sine_model(path: Path, learner: MetaLearner, spec: RunSpec, status: dict) -> None:
    save_checked({"spec": asdict(spec), "state": learner.state_dict(), "status": status}, path)


def load_sine_model(path: Path, device: torch.device | str = "cpu") -> tuple[MetaLearner, RunSpec, dict]:
    """The learner saved by :func:`train_sine`, its spec and its training status."""
    saved = load_checked(path, what="model")
    spec = RunSpec(**saved["spec"])
    learner = build_sine_run(spec)
    learner.load_state_dict(saved["state"])
    return learner.to(device), spec, saved["status"]


def evaluate_sine(learner: MetaLearner, *, split: str = "test", shots: int, queries: int | None, seed: int,
                  n_tasks: int, device: torch.device | str = "cpu", steps: int | None = None) -> np.ndarray:
    """Query MSE after adaptation on each of the first ``n_tasks`` tasks of ``split`` (seed
    ``seed``): the same fixed tasks for every algorithm and run. ``steps`` None: the
    learner's ``eval_steps``."""
    if not learner.regression:
        raise ValueError("evaluate_sine needs a regression learner (learner.regression = True)")
    tasks = SineSampler(split, shots, queries, seed).tasks(n_tasks)
    return evaluate(learner, tasks, torch.device(device), steps=steps)




def score_run(learner: MetaLearner, identity: dict[str, Any], evaluation: dict[str, Any],
              device: torch.device | str = "cpu") -> pd.DataFrame:
    """One row per fixed evaluation task: the run's ``identity`` columns, ``task``, ``mse``.

    A run that diverged in training is not evaluated: its MSEs are NaN and a ``status``
    column says ``diverged`` (:mod:`innerloop.divergence`)."""
    if is_diverged(getattr(learner, "training_status", None)):
        table = diverged_tasks(evaluation["n_tasks"], "mse")
    else:
        mse = evaluate_sine(learner, device=device, **evaluation)
        table = pd.DataFrame({"task": np.arange(len(mse)), "mse": mse})
    for i, (key, value) in enumerate(identity.items()):
        table.insert(i, key, pd.NA if value is None else value)
    return table
