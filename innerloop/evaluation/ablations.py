"""Ablations of the study's open questions.

* **Learned-rate signs** (:func:`with_rate_variant`, :func:`rate_ablation_probe`): the
  feature probe of a trained Meta-SGD run with its learned rates as trained, with the
  negative rates set to zero (``zero_negative``) and with their sign flipped
  (``flip_negative``), on the same probe tasks; a Meta-SGD run trained with
  positive-constrained rates (``positive: true``) is the training-time ablation.
* **Test-time procedure** (:func:`procedure_accuracies`): meta-test accuracy on the same
  fixed tasks

  - ``none``: the meta-initialisation, not adapted (its own head);
  - ``task``: adapted to the task's support set (the usual meta-test);
  - ``other_task``: adapted to a *different* task's support set (task ``n + i`` of the
    same fixed sequence for test task ``i``), then scored on task ``i``'s query set with
    the adapted body and the meta-initialisation's head. The adapted head is discarded
    because its outputs belong to the other task's classes, whose assignment to output
    units is arbitrary; with the meta-initialisation's head, ``other_task`` minus
    ``none`` is the effect of adapting the body to the wrong task (zero for learners that
    adapt only the head: ANIL, ProtoNet, the transfer baselines).
* **Convergence grid** (:func:`convergence_grid`): short meta-training runs of MAML
  (inner rate alpha and outer SGD rate beta fixed) and Alpha-MAML (both adapted by
  hypergradient descent, started at the same alpha and beta) over a grid of initial
  rates; :func:`iterations_to_threshold` reads off the iteration at which the smoothed
  training loss first falls below a threshold, or that it never did, or diverged.

The tables and paired comparisons of these results are in :mod:`innerloop.stats.ablations`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner, MetaSGD, build_learner
from innerloop.data.sampler import TaskSampler
from innerloop.evaluation.probe import feature_probe
from innerloop.models import is_head
from innerloop.training import build_run, outer_step

RATE_VARIANTS = ("as_trained", "zero_negative", "flip_negative")
TEST_TIME_PROCEDURES = ("none", "task", "other_task")
CONVERGENCE_METHODS = ("maml", "alpha_maml")
CONVERGENCE_STATUSES = ("reached", "not_reached", "diverged")


# -- learned-rate signs ----------------------------------------------------------------------
def with_rate_variant(learner: MetaLearner, variant: str) -> MetaLearner:
    """A copy of a trained Meta-SGD ``learner`` whose negative learned rates are left as
    trained, set to zero, or sign-flipped; positive rates, the meta-initialisation and
    ``learner`` itself are untouched."""
    if variant not in RATE_VARIANTS:
        raise ValueError(f"unknown rate variant {variant!r}; known: {list(RATE_VARIANTS)}")
    if not isinstance(learner, MetaSGD):
        raise ValueError(f"rate variants need a Meta-SGD learner, got {learner.name!r}")
    if learner.positive:
        raise ValueError("rate variants need unconstrained rates; this Meta-SGD has positive: true")
    out = copy.deepcopy(learner)
    with torch.no_grad():
        for rate in out.extra["lr"].values():
            negative = rate < 0
            if variant == "zero_negative":
                rate[negative] = 0.0
            elif variant == "flip_negative":
                rate[negative] = -rate[negative]
    return out


def rate_ablation_probe(learner: MetaLearner, sampler: TaskSampler, iterations: int, device: torch.device, *,
                        steps: int | None = None, centroid_shots: int = 1, progress: bool = False) -> pd.DataFrame:
    """The feature probe (same tasks for every variant) of each rate variant; the probe's
    columns plus ``variant`` and ``fraction_negative`` (of the rates the variant used)."""
    frames = []
    for variant in RATE_VARIANTS:
        varied = with_rate_variant(learner, variant)
        rates = torch.cat([r.detach().flatten() for r in varied.learning_rates().values()])
        probe = feature_probe(varied, sampler, iterations, device, steps=steps, centroid_shots=centroid_shots,
                              progress=progress)
        probe.insert(0, "variant", variant)
        probe["fraction_negative"] = float((rates < 0).float().mean())
        frames.append(probe)
    return pd.concat(frames, ignore_index=True)


# -- test-time procedures --------------------------------------------------------------------
def _accuracy(learner: MetaLearner, params, task) -> float:
    with torch.no_grad():
        return learner.metric(learner.predict(params, task.query_x), task.query_y).item()


def procedure_accuracies(learner: MetaLearner, sampler: TaskSampler, n_tasks: int, device: torch.device, *,
                         steps: int | None = None) -> pd.DataFrame:
    """Query accuracy of test tasks ``0..n_tasks-1`` under each procedure of
    :data:`TEST_TIME_PROCEDURES` (see the module docstring); one row per (task, procedure)
    with the other task's index for ``other_task``."""
    init = {n: p.detach() for n, p in learner.init.items()}
    rows = []
    for i in range(n_tasks):
        task, other = sampler.task(i).to(device), sampler.task(n_tasks + i).to(device)
        adapted = learner.adapt(task.support_x, task.support_y, steps=steps, meta_gradient=False)
        moved = learner.adapt(other.support_x, other.support_y, steps=steps, meta_gradient=False)
        body_moved = {n: (init[n] if is_head(n) else p) for n, p in moved.items()}
        rows += [{"task": i, "procedure": "none", "support_task": -1, "accuracy": _accuracy(learner, init, task)},
                 {"task": i, "procedure": "task", "support_task": i, "accuracy": _accuracy(learner, adapted, task)},
                 {"task": i, "procedure": "other_task", "support_task": n_tasks + i,
                  "accuracy": _accuracy(learner, body_moved, task)}]
    return pd.DataFrame(rows)


