"""Few-shot sine-wave regression (innerloop.sine): every algorithm of the study trains and
scores on sine waves, resumes exactly, and MAML learns.

The learning test trains second-order MAML for 150 iterations on 10-shot waves and asks
the adapted MSE on held-out tasks to lie clearly below both the MSE of the untrained
network (adapted the same way) and the variance of the targets (the MSE of predicting 0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.sine import TARGET_VARIANCE, SineSampler
from innerloop.models import forward
from innerloop.reporting import sine as RS
from innerloop.runs import evaluation_settings, run_identity, sine_spec, variant_spec
from innerloop.sine import build_sine_run, evaluate_sine, load_sine_model, score_run, train_sine
from innerloop.training import Interrupted
from sine_cases import (SINE, SINE_ALGORITHMS, default_options, needs, one_thread,  # noqa: F401 (an autouse fixture)
                        run_paths, tiny_spec)


@pytest.mark.parametrize("algorithm", SINE_ALGORITHMS)
def test_every_algorithm_trains_and_scores_on_sine_waves(algorithm, tmp_path):
    needs(algorithm)
    spec = tiny_spec(algorithm, iterations=2, inner_steps=2, options=default_options(algorithm))
    learner = train_sine(spec, progress=False, **run_paths(tmp_path))
    assert learner.regression and learner.metric_name == "mse"
    log, validation = pd.read_csv(tmp_path / "log.csv"), pd.read_csv(tmp_path / "val.csv")
    assert list(log.columns[:3]) == ["iteration", "loss", "mse"] and len(log) == 2
    assert list(validation.columns) == ["iteration", "mse", "ci95"] and np.isfinite(validation["mse"]).all()
    mse = evaluate_sine(learner, shots=5, queries=10, seed=0, n_tasks=4)
    assert mse.shape == (4,) and np.all(np.isfinite(mse)) and np.all(mse >= 0)
    # The saved model is the trained one.
    loaded, loaded_spec, status = load_sine_model(tmp_path / "model.pt")
    assert loaded_spec == spec and status["status"] == "budget reached, still improving"
    np.testing.assert_allclose(evaluate_sine(loaded, shots=5, queries=10, seed=0, n_tasks=4), mse, rtol=1e-5)


def test_metric_is_the_query_mse_after_adaptation():
    learner = build_sine_run(tiny_spec("maml", options={"inner_lr": 0.05}))
    task = SineSampler("test", 5, 8, seed=0).task(0)
    adapted = learner.adapt(task.support_x, task.support_y, meta_gradient=False)
    with torch.no_grad():
        expected = ((forward(learner.model, adapted, task.query_x) - task.query_y) ** 2).mean().item()
    got = evaluate_sine(learner, shots=5, queries=8, seed=0, n_tasks=1)
    assert got[0] == pytest.approx(expected, rel=1e-6)
    # Two steps at 0.05 change the network: the adapted MSE is not the unadapted one.
    assert got[0] != pytest.approx(evaluate_sine(learner, shots=5, queries=8, seed=0, n_tasks=1, steps=0)[0])


def test_resumed_run_ends_like_an_uninterrupted_one(tmp_path):
    spec = tiny_spec("fomaml", iterations=6, checkpoint_every=3, options={"inner_lr": 0.02})
    whole = train_sine(spec, progress=False, **run_paths(tmp_path / "whole"))
    with pytest.raises(Interrupted):
        train_sine(spec, progress=False, stop_after=3, **run_paths(tmp_path / "split"))
    resumed = train_sine(spec, progress=False, **run_paths(tmp_path / "split"))
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=0, atol=0)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "whole/log.csv"), pd.read_csv(tmp_path / "split/log.csv"))


def test_maml_learns_sine_waves(tmp_path):
    spec = sine_spec("maml", 0, shots=10, queries=10, hidden_units=40, iterations=150, meta_batch=4, inner_steps=3,
                     outer_lr=0.01, val_every=1000, val_tasks=5, val_seed=1, checkpoint_every=1000,
                     options={"inner_lr": 0.02, "first_order": False})
    untrained = build_sine_run(spec)
    learner = train_sine(spec, progress=False, **run_paths(tmp_path))
    held_out = dict(shots=10, queries=20, seed=123, n_tasks=100)
    adapted = evaluate_sine(learner, **held_out).mean()
    before = evaluate_sine(untrained, **held_out).mean()
    unadapted = evaluate_sine(learner, steps=0, **held_out).mean()
    # Measured (seeds 0-2, CPU): adapted 1.50-1.95, untrained 4.5-4.7, target variance 4.25.
    assert adapted < 0.6 * before, (adapted, before)
    assert adapted < 0.6 * TARGET_VARIANCE, adapted
    assert adapted < 0.75 * unadapted, (adapted, unadapted)  # the gain comes from adapting


def test_study_variants_build():
    for name in ("turtle", "fo_turtle"):
        needs(name)
    for variant in ("turtle-t3-h2", "fo_turtle-t1-h0"):
        learner = build_sine_run(variant_spec(SINE, "turtle_study", variant, 0))
        assert learner.regression and not learner.learn_lr and learner.lr_init == 0.05


def test_score_run_writes_the_identity_beside_each_task():
    learner = build_sine_run(variant_spec(SINE, "turtle_study", "maml-t1", 0))
    identity = run_identity(SINE, "turtle_study", "maml-t1", 0)
    table = score_run(learner, identity, evaluation_settings(SINE, "turtle_study"))
    assert list(table.columns) == [*RS.IDENTITY, "task", "mse"] and len(table) == 6
    assert table["hidden_layers"].isna().all() and (table["split"] == "val").all()
    expected = evaluate_sine(learner, split="val", shots=5, queries=11, seed=7, n_tasks=6)
    np.testing.assert_allclose(table["mse"], expected)
