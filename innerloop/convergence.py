"""Convergence as a result: the plateau rule on a run's validation log, and the run's status.

A run is validated every ``val_every`` iterations. The plateau rule looks at the moving
average of the last ``window`` validation scores: the run has *plateaued* when that moving
average has not improved on its best earlier value by more than ``delta`` for ``patience``
consecutive validations. Training stops there, or at its budget of iterations, whichever
comes first; the model that is evaluated afterwards is the best-validation one.

Every run then has exactly one status (:data:`STATUSES`):

- ``converged``: the plateau rule was met (at or before the budget);
- ``budget reached, still improving``: the budget ran out first; the least-squares slope
  of the last window's scores per 1,000 iterations says how fast it was still improving;
- ``diverged``: its loss, weights or validation score became non-finite
  (:mod:`innerloop.divergence`).

A learner that is not meta-trained (train from scratch) has nothing to converge: its
validation log holds the initialisation's score alone (iteration 0), and its status is
``not meta-trained``.

Scores are "higher is better" (accuracy) unless ``higher_is_better=False`` (sine MSE).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

CONVERGED = "converged"
STILL_IMPROVING = "budget reached, still improving"
DIVERGED = "diverged"
NOT_META_TRAINED = "not meta-trained"
STATUSES = (CONVERGED, STILL_IMPROVING, DIVERGED, NOT_META_TRAINED)
#: Validation metrics for which lower is better (the sine runs' mean squared error).
LOWER_IS_BETTER = frozenset({"mse"})


def higher_is_better(metric_name: str) -> bool:
    """Whether a larger value of validation metric ``metric_name`` is better (accuracy: yes; mse: no)."""
    return metric_name not in LOWER_IS_BETTER


@dataclass(frozen=True)
class PlateauRule:
    """Stop when the moving average of the last ``window`` validation scores has not
    improved by more than ``delta`` (in the score's units) for ``patience`` validations."""

    window: int = 3
    delta: float = 0.005
    patience: int = 3

    def __post_init__(self):
        if self.window < 1 or self.patience < 1:
            raise ValueError(f"plateau window and patience must be >= 1, got {self.window} and {self.patience}")
        if not np.isfinite(self.delta) or self.delta < 0:
            raise ValueError(f"plateau delta must be a finite number >= 0, got {self.delta}")

    @classmethod
    def from_config(cls, config: dict | None) -> "PlateauRule":
        return cls(**(config or {}))

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self, unit: str = "percentage points", scale: float = 100.0) -> str:
        """The rule in one sentence, for the report's methods (``delta`` shown x ``scale``)."""
        return (f"training stops when the moving average of the last {self.window} validation scores has not "
                f"improved by more than {self.delta * scale:g} {unit} for {self.patience} consecutive validations, "
                f"or when the iteration budget is reached")


