"""Every analysis of one trained run on one dataset, computed in one job.

A run is meta-tested, scored untrained, probed, compared by CKA and scored under the
test-time procedures, all on the same fixed tasks of the meta-test split. Computed job by
job, each analysis paid for its own interpreter, torch import, store and model, which on
the CPU cost as much as a small analysis itself; :func:`evaluate_run` loads them once and
runs the analyses asked for, in the order of :data:`ANALYSES`. No analysis changes the
learner or the sampler (tasks are drawn by index), so each table is the one a job of its own
would write (tests/unit/test_evaluation_run.py).

Each analysis is a function of the loaded run (:class:`LoadedRun`) and the evaluation's
settings (:class:`Settings`). A run that diverged in training gets NaN in place of every
score of the trained network (the marked tables of :mod:`innerloop.divergence` for the
meta-test and the probe), never numbers computed from NaN weights; its untrained reference
does not depend on the training and is computed as for any run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner
from innerloop.data.sampler import TaskSampler
from innerloop.data.store import Store, load_store
from innerloop.divergence import diverged_meta_test, diverged_probe, is_diverged, read_status
from innerloop.evaluation.ablations import TEST_TIME_PROCEDURES, procedure_accuracies
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.evaluation.probe import feature_probe
from innerloop.evaluation.reference import untrained_reference
from innerloop.evaluation.representations import LAYERS, representation_change
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the analyses of a run are computed on: the fixed task set's ``seed``, the
    adaptation ``inner_steps`` (None: each learner's own) and each analysis's size."""

    seed: int
    inner_steps: int | None = None
    meta_test_tasks: int = 200
    probe_iterations: int = 100
    centroid_shots: int = 1
    cka_tasks: int = 20
    test_time_tasks: int = 40


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """A trained run on ``device``: its learner, spec, the store it is evaluated on and the
    fixed task sampler of its setting on that store's meta-test split."""

    learner: MetaLearner
    spec: RunSpec
    store: Store
    sampler: TaskSampler
    device: torch.device
    diverged: bool


def _meta_test(run: LoadedRun, settings: Settings) -> pd.DataFrame:
    n = settings.meta_test_tasks
    if run.diverged:
        return diverged_meta_test(n)
    accuracy = evaluate(run.learner, (run.sampler.task(i) for i in range(n)), run.device, steps=settings.inner_steps)
    return pd.DataFrame({"task": range(n), "accuracy": accuracy})


def _untrained_reference(run: LoadedRun, settings: Settings) -> pd.DataFrame:
    n = settings.meta_test_tasks
    accuracy = untrained_reference(run.spec, run.store, (run.sampler.task(i) for i in range(n)), run.device,
                                   steps=settings.inner_steps)
    return pd.DataFrame({"task": range(n), "accuracy": accuracy})


def _probe(run: LoadedRun, settings: Settings) -> pd.DataFrame:
    if run.diverged:
        return diverged_probe(settings.probe_iterations)
    return feature_probe(run.learner, run.sampler, settings.probe_iterations, run.device,
                         steps=settings.inner_steps, centroid_shots=settings.centroid_shots)


def _cka(run: LoadedRun, settings: Settings) -> pd.DataFrame:
    if run.diverged:
        return pd.DataFrame([{"task": i, "split": split, "layer": layer, "cka": np.nan} for i in range(settings.cka_tasks)
                             for split in ("on_task", "off_task") for layer in LAYERS])
    return representation_change(run.learner, run.sampler, settings.cka_tasks, run.device, steps=settings.inner_steps)


def _test_time(run: LoadedRun, settings: Settings) -> pd.DataFrame:
    if run.diverged:
        n = settings.test_time_tasks
        support = {"none": lambda i: -1, "task": lambda i: i, "other_task": lambda i: n + i}
        return pd.DataFrame([{"task": i, "procedure": procedure, "support_task": support[procedure](i),
                              "accuracy": np.nan} for i in range(n) for procedure in TEST_TIME_PROCEDURES])
    return procedure_accuracies(run.learner, run.sampler, settings.test_time_tasks, run.device,
                                steps=settings.inner_steps)


#: Analysis name (the workflow's output key) -> the function computing its table.
ANALYSES: dict[str, Callable[[LoadedRun, Settings], pd.DataFrame]] = {
    "meta_test": _meta_test,
    "untrained_reference": _untrained_reference,
    "probe": _probe,
    "cka": _cka,
    "test_time": _test_time,
}
#: Columns of the table of seconds :func:`evaluate_run` returns beside the analyses: the dataset
#: the run was evaluated on, and each analysis's seconds (the job puts the run's identity in
#: front of it, as of every table: innerloop.runs.RunId.tag).
SECONDS_COLUMNS = ["evaluated_on", "analysis", "seconds", "cpu_seconds"]


def load_run(model_path: Path | str, store_path: Path | str, seed: int, device: torch.device) -> LoadedRun:
    """The run of ``model_path`` on ``device``, to be evaluated on the store at ``store_path``
    (the dataset it trained on, or a cross-domain one, whose images are converted)."""
    diverged = is_diverged(read_status(model_path))
    learner, spec, sampler = load_for_evaluation(Path(model_path), Path(store_path), split="test", seed=seed,
                                                 device=device)
    return LoadedRun(learner, spec, load_store(Path(store_path)), sampler, device, diverged)


def evaluate_run(run: LoadedRun, settings: Settings, analyses: Iterable[str],
                 log: Callable[[str], None] = lambda message: None) -> dict[str, pd.DataFrame]:
    """``{analysis: table}`` of each of ``analyses`` (names of :data:`ANALYSES`) on ``run``,
    computed in :data:`ANALYSES`' order, and ``"seconds"``: the wall-clock and CPU seconds
    of each (columns :data:`SECONDS_COLUMNS`). ``log`` gets a line
    per analysis."""
    wanted = list(analyses)
    unknown = sorted(set(wanted) - set(ANALYSES))
    if unknown:
        raise ValueError(f"unknown analyses {unknown}; known: {list(ANALYSES)}")
    evaluated_on = {"evaluated_on": run.store.dataset}
    tables, seconds = {}, []
    for name, compute in ANALYSES.items():
        if name not in wanted:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        tables[name] = compute(run, settings)
        seconds.append({**evaluated_on, "analysis": name, "seconds": time.perf_counter() - wall,
                        "cpu_seconds": time.process_time() - cpu})
        log(f"{name}: {seconds[-1]['seconds']:.1f} s" + (" (the run diverged: NaN)" if run.diverged
                                                           and name != "untrained_reference" else ""))
    tables["seconds"] = pd.DataFrame(seconds, columns=SECONDS_COLUMNS)
    return tables
