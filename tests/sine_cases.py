"""What the sine-wave tests share: a small sine block with every key the sine rules read, the
algorithms of the sine study, a tiny run spec and one thread for the tiny networks."""

from __future__ import annotations

import pytest
import torch

from innerloop.algorithms import ALGORITHMS
from innerloop.config import validate_config
from innerloop.runs import sine_spec


#: A small sine block with every key the sine rules read (the schema's defaults are tested
#: separately, once config/schema.yaml has the block).
SINE = {
    "shots": 5, "queries": None, "hidden_units": 8, "seeds": [0, 1], "iterations": 3, "meta_batch": 2,
    "inner_steps": 2, "outer_lr": 0.003, "val_every": 2, "val_tasks": 4, "checkpoint_every": 2, "eval_seed": 7,
    "eval_tasks": 6, "eval_queries": 11,
    "comparison": {"algorithms": ["maml", "fomaml", "metasgd", "lstm_meta_plus"]},
    "turtle_study": {"orders": ["first", "second"], "inner_steps": [1, 3], "hidden_layers": [0, 2], "alpha": 0.05},
    "algorithm_options": {
        "maml": {"inner_lr": 0.01, "first_order": True},
        "fomaml": {"inner_lr": 0.02},
        "metasgd": {},
        "lstm_meta_plus": {"hidden_size": 4, "preprocess": False, "first_order": False, "inner_steps": 8,
                           "lr_init": 0.01},
        "turtle": {"hidden_layers": 5, "hidden_units": 6, "inputs": ["gradient", "loss"], "lr_init": 0.3,
                   "learn_lr": True, "first_order": True},
        "fo_turtle": {"hidden_layers": 5, "hidden_units": 6, "inputs": ["gradient"], "learn_lr": True},
    },
}


#: Every algorithm the sine part may run (a test of one that is not registered fails).
SINE_ALGORITHMS = ["maml", "fomaml", "metasgd", "alpha_maml", "lstm_meta", "lstm_meta_plus", "turtle", "fo_turtle"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The networks are tiny: one intra-op thread is fastest, and robust on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def needs(name: str) -> None:
    if name not in ALGORITHMS:
        pytest.fail(f"algorithm {name!r} of the sine study is not registered in innerloop.algorithms")


def default_options(name: str) -> dict:
    """The schema's default options of ``name`` (the sine block's when the schema has one)."""
    config = validate_config({})
    return config.get("sine", config)["algorithm_options"][name]


def tiny_spec(algorithm="maml", seed=0, **overrides):
    fields = dict(shots=5, queries=None, hidden_units=16, iterations=4, meta_batch=2, inner_steps=2, outer_lr=0.003,
                  val_every=2, val_tasks=3, val_seed=1, checkpoint_every=2, options={"inner_lr": 0.01})
    fields.update(overrides)
    return sine_spec(algorithm, seed, **fields)


def run_paths(directory):
    return dict(model_path=directory / "model.pt", log_path=directory / "log.csv",
                validation_path=directory / "val.csv", checkpoint_path=directory / "ckpt.pt")
