"""A short training run on glyphs, scored on held-out tasks: the shared body of learning tests.

The runs use the default experiment's settings (config/config.yaml with the schema's
defaults filled in): each algorithm's options, the inner steps, meta-batch, queries and
outer learning rate of ``train``. Only the budget (iterations; the transfer baselines'
epochs are their config's) and the network's width are smaller, so that the tests stay
cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from innerloop.config import validate_config
from innerloop.data.sampler import fixed_tasks
from innerloop.evaluation.reference import untrained_reference
from innerloop.runs import RunSpec
from innerloop.scoring import evaluate
from innerloop.training import train

WAYS = 5
CHANCE = 1 / WAYS
#: What "learns" means in the learning tests: held-out accuracy above chance by this much ...
MARGIN = 0.15
#: ... and above the same learner's untrained reference (its initialisation under its own
#: evaluation protocol) by this much.
REFERENCE_MARGIN = 0.05
#: The default experiment, defaults filled in.
CONFIG = validate_config(yaml.safe_load((Path(__file__).resolve().parent.parent / "config" / "config.yaml").read_text()))


def default_options(algorithm: str) -> dict:
    """The algorithm's options in the default experiment (config.yaml over the schema's defaults)."""
    return dict(CONFIG["algorithm_options"].get(algorithm, {}))


def _spec(algorithm: str, options: dict | None, overrides: dict) -> RunSpec:
    train_config = CONFIG["train"]
    fields = dict(dataset="glyphs", algorithm=algorithm, seed=0, ways=WAYS, shots=1, queries=CONFIG["task"]["queries"],
                  filters=16, iterations=60, meta_batch=train_config["meta_batch"],
                  inner_steps=train_config["inner_steps"], outer_lr=train_config["outer_lr"], val_every=1000,
                  val_tasks=10, val_seed=1, checkpoint_every=1000,
                  options={**default_options(algorithm), **(options or {})})
    fields.update(overrides)
    return RunSpec(**fields)


def _held_out_tasks(store):
    return fixed_tasks(store, "test", WAYS, 1, 5, seed=123, n=60)


def short_run_accuracy(store, tmp_path: Path, algorithm: str, options: dict | None = None, **overrides) -> float:
    """Mean 5-way 1-shot accuracy on 60 held-out test tasks after a short training run.

    ``options`` are laid over the algorithm's default options; ``overrides`` replace any
    RunSpec field (default: 60 iterations, Conv4 with 16 filters, the rest from the config).
    """
    learner = train(_spec(algorithm, options, overrides), store, model_path=tmp_path / "model.pt",
                    log_path=tmp_path / "log.csv", validation_path=tmp_path / "val.csv",
                    checkpoint_path=tmp_path / "ckpt.pt", device=torch.device("cpu"), progress=False)
    return float(np.mean(evaluate(learner, _held_out_tasks(store), torch.device("cpu"))))


def untrained_accuracy(store, algorithm: str, options: dict | None = None, **overrides) -> float:
    """The same score for the same learner before any training: its untrained reference
    (:func:`innerloop.evaluation.reference.untrained_reference`), what a learning test must beat."""
    spec = _spec(algorithm, options, overrides)
    return float(np.mean(untrained_reference(spec, store, _held_out_tasks(store), torch.device("cpu"))))