# -- convergence grid ------------------------------------------------------------------------
def iterations_to_threshold(losses, threshold: float, window: int = 1) -> tuple[int | None, str]:
    """The first (1-based) iteration at which the trailing mean of the last ``window``
    losses (fewer at the start) is below ``threshold``, and the status: ``reached``;
    ``diverged`` when a non-finite loss comes first; ``not_reached`` otherwise."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    x = np.asarray(losses, dtype=float)
    for i in range(x.size):
        if not math.isfinite(x[i]):
            return None, "diverged"
        if x[max(0, i - window + 1):i + 1].mean() < threshold:
            return i + 1, "reached"
    return None, "not_reached"


def loss_curve(learner: MetaLearner, sampler: TaskSampler, *, iterations: int, meta_batch: int, outer_lr: float,
               device: torch.device) -> pd.DataFrame:
    """Meta-train ``learner`` for up to ``iterations`` outer steps of
    :func:`innerloop.training.outer_step` (as :func:`innerloop.training.fit`, without
    validation or checkpoints) and return its per-iteration log (iteration, loss, accuracy,
    the learner's log values). Stops after the first non-finite loss, which is logged."""
    optimiser = learner.make_optimiser(outer_lr)
    rows = []
    for iteration in range(iterations):
        loss, accuracy = outer_step(learner, optimiser, sampler, iteration, meta_batch, device)
        rows.append({"iteration": iteration + 1, "loss": loss, "accuracy": accuracy, **learner.log_values()})
        if not math.isfinite(loss) or not all(math.isfinite(v) for v in learner.log_values().values()):
            break
    return pd.DataFrame(rows)


def convergence_grid(spec, store, *, alphas: Sequence[float], betas: Sequence[float], threshold: float,
                     window: int, alpha_hyperlr: float, beta_hyperlr: float, device: torch.device,
                     methods: Sequence[str] = CONVERGENCE_METHODS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Short runs of ``spec`` (a :class:`~innerloop.runs.RunSpec`: setting, seed, model
    size, iterations, meta-batch, inner steps) for every method, initial alpha and initial
    beta. ``maml`` is Alpha-MAML with both hyper-learning rates zero (alpha and beta
    fixed: MAML with plain SGD outer updates); ``alpha_maml`` adapts both. Returns the grid
    (method, alpha0, beta0, status, iterations to threshold, final smoothed loss) and the
    per-iteration logs."""
    unknown = set(methods) - set(CONVERGENCE_METHODS)
    if unknown:
        raise ValueError(f"unknown convergence-grid methods {sorted(unknown)}; known: {list(CONVERGENCE_METHODS)}")
    grid, logs = [], []
    for method in methods:
        hyper = (0.0, 0.0) if method == "maml" else (alpha_hyperlr, beta_hyperlr)
        for alpha in alphas:
            for beta in betas:
                options = {"inner_lr": float(alpha), "outer_lr": float(beta), "alpha_hyperlr": hyper[0],
                           "beta_hyperlr": hyper[1]}
                cell = replace(spec, algorithm="alpha_maml", options=options)
                learner = build_run(cell, store.image_shape, len(store.classes)).to(device)
                sampler = TaskSampler(store, "train", cell.ways, cell.shots, cell.queries, seed=cell.seed)
                log = loss_curve(learner, sampler, iterations=cell.iterations, meta_batch=cell.meta_batch,
                                 outer_lr=beta, device=device)
                reached, status = iterations_to_threshold(log["loss"], threshold, window)
                finite = log["loss"][np.isfinite(log["loss"])]
                grid.append({"method": method, "alpha0": float(alpha), "beta0": float(beta), "status": status,
                             "iterations_to_threshold": reached, "iterations_run": len(log),
                             "final_loss": float(finite.tail(window).mean()) if len(finite) else np.nan,
                             "threshold": threshold, "window": window})
                logs.append(log.assign(method=method, alpha0=float(alpha), beta0=float(beta)))
    grid = pd.DataFrame(grid)
    grid["iterations_to_threshold"] = grid["iterations_to_threshold"].astype("Int64")
    log_columns = ["method", "alpha0", "beta0", "iteration", "loss", "accuracy", "alpha", "beta"]
    return grid, pd.concat(logs, ignore_index=True)[log_columns]
