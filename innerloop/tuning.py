"""The tuning stage: the learning rates the sources leave to the dataset, chosen on meta-validation.

For each algorithm named in ``tuning.grid``, every candidate of its grid (the product of
the listed values of each option) is meta-trained once, with the tuning seed and the
tuning budget, and scored on the meta-validation tasks: its best validation accuracy
(the score of the checkpoint a main run would evaluate). The candidate with the highest
score is chosen; ties go to the first candidate in grid order; a candidate whose run
diverged is never chosen. The main runs of that algorithm then train with the chosen
options on top of their configured ones, and the report's tuning table shows every
candidate's score beside the choice, so a reviewer sees why each rate was used.

Selection uses only the validation split: the meta-test tasks, on which the main runs are
scored, play no part in it.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from innerloop.convergence import PlateauRule, run_status
from innerloop.io import write_text_atomic

#: Where a choice came from, as the protocol table says it.
TUNED = "tuned on meta-validation"
CONFIGURED = "configured"

TUNING_COLUMNS = ["dataset", "algorithm", "setting", "candidate", "options", "status", "best_score",
                  "best_iteration", "iterations", "chosen"]


def candidates(grid: Mapping[str, list] | list[dict]) -> list[dict[str, Any]]:
    """The candidates of one algorithm's grid, in grid order. ``grid`` is either a mapping
    option -> list of values (every combination; the first option varies slowest) or a
    list of candidates, each a mapping option -> value (for options that go together,
    such as Meta-SGD's initial range ``lr_init_low`` and ``lr_init_high``)."""
    if not grid:
        return []
    if isinstance(grid, list):
        return [dict(c) for c in grid]
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def candidate_id(options: Mapping[str, Any]) -> str:
    """A candidate as a path component: ``inner_lr=0.1`` or ``inner_lr=0.1,outer_stepsize=0.5``."""
    if not options:
        raise ValueError("a tuning candidate sets at least one option")
    return ",".join(f"{k}={_format(v)}" for k, v in options.items())


def candidate_ids(grid: Mapping[str, list] | list[dict]) -> list[str]:
    return [candidate_id(c) for c in candidates(grid)]


def candidate_options(grid: Mapping[str, list] | list[dict], cid: str) -> dict[str, Any]:
    """The options of the candidate of ``grid`` whose id is ``cid`` (KeyError if none)."""
    for c in candidates(grid):
        if candidate_id(c) == cid:
            return c
    raise KeyError(f"{cid!r} is not a candidate of the tuning grid {grid}")


def candidate_result(options: Mapping[str, Any], validation: pd.DataFrame, *, metric: str = "accuracy",
                     diverged: bool = False, rule: PlateauRule | None = None) -> dict:
    """The score of one tuning run from its validation log: its best validation ``metric``
    (NaN when diverged or never validated) and its convergence status."""
    rule = rule or PlateauRule()
    status = run_status(validation["iteration"], validation[metric], rule, diverged=diverged)
    best = status["best_score"]
    if diverged or best is None or not math.isfinite(best):
        best = float("nan")
    return {"options": dict(options), "status": status["status"], "best_score": best,
            "best_iteration": status["best_iteration"], "iterations": status["iterations"]}


def choose(results: list[dict]) -> dict:
    """The chosen candidate among ``results`` (:func:`candidate_result` dicts in grid order):
    the highest finite best score, the first on ties. Raises when every candidate diverged."""
    finite = [(i, r) for i, r in enumerate(results) if math.isfinite(r["best_score"])]
    if not finite:
        raise ValueError("every tuning candidate diverged or was never validated: "
                         + "; ".join(candidate_id(r["options"]) for r in results)
                         + ". Widen or lower the grid in tuning.grid")
    best = max(finite, key=lambda ir: (ir[1]["best_score"], -ir[0]))[1]
    return {"options": best["options"], "candidate": candidate_id(best["options"]),
            "best_score": best["best_score"], "source": TUNED}


def write_json(obj: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(path), json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def with_chosen(options: Mapping[str, Any], chosen: Mapping[str, Any] | None) -> dict[str, Any]:
    """A run's algorithm options with the tuned choice (a :func:`choose` dict) on top."""
    return {**options, **(chosen["options"] if chosen else {})}


def choice_record(dataset: str, algorithm: str, setting: str, results: list[dict]) -> dict:
    """What ``chosen.json`` holds: the choice (:func:`choose`) with its dataset, algorithm,
    setting and every candidate's result, so the tuning table needs nothing else."""
    return {"dataset": dataset, "algorithm": algorithm, "setting": setting, **choose(results),
            "candidates": results}


def tuning_table(records: list[dict]) -> pd.DataFrame:
    """One row per candidate of every :func:`choice_record`, in grid order, ``chosen`` true
    on the choice."""
    rows = [{"dataset": r["dataset"], "algorithm": r["algorithm"], "setting": r["setting"],
             "candidate": candidate_id(c["options"]), "options": json.dumps(c["options"], sort_keys=True),
             "status": c["status"], "best_score": c["best_score"], "best_iteration": c["best_iteration"],
             "iterations": c["iterations"], "chosen": candidate_id(c["options"]) == r["candidate"]}
            for r in records for c in r["candidates"]]
    return pd.DataFrame(rows, columns=TUNING_COLUMNS)


def tuned_algorithms(config: Mapping[str, Any]) -> list[str]:
    """The configured algorithms the tuning stage tunes, in config order: those in
    ``tuning.algorithms`` (null: every configured algorithm) that have a ``tuning.grid`` entry."""
    tuning = config["tuning"]
    selected = tuning.get("algorithms")
    return [a for a in config["algorithms"] if a in tuning["grid"] and (selected is None or a in selected)]


# --------------------------------------------------------------------------------------
# Where the tuning stage's files go (rules tune_run and tune_choose, rules/train.smk)
# --------------------------------------------------------------------------------------

#: One algorithm and setting's tuning directory, and one candidate's run inside it.
TUNE_SETTING = "results/tuning/{dataset}/{algorithm}/{ways}w{shots}s"
TUNE_RUN = TUNE_SETTING + "/{candidate}"
TUNED_CHOICE = TUNE_SETTING + "/chosen.json"
#: The benchmark file of one candidate's run (rule tune_run).
TUNE_BENCHMARK = "results/benchmarks/tune_run/{dataset}/{algorithm}/{ways}w{shots}s/{candidate}.tsv"


def tune_spec(config: Mapping[str, Any], dataset: str, algorithm: str, ways: int, shots: int,
              candidate: str) -> dict[str, Any]:
    """The RunSpec dict of one tuning candidate: the spec of the main runs of its algorithm and
    setting, with the tuning seed, the tuning budget and the candidate's options on top."""
    from innerloop.runs import RunId, run_spec

    spec = run_spec(config, RunId(dataset, algorithm, ways, shots, config["tuning"]["seed"]))
    options = candidate_options(config["tuning"]["grid"][algorithm], candidate)
    return {**spec, "iterations": config["tuning"]["iterations"], "options": {**spec["options"], **options}}


def tuned_settings(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The wildcards of every tuned algorithm and setting of the main runs."""
    return [{"dataset": config["dataset"], "algorithm": algorithm, "ways": config["task"]["ways"], "shots": shots}
            for algorithm in tuned_algorithms(config) for shots in config["task"]["shots"]]


def tuning_benchmarks(config: Mapping[str, Any]) -> list[str]:
    """Benchmark files of every tuning run (the report's time per rule)."""
    return [TUNE_BENCHMARK.format(**setting, candidate=cid)
            for setting in tuned_settings(config)
            for cid in candidate_ids(config["tuning"]["grid"][setting["algorithm"]])]
