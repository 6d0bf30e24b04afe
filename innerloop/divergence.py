"""Diverged runs: how a run whose loss or weights became non-finite is recorded and reported.

A run diverges when its meta-training loss, its meta-parameters after an outer update or
its validation score is not finite (NaN or infinite; Alpha-MAML's untuned hypergradient
rates and negmaml's ascending inner loop can get there). The outer loop then stops and
the run's ``model.pt`` carries the status ``diverged`` with the iteration, the last finite
training loss and the learning rates at that point (:func:`divergence_status`), so the
training job still succeeds and the workflow goes on.

Every evaluation of a diverged run writes its usual table with NaN metrics and a
``status`` column ``diverged`` without running the network (:func:`diverged_meta_test`,
:func:`diverged_probe`, :func:`diverged_lr_layers`); statistics drop those rows
(:func:`drop_diverged`) so that means and intervals are over the other runs only, and the
report lists the diverged runs (:func:`diverged_runs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# torch is imported by the functions that need it: the statistics that only mark and drop
# diverged rows run without it.
from innerloop.runs import RunId

DIVERGED = "diverged"
STATUS_COLUMN = "status"
PROBE_COLUMNS = ["pre_adaptation", "pre_adaptation_off", "on_task", "off_task", "on_task_change",
                 "off_task_change"]
LR_LAYER_COLUMNS = ["layer", "mean", "std", "median", "fraction_negative", "n"]
DIVERGED_RUN_COLUMNS = ["run", "dataset", "algorithm", "setting", "seed", "iteration", "last_finite_loss",
                        "rates", "reason"]


def is_diverged(status: dict | None) -> bool:
    """Whether a run status (the ``status`` dict of a ``model.pt``) says the run diverged."""
    return bool(status) and status.get("status") == DIVERGED


def all_finite(tensors) -> bool:
    """Whether every element of every tensor in ``tensors`` is finite.

    Checked through each tensor's sum (a NaN or infinite element makes it non-finite),
    one synchronisation for all tensors; a sum that overflows although every element is
    finite (elements near 1e34) also counts as diverged.
    """
    import torch

    sums = [t.detach().sum() for t in tensors]
    return not sums or bool(torch.isfinite(torch.stack(sums)).all())


def learning_rate_summary(learner) -> dict[str, float]:
    """The learner's learning rates as plain floats: its logged rates (Alpha-MAML's alpha
    and beta) and, for learners with per-element rates (Meta-SGD, TURTLE), their mean,
    minimum and maximum over all elements. Empty for learners with fixed rates."""
    import torch

    summary = {k: float(v) for k, v in learner.log_values().items()}
    rates = learner.learning_rates()
    if rates is not None and not summary:
        flat = torch.cat([t.detach().flatten().double().cpu() for t in rates.values()])
        summary.update(lr_mean=float(flat.mean()), lr_min=float(flat.min()), lr_max=float(flat.max()))
    return summary


def divergence_status(iteration: int, last_finite_loss: float | None, rates: dict[str, float], reason: str) -> dict:
    """The ``status`` entries of a diverged run (merged into the learner's training status)."""
    return {"status": DIVERGED, "diverged_at": int(iteration),
            "last_finite_loss": float("nan") if last_finite_loss is None else float(last_finite_loss),
            "rates": {k: float(v) for k, v in rates.items()}, "reason": reason}


def _marked(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(**{STATUS_COLUMN: DIVERGED})


def diverged_tasks(n_tasks: int, metric: str = "accuracy") -> pd.DataFrame:
    """A diverged run's per-task table (meta-test accuracy, sine MSE): every score NaN."""
    return _marked(pd.DataFrame({"task": np.arange(n_tasks), metric: np.nan}))


def diverged_meta_test(n_tasks: int) -> pd.DataFrame:
    """A diverged run's meta-test table: every task's accuracy NaN."""
    return diverged_tasks(n_tasks, "accuracy")


def diverged_probe(iterations: int) -> pd.DataFrame:
    """A diverged run's feature-probe table: every probe score NaN."""
    return _marked(pd.DataFrame({"iteration": range(iterations), **dict.fromkeys(PROBE_COLUMNS, np.nan)}))


def diverged_rate_probe(iterations: int, variants) -> pd.DataFrame:
    """A diverged run's rate-sign probe table (the probe of each rate variant): every score NaN."""
    frames = [diverged_probe(iterations).assign(fraction_negative=np.nan) for _ in variants]
    for frame, variant in zip(frames, variants):
        frame.insert(0, "variant", variant)
    return pd.concat(frames, ignore_index=True)


def diverged_lr_layers(layers: list[str]) -> pd.DataFrame:
    """A diverged run's per-layer learning-rate table: NaN statistics, no elements."""
    df = pd.DataFrame({"layer": layers, **dict.fromkeys(LR_LAYER_COLUMNS[1:-1], np.nan), "n": 0})
    return _marked(df)


def drop_diverged(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without the rows of diverged runs and without the ``status`` column."""
    if STATUS_COLUMN not in df.columns:
        return df
    kept = df[df[STATUS_COLUMN].astype(str) != DIVERGED]
    return kept.drop(columns=STATUS_COLUMN).reset_index(drop=True)


def read_status(model_path: Path | str) -> dict:
    """The ``status`` dict saved in a trained run's ``model.pt``."""
    from innerloop.checkpoints import load_checked

    return load_checked(Path(model_path), what="model")["status"]


def read_saved(model_path: Path | str) -> tuple[dict, dict]:
    """The identity columns (:meth:`innerloop.runs.RunId.columns`, from the spec the model
    saves) and the ``status`` of a trained run's ``model.pt``."""
    from innerloop.checkpoints import load_checked

    saved = load_checked(Path(model_path), what="model")
    return RunId.from_spec(saved["spec"]).columns(), saved["status"]


def diverged_runs(model_paths) -> pd.DataFrame:
    """One row per diverged run among ``model_paths`` (run directory, identity, iteration
    it diverged at, last finite training loss, its learning rates, why); no rows when
    every run finished (the columns of :data:`DIVERGED_RUN_COLUMNS`)."""
    rows = []
    for path in model_paths:
        identity, status = read_saved(path)
        if not is_diverged(status):
            continue
        rates = ", ".join(f"{k}={v:.4g}" for k, v in status.get("rates", {}).items())
        rows.append({"run": Path(path).parent.as_posix(), **{k: identity[k] for k in ("dataset", "algorithm",
                                                                                        "setting", "seed")},
                     "iteration": status["diverged_at"], "last_finite_loss": status["last_finite_loss"],
                     "rates": rates, "reason": status.get("reason", "")})
    return pd.DataFrame(rows, columns=DIVERGED_RUN_COLUMNS)
