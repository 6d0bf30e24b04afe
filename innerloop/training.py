"""Meta-training: the outer loop, validation, checkpoints that resume exactly, logs.

One run trains one algorithm on one dataset and task setting with one seed. Every random
choice comes from that seed: the initialisation (and learned-rate initialisation) from a
seeded generator, and meta-training task ``i`` of iteration ``t`` is task
``t * meta_batch + i`` of the train sampler, which depends on nothing else. So a run that
is killed and resumed from its checkpoint (meta-parameters, Adam state, logs so far)
ends with the same weights and logs as one that was never interrupted (on CPU; on GPU up
to cuDNN's non-determinism).

``iterations`` is the budget: training stops earlier when the validation scores meet the
plateau rule ``plateau`` (:class:`innerloop.convergence.PlateauRule`). The model saved
and evaluated afterwards is the best-validation one; the checkpoint carries that best
state and the validation log, so the stopping decision of a resumed run is the one an
uninterrupted run makes.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner, build_learner, graphed
from innerloop.checkpoints import load_checked, save_checked
from innerloop.convergence import PlateauRule, higher_is_better, is_better, plateau_reached, run_status
from innerloop.data.sampler import fixed_tasks
from innerloop.data.store import Store
from innerloop.divergence import all_finite, divergence_status, learning_rate_summary
from innerloop.intervals import mean_ci
from innerloop.io import write_csv
from innerloop.models import Conv4, init_params
from innerloop.progress import progress as progress_bar
from innerloop.runs import RunId, RunSpec
from innerloop.scoring import evaluate


def resolve_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; anything else is taken as given."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"config asks for device {requested!r} but CUDA is not available")
    return device


def build_run(spec: RunSpec, image_shape: tuple[int, int, int], n_classes: int = 0) -> MetaLearner:
    """The freshly initialised learner of ``spec`` (on the CPU).

    ``n_classes`` is the number of training classes of the store (the width of the
    pre-training classifier of the transfer baselines).
    """
    channels, height, width = image_shape
    if height != width:
        raise ValueError(f"Conv4 expects square images, got {height}x{width}")
    generator = torch.Generator().manual_seed(spec.seed)
    model = Conv4(in_channels=channels, ways=spec.ways, filters=spec.filters, image_size=height)
    init = init_params(model, generator)
    return build_learner(spec.algorithm, spec.options, model=model, init=init,
                         inner_steps=spec.inner_steps, generator=generator, n_classes=n_classes)


def save_model(path: Path, learner: MetaLearner, spec: RunSpec, image_shape, n_classes: int, status: dict) -> None:
    save_checked({"spec": asdict(spec), "image_shape": list(image_shape), "n_classes": n_classes,
                  "state": learner.state_dict(), "status": status}, path)


def load_model(path: Path, device: torch.device | str = "cpu") -> tuple[MetaLearner, RunSpec, dict]:
    """The trained learner saved by :func:`train`, its spec and its final status."""
    saved = load_checked(path, what="model")
    spec = RunSpec(**saved["spec"])
    learner = build_run(spec, tuple(saved["image_shape"]), saved.get("n_classes", 0))
    learner.load_state_dict(saved["state"])
    learner.input_shape = tuple(saved["image_shape"])
    return learner.to(device), spec, saved["status"]


def load(path: Path | str, device: torch.device | str = "cpu") -> tuple[MetaLearner, RunSpec]:
    """A trained ``model.pt`` (checked against its sha256): the learner on ``device`` and the
    spec it was trained with (``innerloop.load``)."""
    learner, spec, _ = load_model(Path(path), device)
    return learner, spec


class Interrupted(Exception):
    """The run stopped early (signal or ``stop_after``) after writing its checkpoint."""


@contextlib.contextmanager
def _stop_requests():
    """Turn SIGTERM/SIGINT into a flag checked between iterations.

    Stopping only at an iteration boundary keeps the checkpoint consistent: the
    meta-parameters, the optimiser state and the logs always describe the same iteration.
    """
    requested: list[int] = []

    def handler(signum, frame):
        requested.append(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield requested
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)


def train(
    spec: RunSpec,
    store: Store,
    *,
    model_path: Path,
    log_path: Path,
    validation_path: Path,
    checkpoint_path: Path,
    device: torch.device,
    progress: bool = True,
    stop_after: int | None = None,
    run: RunId | None = None,
) -> MetaLearner:
    """Meta-train ``spec`` on ``store``, resuming from ``checkpoint_path`` if it is there.

    Writes the final meta-parameters to ``model_path``, the per-iteration log (iteration,
    loss, accuracy: query loss and accuracy after adaptation, averaged over the
    meta-batch, plus any columns of ``learner.log_values()``) to ``log_path`` and the
    validation accuracy every ``val_every`` iterations to ``validation_path``. The learner
    chooses what the outer loop draws and the schedule it runs (``learner.training_data``:
    the episodes of ``spec`` by default; Chen et al.'s epochs of ordinary mini-batches for
    the transfer baselines). Training stops at the plateau of the validation scores or at
    ``spec.iterations``; the model saved is the best-validation one (see :func:`fit`). A
    learner that is not meta-trained (train from scratch) runs no iteration; its validation
    is measured once. A checkpoint is written every ``checkpoint_every`` iterations and when
    the run is interrupted (SIGTERM, Ctrl-C). ``stop_after`` ends the run early at that
    iteration, as an interruption would (used by the resume test). A run that diverges
    (see :func:`fit`) still writes ``model_path``, with status ``diverged``. ``run``: the
    identity put in front of the logs (:meth:`innerloop.runs.RunId.tag`), none by default.
    """
    n_classes = len(store.class_ids("train"))
    learner = build_run(spec, store.image_shape, n_classes).to(device)
    sampler, schedule = learner.training_data(store, spec)
    val_tasks = fixed_tasks(store, "val", spec.ways, spec.shots, spec.queries, seed=spec.val_seed, n=spec.val_tasks)
    fit(learner, schedule, sampler, val_tasks, log_path=log_path, validation_path=validation_path,
        checkpoint_path=checkpoint_path, device=device, progress=progress, stop_after=stop_after, run=run)
    save_model(model_path, learner, spec, store.image_shape, n_classes, learner.training_status)
    return learner


def outer_step(learner: MetaLearner, optimiser: torch.optim.Optimizer, sampler, iteration: int, meta_batch: int,
               device: torch.device, graph: graphed.GraphedSteps | None = None) -> tuple[float, float]:
    """One outer iteration, one meta-batch: tasks ``sampler.task(iteration * meta_batch + b)``
    for ``b < meta_batch``, their meta-gradients accumulated with weight ``1 / meta_batch``
    (the meta-batch mean), clipped (``learner.clip_grad_norm``) and applied by ``optimiser``.

    Returns the meta-batch's mean query loss and metric. A non-finite loss is returned
    without the update, so the caller sees the divergence before the weights do. With
    ``graph`` (on CUDA) the whole step is one replayed CUDA graph where it could be captured
    (:mod:`innerloop.algorithms.graphed`); the update is then part of the graph, and a
    non-finite loss is seen after it.
    """
    tasks = [sampler.task(iteration * meta_batch + b).to(device) for b in range(meta_batch)]
    step = graph.step_for(tasks) if graph is not None else None
    if step is not None:
        losses, metrics = step(tasks)
    else:
        optimiser.zero_grad(set_to_none=True)
        losses, metrics = learner.accumulate_tasks(tasks, 1 / meta_batch)
    loss_sum = torch.zeros((), device=device)
    metric_sum = torch.zeros((), device=device)
    for loss, metric in zip(losses, metrics):
        loss_sum += loss
        metric_sum += metric
    loss_value = (loss_sum / meta_batch).item()
    if step is None and math.isfinite(loss_value):
        learner.clip_meta_gradient()
        optimiser.step()
    return loss_value, (metric_sum / meta_batch).item()


def fit(
    learner: MetaLearner,
    spec: RunSpec,
    sampler,
    val_tasks: list,
    *,
    log_path: Path,
    validation_path: Path,
    checkpoint_path: Path,
    device: torch.device,
    progress: bool = True,
    stop_after: int | None = None,
    cuda_graph: bool = True,
    run: RunId | None = None,
) -> MetaLearner:
    """The outer loop of ``learner`` (already on ``device``) on tasks ``sampler.task(i)``.

    Meta-training task ``b`` of iteration ``t`` is ``sampler.task(t * meta_batch + b)``;
    validation scores ``learner.metric`` on ``val_tasks``. Resumes from, and writes,
    ``checkpoint_path``; writes the logs at the end (with ``run``'s identity columns in
    front, when given) and leaves a status dict in ``learner.training_status``. Used by
    :func:`train` (images) and by the sine-wave experiments with their own sampler.

    The loop stops after the first validation at which the plateau rule ``spec.plateau``
    holds (:func:`innerloop.convergence.plateau_reached`; lower is better for MSE), or at
    the budget ``spec.iterations``. The learner then holds its best-validation
    meta-parameters (the first of equal scores), and the status says which stop it was
    (:func:`innerloop.convergence.run_status`: ``converged`` or ``budget reached, still
    improving`` with the last window's slope), the iterations trained, the best iteration
    and score, and ``wall_seconds`` summed over every session of the run. The checkpoint
    holds the best state and the validation log, so a resumed run stops where an
    uninterrupted one does.

    A non-finite meta-batch loss, non-finite meta-parameters after an outer update or a
    non-finite validation score stops the loop: the logs hold the iterations before it,
    no checkpoint of the diverged state is written, and the status is ``diverged`` with
    the iteration, the last finite training loss and the learning rates at that point
    (:func:`innerloop.divergence.divergence_status`). The run still returns normally.

    On CUDA, with ``cuda_graph``, each meta-step is one replayed CUDA graph where the step can
    be captured (:class:`innerloop.algorithms.graphed.GraphedSteps`; the job log says whether
    it was and, if not, why); the steps compute what the eager ones do.
    """
    optimiser = learner.make_optimiser(spec.outer_lr)
    iterations = spec.iterations if learner.meta_trained else 0
    metric = learner.metric_name
    rule, higher = PlateauRule.from_config(spec.plateau), higher_is_better(metric)

    log: list[dict] = []
    validation: list[dict] = []
    #: The best-validation state so far: {"iteration", "score", "state"}.
    best: dict | None = None
    start, seconds_before = 0, 0.0
    if checkpoint_path.exists():
        ckpt = load_checked(checkpoint_path, what="checkpoint")
        if ckpt["fingerprint"] == spec.fingerprint():
            learner.load_state_dict(ckpt["state"])
            optimiser.load_state_dict(ckpt["optimiser"])
            start, log, validation = ckpt["iteration"], ckpt["log"], ckpt["validation"]
            best, seconds_before = ckpt["best"], ckpt["seconds"]
            print(f"resuming from {checkpoint_path} at iteration {start}", file=sys.stderr)
        else:
            print(f"{checkpoint_path} belongs to a different configuration; starting afresh", file=sys.stderr)

    def val_scores() -> list[float]:
        return [v[metric] for v in validation]

    # A run checkpointed after it plateaued resumes as finished.
    plateaued = plateau_reached(val_scores(), rule, higher)
    graph = (graphed.GraphedSteps(learner, optimiser, 1 / spec.meta_batch,
                                  log=lambda line: print(line, file=sys.stderr))
             if cuda_graph and torch.device(device).type == "cuda" and learner.meta_trained else None)
    started = time.perf_counter()

    def checkpoint(iteration: int) -> None:
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        save_checked({"fingerprint": spec.fingerprint(), "iteration": iteration,
                      "state": learner.state_dict(), "optimiser": optimiser.state_dict(),
                      "log": log, "validation": validation, "best": best,
                      "seconds": seconds_before + time.perf_counter() - started}, checkpoint_path)

    diverged: dict | None = None

    def diverge(iteration: int, reason: str) -> dict:
        last = log[-1]["loss"] if log else None
        status = divergence_status(iteration, last, learning_rate_summary(learner), reason)
        print(f"{spec.algorithm} seed {spec.seed} diverged at iteration {iteration} ({reason}); last finite "
              f"training loss {status['last_finite_loss']}, learning rates {status['rates']}", file=sys.stderr)
        return status

    bar = progress_bar(total=iterations, initial=start, desc=f"train {spec.algorithm} seed {spec.seed}",
                       disable=not progress)
    with _stop_requests() as stop_signals:
        for iteration in range(start, start if plateaued else iterations):
            if stop_signals or (stop_after is not None and iteration >= stop_after):
                checkpoint(iteration)
                bar.close()
                why = f"signal {stop_signals[0]}" if stop_signals else f"stop_after={stop_after}"
                print(f"stopped by {why} at iteration {iteration}; checkpoint saved to {checkpoint_path}",
                      file=sys.stderr)
                raise Interrupted(f"{spec.algorithm} seed {spec.seed} stopped at iteration {iteration}")
            loss_value, metric_value = outer_step(learner, optimiser, sampler, iteration, spec.meta_batch, device,
                                                  graph)
            if not math.isfinite(loss_value):
                diverged = diverge(iteration + 1, f"training loss {loss_value}")
                break
            if not all_finite(learner.meta_parameters().values()):
                diverged = diverge(iteration + 1, "non-finite meta-parameters after the outer update")
                break
            row = {"iteration": iteration + 1, "loss": loss_value, learner.metric_name: metric_value,
                   **learner.log_values()}
            log.append(row)
            if (iteration + 1) % spec.val_every == 0 or iteration + 1 == iterations:
                scores = evaluate(learner, val_tasks, device)
                if not np.all(np.isfinite(scores)):
                    diverged = diverge(iteration + 1, f"non-finite validation {learner.metric_name}")
                    break
                ci = mean_ci(scores)
                validation.append({"iteration": iteration + 1, metric: ci.mean, "ci95": ci.half_width})
                if is_better(ci.mean, best and best["score"], higher):
                    best = {"iteration": iteration + 1, "score": ci.mean, "state": learner.state_dict()}
                plateaued = plateau_reached(val_scores(), rule, higher)
                bar.set_postfix(loss=f"{row['loss']:.3f}", val=f"{ci.mean:.3f}")
            if (iteration + 1) % spec.checkpoint_every == 0:
                checkpoint(iteration + 1)
            bar.update(1)
            if plateaued:
                break
    bar.close()
    if diverged is None and not validation:  # not meta-trained: the initialisation's validation accuracy
        ci = mean_ci(evaluate(learner, val_tasks, device))
        validation.append({"iteration": 0, metric: ci.mean, "ci95": ci.half_width})
        best = {"iteration": 0, "score": ci.mean, "state": learner.state_dict()}

    trained = log[-1]["iteration"] if log else 0
    if diverged is None:  # a diverged state is not checkpointed: a rerun resumes from the last finite one
        checkpoint(trained)
        learner.load_state_dict(best["state"])  # the best-validation meta-parameters are the model
    elapsed = time.perf_counter() - started
    columns = ["iteration", "loss", metric, *learner.log_values()]
    tag = run.tag if run is not None else lambda table: table
    write_csv(tag(pd.DataFrame(log, columns=columns)), log_path)
    write_csv(tag(pd.DataFrame(validation, columns=["iteration", metric, "ci95"])), validation_path)
    convergence = run_status([v["iteration"] for v in validation], val_scores(), rule,
                             diverged=diverged is not None, higher_is_better=higher)
    learner.training_status = {**convergence, "iterations": trained, "budget": iterations, "metric": metric,
                               "plateau": rule.as_dict(), "wall_seconds": round(seconds_before + elapsed, 3),
                               "device": str(device), "seconds_this_session": round(elapsed, 3),
                               "resumed_from": start, **(diverged or {})}
    return learner
