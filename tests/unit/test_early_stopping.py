"""Training stops at the validation plateau or the budget, keeps the best-validation model,
records its status, and a resumed run still ends where an uninterrupted one does."""

import numpy as np
import pandas as pd
import pytest
import torch

import innerloop.training as training
from innerloop.checkpoints import load_checked
from innerloop.convergence import CONVERGED, NOT_META_TRAINED, STILL_IMPROVING
from innerloop.runs import RunSpec
from innerloop.training import Interrupted, load_model, train


def spec(**overrides):
    base = dict(dataset="tiny", algorithm="maml", seed=3, ways=3, shots=1, queries=2, filters=4,
                iterations=40, meta_batch=2, inner_steps=1, outer_lr=0.01, val_every=2, val_tasks=3,
                val_seed=9, checkpoint_every=100, options={"inner_lr": 0.1},
                plateau={"window": 1, "delta": 0.05, "patience": 2})
    return RunSpec(**{**base, **overrides})


def paths(root):
    return dict(model_path=root / "model.pt", log_path=root / "train_log.csv",
                validation_path=root / "validation.csv", checkpoint_path=root / "ckpt" / "checkpoint.pt")


def run(root, s, store, stop_after=None):
    p = paths(root)
    train(s, store, device=torch.device("cpu"), progress=False, stop_after=stop_after, **p)
    return p


@pytest.fixture
def scripted_validation(monkeypatch):
    """Validation that scores the ``k``-th call ``scores[k]`` on every task and records the
    meta-parameters it was given (the state a best-validation checkpoint must hold)."""
    seen = []

    def install(scores):
        def evaluate(learner, tasks, device, steps=None):
            seen.append(learner.state_dict())
            return np.full(len(tasks), scores[len(seen) - 1])
        monkeypatch.setattr(training, "evaluate", evaluate)
        return seen
    return install


def test_a_learner_whose_validation_plateaus_stops_early(tmp_path, tiny_store):
    # Adam at rate 0 never moves the meta-parameters: validation is the same at every check.
    s = spec(outer_lr=0.0, plateau={"window": 2, "delta": 0.0, "patience": 2})
    p = run(tmp_path, s, tiny_store)
    _, _, status = load_model(p["model_path"])
    validation = pd.read_csv(p["validation_path"])
    # window + patience validations: the first moving average, then two without improvement
    assert list(validation["iteration"]) == [2, 4, 6, 8]
    assert validation["accuracy"].nunique() == 1
    assert status["status"] == CONVERGED and status["iterations"] == 8 and status["budget"] == 40
    assert list(pd.read_csv(p["log_path"])["iteration"]) == list(range(1, 9))
    assert status["best_iteration"] == 2 and status["wall_seconds"] > 0
    assert status["plateau"] == {"window": 2, "delta": 0.0, "patience": 2}


def test_a_learner_that_keeps_improving_runs_to_the_budget(tmp_path, tiny_store, scripted_validation):
    scripted_validation([0.30 + 0.01 * k for k in range(20)])  # +0.01 every 2 iterations: 5 per 1,000
    s = spec(iterations=20, plateau={"window": 3, "delta": 0.001, "patience": 2})
    _, _, status = load_model(run(tmp_path, s, tiny_store)["model_path"])
    assert status["status"] == STILL_IMPROVING
    assert status["iterations"] == 20 and status["best_iteration"] == 20
    assert status["best_score"] == pytest.approx(0.39)
    assert status["last_window_slope"] == pytest.approx(5.0)


def test_the_saved_model_is_the_best_validation_one(tmp_path, tiny_store, scripted_validation):
    seen = scripted_validation([0.4, 0.7, 0.5, 0.6, 0.6, 0.6, 0.6])
    s = spec(iterations=30, plateau={"window": 1, "delta": 0.0, "patience": 5})
    p = run(tmp_path, s, tiny_store)
    learner, _, status = load_model(p["model_path"])
    assert len(seen) == 7 and status["status"] == CONVERGED  # stopped 5 validations after the best, at 4
    assert status["iterations"] == 14
    assert status["best_iteration"] == 4 and status["best_score"] == pytest.approx(0.7)
    saved = learner.state_dict()
    for name, tensor in seen[1].items():
        assert torch.equal(saved[name], tensor), name
    last = load_checked(p["checkpoint_path"])["state"]  # the checkpoint keeps the last state
    assert any(not torch.equal(last[k], saved[k]) for k in saved)


def test_resumed_run_stops_where_an_uninterrupted_one_does(tmp_path, tiny_store):
    s = spec()
    whole = run(tmp_path / "whole", s, tiny_store)
    _, _, status = load_model(whole["model_path"])
    assert status["status"] == CONVERGED and 5 < status["iterations"] < s.iterations, status

    with pytest.raises(Interrupted):  # stopped after two validations, before the plateau
        run(tmp_path / "split", s, tiny_store, stop_after=5)
    resumed = run(tmp_path / "split", s, tiny_store)
    a, _, status_a = load_model(whole["model_path"])
    b, _, status_b = load_model(resumed["model_path"])
    assert status_b["resumed_from"] == 5
    for key, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[key]), key
    for name in ("log_path", "validation_path"):
        pd.testing.assert_frame_equal(pd.read_csv(whole[name]), pd.read_csv(resumed[name]), check_exact=True)
    timing = {"wall_seconds", "seconds_this_session", "resumed_from"}
    assert {k: v for k, v in status_a.items() if k not in timing} == {k: v for k, v in status_b.items()
                                                                        if k not in timing}

    # A run that has plateaued resumes as finished: no more iterations, the same model.
    again = run(tmp_path / "split", s, tiny_store)
    c, _, status_c = load_model(again["model_path"])
    assert status_c["iterations"] == status["iterations"] and status_c["resumed_from"] == status["iterations"]
    for key, tensor in a.state_dict().items():
        assert torch.equal(tensor, c.state_dict()[key]), key


def test_a_learner_that_is_not_meta_trained_says_so(tmp_path, tiny_store):
    s = spec(algorithm="scratch", options={"finetune_steps": 2})
    p = run(tmp_path, s, tiny_store)
    _, _, status = load_model(p["model_path"])
    assert status["status"] == NOT_META_TRAINED and status["iterations"] == 0 and status["best_iteration"] == 0