def moving_average(scores: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` scores (shorter at the start)."""
    s = np.asarray(scores, dtype=float)
    csum = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(1, len(s) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def validations_since_improvement(scores: Sequence[float], rule: PlateauRule, higher_is_better: bool = True) -> int:
    """How many validations have passed since the moving average last improved on its
    best earlier value by more than ``rule.delta`` (0 when the latest one did)."""
    s = np.asarray(scores, dtype=float)
    if not higher_is_better:
        s = -s
    ma = moving_average(s, rule.window)
    best, since = -np.inf, 0
    for value in ma:
        if value > best + rule.delta:
            best, since = value, 0
        else:
            since += 1
            best = max(best, value)
    return since


def plateau_reached(scores: Sequence[float], rule: PlateauRule, higher_is_better: bool = True) -> bool:
    """Whether the plateau rule holds after the last of ``scores`` (in validation order).
    Needs at least ``window + patience`` validations, so that a run is never stopped
    before its moving average has had ``patience`` chances to improve."""
    if len(scores) < rule.window + rule.patience:
        return False
    return validations_since_improvement(scores, rule, higher_is_better) >= rule.patience


def last_window_slope(iterations: Sequence[int], scores: Sequence[float], window: int) -> float:
    """Least-squares slope of the last ``window`` scores against iteration, per 1,000
    iterations (NaN with fewer than two validations)."""
    it = np.asarray(iterations, dtype=float)[-max(window, 2):]
    s = np.asarray(scores, dtype=float)[-max(window, 2):]
    if len(s) < 2 or np.ptp(it) == 0:
        return float("nan")
    return float(np.polyfit(it / 1000.0, s, 1)[0])


def best_iteration(iterations: Sequence[int], scores: Sequence[float], higher_is_better: bool = True) -> int:
    """The iteration of the best validation score (the first, on ties)."""
    s = np.asarray(scores, dtype=float)
    return int(np.asarray(iterations)[int(np.nanargmax(s) if higher_is_better else np.nanargmin(s))])


def is_better(score: float, best: float | None, higher_is_better: bool = True) -> bool:
    """Whether validation ``score`` beats the best so far (``None``: none yet); a tie does
    not, so the best-validation checkpoint is the first of equal scores, as :func:`best_iteration`."""
    if best is None:
        return True
    return score > best if higher_is_better else score < best


def run_status(iterations: Sequence[int], scores: Sequence[float], rule: PlateauRule, *, diverged: bool = False,
               higher_is_better: bool = True) -> dict:
    """The convergence status of a run from its validation log (``iterations`` and their
    ``scores``): ``status`` (one of :data:`STATUSES`; ``not meta-trained`` when the only
    validation is at iteration 0), ``iterations`` (the last validated one), ``best_iteration``, ``best_score`` and ``last_window_slope`` (per 1,000 iterations,
    in the score's units; positive is improving for accuracy)."""
    iterations, scores = list(iterations), list(scores)
    if diverged:
        status = DIVERGED
    elif iterations and max(iterations) <= 0:
        status = NOT_META_TRAINED
    elif plateau_reached(scores, rule, higher_is_better):
        status = CONVERGED
    else:
        status = STILL_IMPROVING
    finite = [(i, s) for i, s in zip(iterations, scores) if np.isfinite(s)]
    best = best_iteration(*zip(*finite), higher_is_better=higher_is_better) if finite else None
    return {"status": status, "iterations": int(iterations[-1]) if iterations else 0,
            "best_iteration": best,
            "best_score": float(dict(finite)[best]) if best is not None else float("nan"),
            "last_window_slope": last_window_slope(iterations, scores, rule.window)}


def is_converged(status: dict | str | None) -> bool:
    """Whether a status (a :func:`run_status` dict, or its ``status`` string) is ``converged``."""
    if isinstance(status, dict):
        status = status.get("status")
    return status == CONVERGED


#: Statuses of runs whose numbers rest on a finished training: converged, or nothing to
#: train (train from scratch, whose only validation is its initialisation's).
SETTLED = (CONVERGED, NOT_META_TRAINED)


def is_settled(status: dict | str | None) -> bool:
    """Whether a status is one of :data:`SETTLED`: a claim may rest on the run."""
    if isinstance(status, dict):
        status = status.get("status")
    return status in SETTLED


#: Columns of the per-run convergence table (results/tables/convergence.csv).
RUN_COLUMNS = ["dataset", "algorithm", "setting", "seed", "status", "iterations", "budget", "best_iteration",
               "best_validation_accuracy", "last_window_slope", "wall_seconds"]


def convergence_runs(model_paths) -> "pd.DataFrame":
    """One row per trained run (its ``model.pt``): identity (from the spec the model saves),
    ``status``, ``iterations`` trained, ``budget``, ``best_iteration`` (the model that is
    evaluated), ``best_validation_accuracy``, ``last_window_slope`` (accuracy per 1,000
    iterations over the last window) and ``wall_seconds`` of training over all its sessions
    (the columns of :data:`RUN_COLUMNS`)."""
    import pandas as pd

    from innerloop.divergence import read_saved

    rows = []
    for path in model_paths:
        identity, status = read_saved(path)
        rows.append({**{k: identity[k] for k in ("dataset", "algorithm", "setting", "seed")},
                     "status": status["status"], "iterations": status["iterations"], "budget": status["budget"],
                     "best_iteration": status["best_iteration"], "best_validation_accuracy": status["best_score"],
                     "last_window_slope": status["last_window_slope"], "wall_seconds": status["wall_seconds"]})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def convergence_summary(runs: "pd.DataFrame") -> "pd.DataFrame":
    """Per algorithm and setting: ``runs``, how many ``converged``, reached the budget
    still improving (``still_improving``), ``diverged`` or were ``not_meta_trained``; the
    median ``iterations`` to the stop, median ``best_iteration`` and median
    ``wall_seconds`` over its runs, and the ``budget``."""
    import pandas as pd

    rows = []
    for (algorithm, setting), g in runs.groupby(["algorithm", "setting"], sort=False):
        counts = g["status"].value_counts()
        rows.append({"algorithm": algorithm, "setting": setting, "runs": len(g),
                     "converged": int(counts.get(CONVERGED, 0)), "still_improving": int(counts.get(STILL_IMPROVING, 0)),
                     "diverged": int(counts.get(DIVERGED, 0)), "not_meta_trained": int(counts.get(NOT_META_TRAINED, 0)),
                     "iterations_median": float(g["iterations"].median()),
                     "best_iteration_median": float(g["best_iteration"].median()),
                     "wall_seconds_median": float(g["wall_seconds"].median()), "budget": int(g["budget"].max())})
    return pd.DataFrame(rows, columns=["algorithm", "setting", "runs", "converged", "still_improving", "diverged",
                                       "not_meta_trained", "iterations_median", "best_iteration_median",
                                       "wall_seconds_median", "budget"])


def unconverged(runs: "pd.DataFrame") -> set[tuple[str, str]]:
    """(algorithm, setting) pairs with at least one run that reached its budget still
    improving: the statistics that rest on them are marked in the report. Diverged runs are
    left out of every statistic (:mod:`innerloop.divergence`), so they are not counted here."""
    still = runs[runs["status"].astype(str) == STILL_IMPROVING]
    return {(str(a), str(s)) for a, s in zip(still["algorithm"], still["setting"])}
