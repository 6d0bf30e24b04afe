"""The scale of a run as the claims see it: each training run's convergence status from
its validation log, and the run's size against the paper's.

A run counts as converged exactly when :func:`innerloop.convergence.run_status` says
``converged`` on its validation log (the plateau rule of ``train.plateau``), or ``not
meta-trained`` (train from scratch: nothing to converge, :data:`~innerloop.convergence.SETTLED`); a run that
diverged in training (``results/tables/diverged_runs.csv``) is not converged, whatever
its log before the divergence shows.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from innerloop.convergence import DIVERGED, PlateauRule, is_settled, run_status
from innerloop.reference import PAPER_REFERENCE
from innerloop.stats.order import algorithm_order

#: The columns that name a run in the collected tables (``innerloop.runs.RUN_COLUMNS``).
RUN_KEYS = ["dataset", "algorithm", "setting", "seed"]
CONVERGENCE_COLUMNS = [*RUN_KEYS, "status", "converged", "iterations", "validations", "best_iteration",
                       "best_score", "last_window_slope"]
NO_LOG = "no validation log"


def run_convergence(validation: pd.DataFrame, rule: PlateauRule, diverged: pd.DataFrame | None = None,
                    metric: str = "accuracy") -> pd.DataFrame:
    """One row per run of ``validation`` (the collected validation logs: the run's
    dataset, algorithm, setting and seed, then iteration, ``metric``, ci95): its
    :func:`~innerloop.convergence.run_status` under ``rule`` (``status``, the last validated
    ``iterations``, ``best_iteration``, ``best_score``, ``last_window_slope`` per 1,000
    iterations), how many ``validations`` it had, and ``converged`` (the status is
    ``converged``). Runs listed in ``diverged`` (rows with the same run columns) have the
    status ``diverged``."""
    missing = [c for c in [*RUN_KEYS, "iteration", metric] if c not in validation.columns]
    if missing:
        raise ValueError(f"validation table: no column(s) {missing}")
    gone = set()
    if diverged is not None and len(diverged):
        gone = {tuple(str(v) for v in r) for r in diverged[RUN_KEYS].itertuples(index=False)}
    rows = []
    for keys, g in validation.groupby(RUN_KEYS, sort=False):
        g = g.sort_values("iteration")
        status = run_status(g["iteration"].tolist(), g[metric].astype(float).tolist(), rule,
                            diverged=tuple(str(k) for k in keys) in gone)
        rows.append({**dict(zip(RUN_KEYS, keys)), **status, "validations": int(len(g)),
                     "converged": is_settled(status)})
    out = pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS)
    if len(out):
        rank = {a: i for i, a in enumerate(algorithm_order(out["algorithm"]))}
        out = out.assign(_rank=out["algorithm"].astype(str).map(rank)).sort_values(["_rank", "setting", "seed"])
        out = out.drop(columns="_rank")
    return out.reset_index(drop=True)


def runs_status(convergence: pd.DataFrame | None, algorithms: Iterable[str], setting: str | None,
                seeds: Iterable[int]) -> list[tuple[str, int, str]]:
    """``(algorithm, seed, status)`` of each named run: its status in ``convergence`` (a
    :func:`run_convergence` table), or :data:`NO_LOG` when the table has no row for it."""
    table = {}
    if convergence is not None and len(convergence):
        for r in convergence.itertuples(index=False):
            if setting is None or str(r.setting) == str(setting):
                table[(str(r.algorithm), int(r.seed))] = str(r.status)
    return [(a, int(s), table.get((a, int(s)), NO_LOG)) for a in algorithms for s in seeds]


def describe_unconverged(statuses: list[tuple[str, int, str]]) -> str:
    """The runs of ``statuses`` that are not converged, grouped by algorithm and status:
    ``"maml seeds 0, 1, 2 (budget reached, still improving)"``; "" when all converged."""
    groups: dict[tuple[str, str], list[int]] = {}
    for algorithm, seed, status in statuses:
        if not is_settled(status):
            groups.setdefault((algorithm, status), []).append(seed)
    parts = [f"{a} seed{'s' if len(s) > 1 else ''} {', '.join(map(str, sorted(s)))} ({status})"
             for (a, status), s in groups.items()]
    return "; ".join(parts)


def scale_summary(convergence: pd.DataFrame, claims: pd.DataFrame, probe_iterations: int, seeds: list[int]) -> dict:
    """The run's scale against the paper's, as the report's summary opens with it:
    training iterations per meta-trained run (``iterations_min``/``_max``, from the validation logs) and
    their fraction of the paper's 60,000, runs converged / diverged / total, seeds, probe
    iterations and their fraction of the paper's 40,000, and the claims testable at this
    scale out of those that were run."""
    paper_iterations, paper_probe = PAPER_REFERENCE["train_iterations"], PAPER_REFERENCE["probe_iterations"]
    trained = convergence["iterations"][convergence["iterations"] > 0] if len(convergence) else []
    iterations = trained if len(trained) else pd.Series([0])  # a baseline trained from scratch validates at 0
    run = claims[claims["verdict"].astype(str) != "not run"] if len(claims) else claims
    return {
        "iterations_min": int(iterations.min()), "iterations_max": int(iterations.max()),
        "paper_iterations": paper_iterations, "iterations_fraction": float(iterations.max()) / paper_iterations,
        "runs": int(len(convergence)), "runs_converged": int(convergence["converged"].sum()) if len(convergence) else 0,
        "runs_diverged": int((convergence["status"] == DIVERGED).sum()) if len(convergence) else 0,
        "seeds": list(seeds), "probe_iterations": int(probe_iterations), "paper_probe_iterations": paper_probe,
        "probe_fraction": probe_iterations / paper_probe,
        "claims_run": int(len(run)), "claims_testable": int(run["testable"].astype(bool).sum()) if len(run) else 0,
    }


__all__ = ["CONVERGENCE_COLUMNS", "RUN_KEYS", "describe_unconverged", "run_convergence", "runs_status",
           "scale_summary"]
