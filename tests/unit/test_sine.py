"""Few-shot sine-wave regression: the task sampler, the MLP, learning, the experiments, the report.

The learning test trains second-order MAML for 150 iterations on 10-shot waves and asks
the adapted MSE on held-out tasks to lie clearly below both the MSE of the untrained
network (adapted the same way) and the variance of the targets (the MSE of predicting 0).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.algorithms import ALGORITHMS
from innerloop.config import load_schema, validate_config
from innerloop.data.sampler import Task
from innerloop.data.sine import AMPLITUDE, PHASE, TARGET_VARIANCE, X_RANGE, SineSampler, sine, sine_tasks
from innerloop.models import MLP, forward, init_mlp, is_head
from innerloop.models.conv4 import embed
from innerloop.reporting import sine as RS
from innerloop.reporting.figures import save_figure
from innerloop.runs import (RUN_DIR, TURTLE_STUDY_OPTIONS, comparison_variants, evaluation_settings, experiment_variants,
                            run_files, run_identity, sine_spec, turtle_study_variants, variant_spec)
from innerloop.sine import build_sine_run, evaluate_sine, load_sine_model, score_run, train_sine
from innerloop.training import Interrupted

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


# --------------------------------------------------------------------------------------
# Task sampler
# --------------------------------------------------------------------------------------

def test_task_is_a_pure_function_of_seed_split_and_index():
    a, b = SineSampler("train", 5, seed=3), SineSampler("train", 5, seed=3)
    first = a.task(17)
    for other in (a.task(17), b.task(17), b.tasks(3, start=16)[1]):
        for field in ("support_x", "support_y", "query_x", "query_y"):
            assert torch.equal(getattr(first, field), getattr(other, field))
    assert isinstance(first, Task) and first.classes == ()
    for t in (first.support_x, first.support_y, first.query_x, first.query_y):
        assert t.shape == (5, 1) and t.dtype == torch.float32
    # Splits, seeds and indices draw different waves; only the seed stream differs between splits.
    others = [SineSampler("val", 5, seed=3).task(17), SineSampler("test", 5, seed=3).task(17),
              SineSampler("train", 5, seed=4).task(17), a.task(18)]
    assert all(not torch.equal(first.support_x, o.support_x) for o in others)
    assert len({SineSampler(s, 5, seed=3).wave(17) for s in ("train", "val", "test")}) == 3
    fixed = sine_tasks("test", 5, 7, seed=2, n=4)
    assert torch.equal(fixed[3].query_x, SineSampler("test", 5, 7, seed=2).task(3).query_x)


def test_task_values_follow_the_wave_and_the_ranges():
    sampler = SineSampler("test", shots=4, queries=9, seed=0)
    waves = np.array([sampler.wave(i) for i in range(2000)])
    assert AMPLITUDE[0] <= waves[:, 0].min() and waves[:, 0].max() <= AMPLITUDE[1]
    assert PHASE[0] <= waves[:, 1].min() and waves[:, 1].max() <= PHASE[1]
    # The draws cover the ranges (uniform: mean in the middle, extremes near the ends).
    assert abs(waves[:, 0].mean() - 2.55) < 0.15 and abs(waves[:, 1].mean() - math.pi / 2) < 0.1
    assert waves[:, 0].min() < 0.2 and waves[:, 0].max() > 4.9
    tasks = sampler.tasks(400)
    assert all(t.support_x.shape == (4, 1) and t.query_x.shape == (9, 1) for t in tasks)
    x = torch.stack([torch.cat([t.support_x, t.query_x]) for t in tasks]).double()
    y = torch.stack([torch.cat([t.support_y, t.query_y]) for t in tasks])
    assert X_RANGE[0] <= x.min() and x.max() <= X_RANGE[1] and x.min() < -4.9 and x.max() > 4.9
    amplitude, phase = (torch.tensor(waves[:400, j]).view(-1, 1, 1) for j in (0, 1))
    torch.testing.assert_close(y, sine(x, amplitude, phase).float(), atol=1e-5, rtol=1e-5)
    # E[y^2] over tasks and inputs is the documented variance (the MSE of predicting 0).
    assert abs(float(y.pow(2).mean()) - TARGET_VARIANCE) / TARGET_VARIANCE < 0.1
    assert SineSampler("val", 3).queries == 3  # queries default to K


@pytest.mark.parametrize("kwargs, match", [
    (dict(split="meta-test", shots=5), "split"),
    (dict(split="train", shots=0), "shots"),
    (dict(split="train", shots=5, queries=0), "queries"),
    (dict(split="train", shots=5, seed=-1), "seed"),
])
def test_sampler_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SineSampler(**kwargs)


def test_negative_task_index_is_an_error():
    with pytest.raises(ValueError, match="index"):
        SineSampler("train", 5).task(-1)


# --------------------------------------------------------------------------------------
# The MLP
# --------------------------------------------------------------------------------------

def test_mlp_forward_is_functional_with_finn_et_al_shapes():
    model = MLP()
    params = init_mlp(model, torch.Generator().manual_seed(0))
    assert {n: tuple(p.shape) for n, p in params.items()} == {
        "body.0.weight": (40, 1), "body.0.bias": (40,), "body.1.weight": (40, 40), "body.1.bias": (40,),
        "head.weight": (1, 40), "head.bias": (1,)}
    assert sum(p.numel() for p in params.values()) == 1761
    x = torch.linspace(-5, 5, 13).unsqueeze(1)
    y = forward(model, params, x)
    assert y.shape == (13, 1)
    assert embed(model, params, x).shape == (13, 40)
    assert [n for n in params if is_head(n)] == ["head.weight", "head.bias"]
    # The tensors passed in are used, not the module's own.
    shifted = {**params, "head.bias": params["head.bias"] + 2.0}
    torch.testing.assert_close(forward(model, shifted, x), y + 2.0)
    by_hand = params["head.weight"] @ torch.relu(params["body.1.weight"] @ torch.relu(
        params["body.0.weight"] @ x.T + params["body.0.bias"][:, None]) + params["body.1.bias"][:, None])
    torch.testing.assert_close(y, (by_hand + params["head.bias"][:, None]).T)


def test_mlp_init_is_reproducible_and_bounded():
    model = MLP(hidden=(40, 40))
    a = init_mlp(model, torch.Generator().manual_seed(5))
    b = init_mlp(model, torch.Generator().manual_seed(5))
    c = init_mlp(model, torch.Generator().manual_seed(6))
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not torch.equal(a["body.1.weight"], c["body.1.weight"])
    for name, fan_in in (("body.0", 1), ("body.1", 40), ("head", 40)):
        for kind in ("weight", "bias"):
            t = a[f"{name}.{kind}"]
            assert t.abs().max() <= 1 / math.sqrt(fan_in)
            if t.numel() >= 40:  # uniform over the whole range, not a narrower one
                assert t.abs().max() > 0.8 / math.sqrt(fan_in)


def test_smooth_mlp_has_a_nonzero_second_derivative():
    x = torch.linspace(-2, 2, 7).unsqueeze(1).requires_grad_(True)
    for smooth, nonzero in ((True, True), (False, False)):
        model = MLP(hidden=(6,), smooth=smooth)
        params = init_mlp(model, torch.Generator().manual_seed(1))
        (dy,) = torch.autograd.grad(forward(model, params, x).sum(), x, create_graph=True)
        (d2y,) = torch.autograd.grad(dy.sum(), x, allow_unused=True, materialize_grads=True)
        assert bool(d2y.abs().sum() > 0) == nonzero


def test_mlp_rejects_bad_widths():
    with pytest.raises(ValueError, match="hidden"):
        MLP(hidden=(40, 0))


# --------------------------------------------------------------------------------------
# Learners on sine waves
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# The experiments as data
# --------------------------------------------------------------------------------------

def test_comparison_variants():
    variants = comparison_variants(SINE)
    assert list(variants) == ["maml", "fomaml", "metasgd", "lstm_meta_plus"]
    assert {v.role for v in variants.values()} == {"compared"}
    assert variants["maml"].order == "first" and variants["fomaml"].order == "first"  # maml with first_order: true
    assert variants["metasgd"].order == "second" and variants["metasgd"].inner_steps == 2
    assert variants["lstm_meta_plus"].inner_steps == 8  # its own updates per task
    spec = variant_spec(SINE, "comparison", "fomaml", 1)
    assert (spec.dataset, spec.ways, spec.seed, spec.shots, spec.queries, spec.filters) == ("sine", 1, 1, 5, 5, 8)
    assert spec.options == {"inner_lr": 0.02} and spec.val_seed == 7 and spec.iterations == 3


def test_turtle_study_variants_fix_alpha_and_the_inputs():
    variants = turtle_study_variants(SINE)
    assert len(variants) == 2 * 2 * 2 + 2 * 2
    assert {n for n, v in variants.items() if v.role == "reference"} == {"fomaml-t1", "fomaml-t3", "maml-t1", "maml-t3"}
    second = variants["turtle-t3-h2"]
    assert (second.algorithm, second.order, second.inner_steps, second.hidden_layers) == ("turtle", "second", 3, 2)
    assert second.options == {**SINE["algorithm_options"]["turtle"], **TURTLE_STUDY_OPTIONS, "lr_init": 0.05,
                              "hidden_layers": 2, "first_order": False}
    first = variants["fo_turtle-t1-h0"]
    assert first.options == {**SINE["algorithm_options"]["fo_turtle"], "learn_lr": False, "lr_init": 0.05,
                             "inputs": ["gradient"], "hidden_layers": 0}
    assert variants["maml-t3"].options == {"inner_lr": 0.01, "first_order": False}  # the reference is second order
    assert variants["fomaml-t1"].order == "first"
    assert variant_spec(SINE, "turtle_study", "turtle-t3-h2", 0).inner_steps == 3
    with pytest.raises(ValueError, match="no variant"):
        variant_spec(SINE, "turtle_study", "turtle-t2-h2", 0)
    with pytest.raises(ValueError, match="experiment"):
        experiment_variants(SINE, "ablation")


def test_study_variants_build():
    for name in ("turtle", "fo_turtle"):
        needs(name)
    for variant in ("turtle-t3-h2", "fo_turtle-t1-h0"):
        learner = build_sine_run(variant_spec(SINE, "turtle_study", variant, 0))
        assert learner.regression and not learner.learn_lr and learner.lr_init == 0.05


def test_run_files_and_identity():
    files = run_files(SINE, "comparison", "mse.csv")
    assert len(files) == 4 * 2 and files[0] == "results/sine/comparison/maml/seed0/mse.csv"
    assert RUN_DIR.format(experiment="turtle_study", variant="maml-t1", seed=1) in " ".join(
        run_files(SINE, "turtle_study", "x"))
    assert run_identity(SINE, "turtle_study", "fo_turtle-t3-h2", 1) == {
        "experiment": "turtle_study", "variant": "fo_turtle-t3-h2", "algorithm": "fo_turtle", "role": "turtle",
        "order": "first", "inner_steps": 3, "hidden_layers": 2, "seed": 1, "split": "val"}
    assert evaluation_settings(SINE, "comparison") == {"split": "test", "shots": 5, "queries": 11, "seed": 7,
                                                       "n_tasks": 6}


def test_score_run_writes_the_identity_beside_each_task():
    learner = build_sine_run(variant_spec(SINE, "turtle_study", "maml-t1", 0))
    identity = run_identity(SINE, "turtle_study", "maml-t1", 0)
    table = score_run(learner, identity, evaluation_settings(SINE, "turtle_study"))
    assert list(table.columns) == [*RS.IDENTITY, "task", "mse"] and len(table) == 6
    assert table["hidden_layers"].isna().all() and (table["split"] == "val").all()
    expected = evaluate_sine(learner, split="val", shots=5, queries=11, seed=7, n_tasks=6)
    np.testing.assert_allclose(table["mse"], expected)


def test_schema_defaults_of_the_sine_block():
    assert "sine" in load_schema()["properties"], "config/schema.yaml has no sine block"
    sine_config = validate_config({})["sine"]
    assert sine_config["shots"] == 5 and sine_config["hidden_units"] == 40
    assert set(sine_config["algorithm_options"]) >= set(SINE_ALGORITHMS)
    for experiment in ("comparison", "turtle_study"):
        for variant in experiment_variants(sine_config, experiment):
            variant_spec(sine_config, experiment, variant, 0)


# --------------------------------------------------------------------------------------
# Tables and figures
# --------------------------------------------------------------------------------------

def synthetic_tasks(seed: int = 0, n_tasks: int = 12) -> dict[str, pd.DataFrame]:
    """Per-task tables of both experiments with the workflow's columns (3 seeds)."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(experiment, variant, algorithm, role, order, steps, layers, split, level):
        for s in range(3):
            run_level = level * (1 + 0.1 * rng.normal())
            for t in range(n_tasks):
                rows.append(dict(experiment=experiment, variant=variant, algorithm=algorithm, role=role, order=order,
                                 inner_steps=steps, hidden_layers=layers, seed=s, split=split, task=t,
                                 mse=run_level * rng.exponential()))

    for algorithm, level in (("maml", 0.6), ("fomaml", 0.7), ("lstm_meta", 1.2), ("turtle", 0.4)):
        order = "first" if algorithm in ("fomaml", "lstm_meta") else "second"
        add("comparison", algorithm, algorithm, "compared", order, 5, 5 if algorithm == "turtle" else None, "test", level)
    for order in ("first", "second"):
        turtle, maml = ("turtle", "maml") if order == "second" else ("fo_turtle", "fomaml")
        for steps in (1, 5):
            for layers in (1, 3, 5):
                add("turtle_study", f"{turtle}-t{steps}-h{layers}", turtle, "turtle", order, steps, layers, "val",
                    (0.5 if order == "second" else 1.5) * (1 + 0.05 * layers))
            add("turtle_study", f"{maml}-t{steps}", maml, "reference", order, steps, None, "val", 0.8)
    tasks = pd.DataFrame(rows)
    return {e: tasks[tasks["experiment"] == e].reset_index(drop=True) for e in ("comparison", "turtle_study")}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The synthetic per-task tables through CSV (as the workflow reads them), then summarised."""
    directory = tmp_path_factory.mktemp("sine_tables")
    out = {}
    for experiment, tasks in synthetic_tasks().items():
        paths = []
        for i, (_, g) in enumerate(tasks.groupby(["variant", "seed"], sort=False)):
            paths.append(directory / f"{experiment}{i}.csv")
            g.to_csv(paths[-1], index=False)
        runs = RS.run_table(RS.read_tasks(paths))
        out[experiment] = (tasks, runs, RS.summary_table(runs))
    return out


def test_run_and_summary_tables(tables):
    tasks, runs, summary = tables["turtle_study"]
    assert list(runs.columns) == list(RS.RUN_COLUMNS) and len(runs) == 16 * 3
    assert list(summary.columns) == list(RS.SUMMARY_COLUMNS) and len(summary) == 16
    run = runs[(runs["variant"] == "turtle-t5-h3") & (runs["seed"] == 1)].iloc[0]
    sel = tasks[(tasks["variant"] == "turtle-t5-h3") & (tasks["seed"] == 1)]["mse"]
    assert run["mse"] == pytest.approx(sel.mean()) and run["n_tasks"] == 12
    assert run["ci95_low"] < run["mse"] < run["ci95_high"]
    row = summary[summary["variant"] == "fomaml-t1"].iloc[0]
    per_seed = runs[runs["variant"] == "fomaml-t1"]["mse"]
    assert row["median"] == pytest.approx(np.median(per_seed)) and row["mean"] == pytest.approx(per_seed.mean())
    assert row["n_seeds"] == 3 and row["ci95_low"] < row["mean"] < row["ci95_high"]
    assert pd.isna(row["hidden_layers"]) and row["role"] == "reference"
    assert summary[summary["role"] == "turtle"]["hidden_layers"].notna().all()


def test_one_seed_and_a_small_grid_still_draw(tables):
    _, runs, _ = tables["comparison"]
    summary = RS.summary_table(runs[runs["seed"] == 0])
    assert (summary["n_seeds"] == 1).all() and summary["ci95_low"].isna().all()
    RS.draw_sine_comparison(summary).clear()  # points without error bars
    _, runs, _ = tables["turtle_study"]
    small = runs[(runs["seed"] == 0) & (runs["inner_steps"] == 1) & (runs["hidden_layers"].isna()
                                                                      | (runs["hidden_layers"] == 3))]
    fig = RS.draw_sine_turtle_study(RS.summary_table(small))
    assert len(fig.axes) == 2 and all(len(ax.containers) == 1 for ax in fig.axes)
    fig.clear()


def test_comparison_figure(tables, tmp_path):
    _, runs, summary = tables["comparison"]
    fig = RS.draw_sine_comparison(summary, runs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["MAML", "FO-MAML", "Meta-learner\nLSTM", "TURTLE"]
    assert "meta-test" in ax.get_ylabel()
    # One error bar per algorithm, at its mean; one median bar each.
    bars = [c for c in ax.containers]
    assert len(bars) == 4
    for container, mean in zip(bars, summary["mean"]):
        assert container.lines[0].get_ydata()[0] == pytest.approx(mean)
    paths = save_figure(fig, tmp_path / "sine_comparison")
    assert paths[0].read_bytes().startswith(b"\x89PNG") and paths[0].stat().st_size > 5000
    ET.parse(paths[1])


def test_turtle_study_figure(tables, tmp_path):
    _, _, summary = tables["turtle_study"]
    fig = RS.draw_sine_turtle_study(summary)
    first, second = fig.axes
    assert first.get_title().startswith("First order") and second.get_title().startswith("Second order")
    for ax, order in ((first, "first"), (second, "second")):
        assert len(ax.containers) == 2  # one line per T
        grid = summary[(summary["order"] == order) & (summary["role"] == "turtle") & (summary["inner_steps"] == 1)]
        np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), grid.sort_values("hidden_layers")["mean"])
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        refs = summary[(summary["order"] == order) & (summary["role"] == "reference")]
        assert sorted(line.get_ydata()[0] for line in dashed) == pytest.approx(sorted(refs["mean"]))
    paths = save_figure(fig, tmp_path / "sine_turtle_study")
    assert paths[0].stat().st_size > 5000
    ET.parse(paths[1])
    with pytest.raises(ValueError, match="TURTLE"):
        RS.draw_sine_turtle_study(summary[summary["role"] == "reference"])


def test_report_tables(tables):
    html = RS.sine_report_tables(tables["comparison"][2], tables["turtle_study"][2])
    assert set(html) == {"sine_comparison", "sine_turtle_study"}
    maml = tables["comparison"][2].iloc[0]
    assert "<td>MAML</td>" in html["sine_comparison"] and f"{maml['median']:.3f}" in html["sine_comparison"]
    assert html["sine_turtle_study"].count("<tr>") == 1 + 16
    assert "First order" in html["sine_turtle_study"] and "Second order" in html["sine_turtle_study"]


def test_missing_column_is_an_error(tables):
    _, runs, summary = tables["comparison"]
    with pytest.raises(ValueError, match="median"):
        RS.draw_sine_comparison(summary.drop(columns=["median"]))
    with pytest.raises(ValueError, match="mse"):
        RS.run_table(runs.drop(columns=["mse"]))
