"""The protocol table: how each algorithm was trained and evaluated, beside what that buys.

One row per algorithm and setting: what the outer loop trains on and with how many inner
steps, the adaptation steps at evaluation, every learning rate of the algorithm with how
it was chosen, and the meta-test accuracy (mean over seeds) next to the untrained
reference (the same seeds' initialisations under the same evaluation,
:mod:`innerloop.evaluation.reference`) and the difference of the two.

A rate is ``tuned`` when the tuning stage chose it on meta-validation (its choice,
``results/tuning/.../chosen.json``, is on top of the configured options, as the runs train
with it), ``published`` when it equals the value a source gives
(:data:`innerloop.reference.PUBLISHED_RATES`, cited), ``default`` when it is the schema's
default, and ``config`` otherwise (set in the configuration or a preset).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from innerloop.algorithms import DISPLAY_NAMES
from innerloop.algorithms.transfer import Finetuning
from innerloop.reference import PUBLISHED_RATES

#: Option keys that are learning rates (or initial ranges of learned ones).
RATE_KEYS = ("inner_lr", "eval_inner_lr", "lr_init_low", "lr_init_high", "lr_init", "finetune_lr", "outer_stepsize",
             "outer_lr", "alpha_hyperlr", "beta_hyperlr")

#: Algorithms whose outer step is not Adam at train.outer_lr (their rate is an option).
OWN_OUTER_STEP = ("reptile", "alpha_maml")


def rate_origin(algorithm: str, key: str, value: Any, default: Any) -> str:
    """``published (source)``, ``default`` or ``config``: how the rate ``value`` was chosen."""
    published = PUBLISHED_RATES.get((algorithm, key))
    if published is not None and value == published[0]:
        return f"published ({published[1]})"
    return "default" if value == default else "config"


def _schema_defaults(schema: dict, algorithm: str) -> dict[str, Any]:
    properties = schema["properties"]["algorithm_options"]["properties"].get(algorithm, {}).get("properties", {})
    return {k: v.get("default") for k, v in properties.items()}


def describe_protocol(config: dict, schema: dict, algorithm: str, chosen: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """Training, inner steps, evaluation steps and rates of ``algorithm`` in ``config``
    (validated, defaults filled), with the tuning stage's choice ``chosen`` (a ``chosen.json``
    record) on top where it was tuned, read off the learner the workflow builds for it."""
    from innerloop.runs import RunSpec
    from innerloop.training import build_run

    train, evaluation = config["train"], config["evaluation"]
    tuned = dict(chosen["options"]) if chosen else {}
    options = {**config["algorithm_options"].get(algorithm, {}), **tuned}
    spec = RunSpec(dataset=config["dataset"], algorithm=algorithm, seed=config["seeds"][0], ways=config["task"]["ways"],
                   shots=config["task"]["shots"][0], queries=config["task"]["queries"], filters=1,
                   iterations=train["iterations"], meta_batch=train["meta_batch"], inner_steps=train["inner_steps"],
                   outer_lr=train["outer_lr"], val_every=train["val_every"], val_tasks=train["val_tasks"],
                   val_seed=evaluation["seed"], checkpoint_every=train["checkpoint_every"], options=options)
    learner = build_run(spec, (1, 16, 16), n_classes=1)
    if not learner.meta_trained:
        training, train_steps = "none (the seed's initialisation)", 0
    elif algorithm == "multitask":
        training = f"{train['iterations']} iterations x {train['meta_batch']} tasks, training-class labels"
        train_steps = 0
    elif isinstance(learner, Finetuning):
        training = f"{learner.epochs} epochs of mini-batches of {learner.batch_size}, training-class labels"
        train_steps = 0
    else:
        training = f"{train['iterations']} iterations x {train['meta_batch']} tasks"
        train_steps = learner.inner_steps
    eval_steps = learner.eval_steps if evaluation["inner_steps"] is None else evaluation["inner_steps"]
    defaults = _schema_defaults(schema, algorithm)
    def how_chosen(key: str) -> str:
        if key in tuned:
            return f"tuned on meta-validation, best of {len(chosen['candidates'])}"
        return rate_origin(algorithm, key, options[key], defaults.get(key))

    rates = [f"{key} {options[key]:g} ({how_chosen(key)})" for key in RATE_KEYS if options.get(key) is not None]
    if learner.meta_trained and algorithm not in OWN_OUTER_STEP:
        origin = rate_origin("train", "outer_lr", train["outer_lr"], schema["properties"]["train"]["properties"]
                             ["outer_lr"].get("default"))
        rates.append(f"outer Adam {train['outer_lr']:g} ({origin})")
    return {"algorithm": algorithm, "name": DISPLAY_NAMES.get(algorithm, algorithm), "training": training,
            "train_inner_steps": train_steps, "eval_steps": eval_steps, "rates": "; ".join(rates)}


def protocol_table(config: dict, schema: dict, meta_test_runs: pd.DataFrame, untrained_runs: pd.DataFrame,
                   chosen: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Per algorithm and setting: :func:`describe_protocol` with the tuning choice of that
    algorithm and setting (``chosen``: (algorithm, setting) -> ``chosen.json`` record), the
    meta-test accuracy and the untrained reference (means over seeds of the per-run means;
    ``*_runs``: algorithm, setting, seed, accuracy) and ``margin`` = accuracy - untrained."""
    chosen = chosen or {}
    trained = meta_test_runs.groupby(["algorithm", "setting"], sort=False)["accuracy"].agg(["mean", "size"])
    untrained = untrained_runs.groupby(["algorithm", "setting"], sort=False)["accuracy"].mean()
    rows = []
    for algorithm in config["algorithms"]:
        settings = [s for a, s in untrained.index if a == algorithm]
        for setting in settings:
            protocol = describe_protocol(config, schema, algorithm, chosen.get((algorithm, setting)))
            accuracy, n_seeds = trained.loc[(algorithm, setting)] if (algorithm, setting) in trained.index else (
                float("nan"), 0)
            reference = float(untrained.loc[(algorithm, setting)])
            rows.append({**protocol, "setting": setting, "n_seeds": int(n_seeds), "accuracy": float(accuracy),
                         "untrained": reference, "margin": float(accuracy) - reference})
    return pd.DataFrame(rows, columns=["algorithm", "name", "setting", "training", "train_inner_steps", "eval_steps",
                                       "rates", "n_seeds", "accuracy", "untrained", "margin"])
