"""Ablations: learned-rate sign variants, test-time procedures, paired statistics, the
convergence-iteration function and the convergence grid / inner-steps sweep end to end."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.sampler import TaskSampler
from innerloop.evaluation.ablations import (
    RATE_VARIANTS,
    convergence_grid,
    iterations_to_threshold,
    procedure_accuracies,
    rate_ablation_probe,
    with_rate_variant,
)
from innerloop.evaluation.learning_rates import layer_statistics, learning_rate_values
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.evaluation.probe import feature_probe
from innerloop.scoring import evaluate
from innerloop.stats.ablations import (
    convergence_display,
    inner_steps_probe_table,
    inner_steps_rates_table,
    paired_vs_reference,
    procedure_table,
    rate_ablation_table,
)
from innerloop.runs import RunSpec
from innerloop.training import build_run, train

CPU = torch.device("cpu")


def _spec(**overrides) -> RunSpec:
    spec = RunSpec(dataset="tiny", algorithm="metasgd", seed=0, ways=3, shots=1, queries=2, filters=4, iterations=2,
                   meta_batch=1, inner_steps=1, outer_lr=1e-3, val_every=2, val_tasks=2, val_seed=0,
                   checkpoint_every=2, options={"lr_init_low": -0.05, "lr_init_high": 0.05})
    return replace(spec, **overrides)


@pytest.fixture
def metasgd(tiny_store):
    """A Meta-SGD learner whose rates are about half negative."""
    return build_run(_spec(), tiny_store.image_shape)


def _state(learner):
    return {k: v.clone() for k, v in learner.state_dict().items()}


@pytest.mark.parametrize("variant", RATE_VARIANTS)
def test_rate_variants_change_exactly_the_negative_rates(metasgd, variant):
    before = _state(metasgd)
    varied = with_rate_variant(metasgd, variant)
    after = _state(metasgd)
    assert all(torch.equal(before[k], after[k]) for k in before)  # the trained learner is untouched
    negatives = 0
    for name, rate in metasgd.extra["lr"].items():
        new = varied.extra["lr"][name].detach()
        negative = rate.detach() < 0
        negatives += int(negative.sum())
        assert torch.equal(new[~negative], rate.detach()[~negative])
        expected = {"as_trained": rate.detach(), "zero_negative": torch.zeros_like(rate),
                    "flip_negative": -rate.detach()}[variant][negative]
        assert torch.equal(new[negative], expected)
        assert torch.equal(varied.init[name].detach(), metasgd.init[name].detach())
    assert negatives > 0


def test_rate_variants_refuse_other_learners(tiny_store, metasgd):
    with pytest.raises(ValueError, match="Meta-SGD"):
        with_rate_variant(build_run(_spec(algorithm="maml", options={"inner_lr": 0.1}), tiny_store.image_shape),
                          "zero_negative")
    positive = build_run(_spec(options={"positive": True}), tiny_store.image_shape)
    with pytest.raises(ValueError, match="positive"):
        with_rate_variant(positive, "flip_negative")
    with pytest.raises(ValueError, match="unknown rate variant 'half'"):
        with_rate_variant(metasgd, "half")


def test_rate_ablation_probe_uses_the_same_tasks_per_variant(tiny_store, metasgd):
    sampler = TaskSampler(tiny_store, "test", 3, 1, 2, seed=1)
    probe = rate_ablation_probe(metasgd, sampler, 3, CPU)
    assert list(probe["variant"].unique()) == list(RATE_VARIANTS)
    by = {v: g.reset_index(drop=True) for v, g in probe.groupby("variant")}
    # pre-adaptation scores the (shared) meta-initialisation on the same tasks
    for v in RATE_VARIANTS:
        pd.testing.assert_series_equal(by[v]["pre_adaptation"], by["as_trained"]["pre_adaptation"])
    assert by["zero_negative"]["fraction_negative"].iloc[0] == 0 == by["flip_negative"]["fraction_negative"].iloc[0]
    assert by["as_trained"]["fraction_negative"].iloc[0] > 0
    plain = feature_probe(metasgd, sampler, 3, CPU, progress=False)
    pd.testing.assert_frame_equal(by["as_trained"][plain.columns], plain)


def test_paired_vs_reference():
    df = pd.DataFrame({"seed": [0, 0, 1, 1] * 2, "task": [0, 1, 0, 1] * 2,
                       "variant": ["ref"] * 4 + ["x"] * 4, "value": [0.1, 0.5, 0.3, 0.2, 0.3, 0.6, 0.6, 0.2]})
    out = paired_vs_reference(df, by=[], variant="variant", reference="ref", value="value", pair=["seed", "task"])
    ref, x = out.iloc[0], out.iloc[1]
    assert np.isnan(ref["difference"]) and ref["test"] == ""
    assert x["difference"] == pytest.approx(np.mean([0.2, 0.1, 0.3, 0.0]))
    from scipy import stats
    assert x["p_value"] == pytest.approx(stats.ttest_rel([0.3, 0.6, 0.6, 0.2], [0.1, 0.5, 0.3, 0.2]).pvalue)
    with pytest.raises(ValueError, match="not paired"):
        paired_vs_reference(df.iloc[:7], by=[], variant="variant", reference="ref", value="value",
                            pair=["seed", "task"])


def test_test_time_procedures(tiny_store):
    learner = build_run(_spec(algorithm="maml", options={"inner_lr": 0.5}, inner_steps=2), tiny_store.image_shape)
    sampler = TaskSampler(tiny_store, "test", 3, 1, 2, seed=4)
    out = procedure_accuracies(learner, sampler, 4, CPU)
    assert len(out) == 12 and set(out["procedure"]) == {"none", "task", "other_task"}
    assert (out.groupby("procedure")["task"].apply(list) == [[0, 1, 2, 3]] * 3).all()  # same tasks
    # no adaptation = the meta-initialisation's accuracy; adaptation to the task = the meta-test
    init_only = evaluate(learner, sampler.tasks(4), CPU, steps=0)
    np.testing.assert_allclose(out.loc[out.procedure == "none", "accuracy"], init_only)
    np.testing.assert_allclose(out.loc[out.procedure == "task", "accuracy"], evaluate(learner, sampler.tasks(4), CPU))
    assert (out.loc[out.procedure == "other_task", "support_task"] == [4, 5, 6, 7]).all()
    # with a learner that adapts only the head, adapting to another task changes nothing
    anil = build_run(_spec(algorithm="anil", options={"inner_lr": 0.5}, inner_steps=2), tiny_store.image_shape)
    a = procedure_accuracies(anil, sampler, 4, CPU)
    np.testing.assert_array_equal(a.loc[a.procedure == "other_task", "accuracy"],
                                  a.loc[a.procedure == "none", "accuracy"])


def test_iterations_to_threshold_on_synthetic_curves():
    falling = np.linspace(2.0, 0.0, 21)  # 2.0, 1.9, ..., 0.0
    assert iterations_to_threshold(falling, 1.0) == (12, "reached")  # 0.9 at iteration 12
    assert iterations_to_threshold(falling, 1.0, window=3) == (13, "reached")  # mean(1.0, 0.9, 0.8)
    assert iterations_to_threshold(falling, -1.0) == (None, "not_reached")
    assert iterations_to_threshold([2.0, 1.5, np.inf, 0.1], 1.0) == (None, "diverged")
    assert iterations_to_threshold([2.0, 1.5, np.nan], 1.0) == (None, "diverged")
    assert iterations_to_threshold([0.5, np.nan], 1.0) == (1, "reached")  # reached before it diverged
    with pytest.raises(ValueError, match="window"):
        iterations_to_threshold(falling, 1.0, window=0)


def test_convergence_grid_end_to_end(tiny_store):
    spec = _spec(algorithm="alpha_maml", options={}, iterations=4, meta_batch=2)
    grid, log = convergence_grid(spec, tiny_store, alphas=[0.01, 1e6], betas=[0.01], threshold=5.0, window=2,
                                 alpha_hyperlr=1e-4, beta_hyperlr=1e-6, device=CPU)
    assert len(grid) == 4 and set(grid["method"]) == {"maml", "alpha_maml"}
    assert set(grid["status"]) <= {"reached", "not_reached", "diverged"}
    # cross-entropy of a 3-way guess starts near ln 3 < 5: reached at once with a sane alpha
    sane = grid[grid.alpha0 == 0.01]
    assert (sane["status"] == "reached").all() and (sane["iterations_to_threshold"] == 1).all()
    huge = grid[grid.alpha0 == 1e6]
    assert (huge["status"] != "reached").all()  # a million-fold inner step never trains
    maml_log = log[(log.method == "maml") & (log.alpha0 == 0.01)]
    assert maml_log["alpha"].nunique() == 1 and maml_log["alpha"].iloc[0] == pytest.approx(0.01)  # MAML: fixed
    assert (maml_log["beta"] == 0.01).all()
    am_log = log[(log.method == "alpha_maml") & (log.alpha0 == 0.01)]
    assert len(am_log) == 4 and am_log["alpha"].nunique() > 1  # adapted online


def test_inner_steps_sweep_end_to_end(tmp_path, tiny_store):
    rows = []
    for steps in (1, 3):
        spec = _spec(options={}, inner_steps=steps)
        run = tmp_path / f"steps{steps}"
        train(spec, tiny_store, model_path=run / "model.pt", log_path=run / "log.csv",
              validation_path=run / "val.csv", checkpoint_path=run / "ckpt.pt", device=CPU, progress=False)
        learner, loaded, sampler = load_for_evaluation(run / "model.pt", tiny_store.path, split="test", seed=2,
                                                       device=CPU)
        assert loaded.inner_steps == steps and learner.eval_steps == steps
        layers = layer_statistics(learning_rate_values(learner)).assign(inner_steps=steps)
        probe = feature_probe(learner, sampler, 2, CPU, progress=False).assign(inner_steps=steps)
        rows.append((layers, probe))
    layers = pd.concat([r[0] for r in rows])
    assert set(layers["inner_steps"]) == {1, 3} and set(layers["layer"]) >= {"conv1", "logits"}


def _probe_rows(variant, seed, offset):
    rng = np.random.default_rng(seed)
    on = rng.uniform(0, 0.2, 5)
    return pd.DataFrame({"setting": "3w1s", "algorithm": "metasgd", "seed": seed, "variant": variant,
                         "iteration": range(5), "on_task_change": on, "off_task_change": on + offset,
                         "fraction_negative": 0.0 if variant != "as_trained" else 0.4})


def test_rate_ablation_table_pairs_every_variant_with_the_rates_as_trained():
    variants = pd.concat([_probe_rows(v, s, off) for s in (0, 1)
                          for v, off in (("as_trained", 0.1), ("zero_negative", 0.05), ("flip_negative", 0.1))])
    positive = pd.concat([_probe_rows("x", s, -0.1) for s in (0, 1)]).drop(columns=["variant", "fraction_negative"])
    table = rate_ablation_table(variants, positive)
    assert list(table["variant"]) == ["as_trained", "zero_negative", "flip_negative", "positive_trained"]
    t = table.set_index("variant")
    assert t.loc["as_trained", "mean"] == pytest.approx(0.1) and np.isnan(t.loc["as_trained", "difference"])
    assert t.loc["zero_negative", "difference"] == pytest.approx(-0.05)
    assert t.loc["flip_negative", "difference"] == pytest.approx(0.0) and t.loc["flip_negative", "p_value"] == 1.0
    assert t.loc["positive_trained", "difference"] == pytest.approx(-0.2) and t.loc["positive_trained", "n"] == 10
    assert t.loc["as_trained", "fraction_negative"] == pytest.approx(0.4)


def test_tables_and_figures_of_the_ablations():
    from innerloop.reporting import ablation_figures
    from innerloop.reporting.ablations import test_time_html

    tasks = pd.DataFrame([{"algorithm": a, "setting": "3w1s", "seed": s, "task": t, "procedure": p,
                           "accuracy": 0.2 + 0.1 * (p == "task") + 0.01 * t}
                          for a in ("maml", "anil") for s in (0, 1) for t in range(3)
                          for p in ("none", "task", "other_task")])
    table = procedure_table(tasks)
    assert len(table) == 6
    assert table.loc[table.procedure == "none", "difference"].to_numpy() == pytest.approx([-0.1, -0.1])
    assert "adapted to another task" in test_time_html(table)
    grid = pd.DataFrame({"method": ["maml", "maml", "alpha_maml", "alpha_maml"], "alpha0": [0.1, 0.1, 0.1, 0.1],
                         "beta0": [0.1, 1.0, 0.1, 1.0], "status": ["reached", "diverged", "reached", "not_reached"],
                         "iterations_to_threshold": pd.array([12, None, 7, None], dtype="Int64"),
                         "iterations_run": [20, 3, 20, 20]})
    shown = convergence_display(grid)
    assert list(shown.iloc[0]) == ["0.1", "12", "diverged", "7", ""]
    log = pd.DataFrame({"method": "alpha_maml", "alpha0": 0.1, "beta0": 0.1, "iteration": [1, 2],
                        "alpha": [0.1, 0.11], "beta": [0.1, 0.1]})
    probe = pd.DataFrame([{"algorithm": a, "inner_steps": k, "seed": 0, "iteration": i, "pre_adaptation": 0.5,
                           "on_task": 0.6, "off_task": 0.5 + 0.01 * i, "on_task_change": 0.1,
                           "off_task_change": 0.01 * i} for a in ("maml", "metasgd") for k in (1, 3) for i in range(4)])
    sweep = inner_steps_probe_table(probe)
    assert len(sweep) == 4 and sweep["off_minus_on"].to_numpy() == pytest.approx([-0.085] * 4)
    layers = pd.DataFrame([{"algorithm": "metasgd", "inner_steps": k, "seed": s, "layer": layer, "mean": 0.01,
                            "std": 0.1, "median": 0.0, "fraction_negative": 0.25 * s, "n": 10}
                           for k in (1, 3) for s in (0, 1) for layer in ("logits", "conv1")])
    rates = inner_steps_rates_table(layers)
    assert list(rates["layer"][:2]) == ["conv1", "logits"] and (rates["fraction_negative"] == 0.125).all()
    assert (rates["n_seeds"] == 2).all()
    for fig in (ablation_figures.draw_ablation_test_time(table),
                ablation_figures.draw_ablation_convergence(grid, log),
                ablation_figures.draw_ablation_inner_steps(sweep, rates)):
        assert fig.axes


def test_inner_steps_sweep_per_training_and_probe_dataset():
    """Each (training dataset, probe dataset) is a group of its own in the table, a line of
    its own in the figure, named after the direction; the rates are per training dataset."""
    from innerloop.reporting import ablation_figures

    probe = pd.DataFrame([{"algorithm": "metasgd", "dataset": train, "probe_dataset": probed, "inner_steps": k,
                           "seed": 0, "iteration": i, "pre_adaptation": 0.5, "on_task": 0.6, "off_task": 0.5,
                           "on_task_change": 0.0, "off_task_change": shift}
                          for train, probed, shift in (("glyphs", "glyphs", 0.01), ("glyphs", "digits", -0.02),
                                                       ("omniglot", "omniglot", 0.03))
                          for k in (1, 3) for i in range(3)])
    sweep = inner_steps_probe_table(probe)
    assert list(sweep.columns[:4]) == ["algorithm", "dataset", "probe_dataset", "inner_steps"]
    assert len(sweep) == 6
    by = sweep.set_index(["dataset", "probe_dataset", "inner_steps"])["off_minus_on"]
    assert by[("glyphs", "digits", 3)] == pytest.approx(-0.02)
    assert by[("omniglot", "omniglot", 1)] == pytest.approx(0.03)
    layers = pd.DataFrame([{"algorithm": "metasgd", "dataset": d, "inner_steps": k, "seed": 0, "layer": "conv1",
                            "mean": 0.01, "std": 0.1, "median": 0.0, "fraction_negative": f, "n": 10}
                           for d, f in (("glyphs", 0.2), ("omniglot", 0.6)) for k in (1, 3)])
    rates = inner_steps_rates_table(layers)
    assert rates.set_index(["dataset", "inner_steps"])["fraction_negative"][("omniglot", 3)] == pytest.approx(0.6)
    fig = ablation_figures.draw_ablation_inner_steps(sweep, rates)
    labels = [line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert labels == ["Meta-SGD, glyphs", "Meta-SGD, glyphs → digits", "Meta-SGD, omniglot"]
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["conv1, glyphs", "conv1, omniglot"]


def test_the_report_shows_the_ablations_section(tmp_path):
    from test_reporting import CAPTION_DIR, TEMPLATE_DIR, synthetic_frames, synthetic_provenance, synthetic_setup

    from innerloop.reporting import ablation_figures
    from innerloop.reporting import render as R
    from innerloop.reporting.ablations import FIGURES, ablation_context
    from innerloop.reporting.figures import save_figure

    frames = synthetic_frames()
    from innerloop.reporting.figures import placeholder

    png = save_figure(placeholder("a figure"), tmp_path / "figures" / "placeholder")[0]  # the others' figures
    ctx = R.build_context(frames=frames, setup=synthetic_setup(), provenance=synthetic_provenance(),
                          figures={**dict.fromkeys(R.FIGURE_KEYS, png), "rulegraph": None}, caption_dir=CAPTION_DIR,
                          generated="2026-01-01T07:00:00+00:00")
    assert "ablations" not in [s["id"] for s in R.report_sections(ctx)]
    variants = pd.concat([_probe_rows(v, s, off) for s in (0, 1)
                          for v, off in (("as_trained", 0.1), ("zero_negative", 0.05), ("flip_negative", 0.2))])
    rates = rate_ablation_table(variants)
    tasks = pd.DataFrame([{"algorithm": "maml", "seed": s, "task": t, "procedure": p, "accuracy": 0.3 + 0.01 * t}
                          for s in (0, 1) for t in range(3) for p in ("none", "task", "other_task")])
    test_time = procedure_table(tasks)
    probe = inner_steps_probe_table(pd.DataFrame([{"algorithm": "maml", "inner_steps": k, "seed": 0, "iteration": i,
                                                   "pre_adaptation": 0.5, "on_task": 0.6, "off_task": 0.5,
                                                   "on_task_change": 0.1, "off_task_change": 0.01 * i}
                                                  for k in (1, 3) for i in range(3)]))
    grid = pd.DataFrame({"method": ["maml", "alpha_maml"], "alpha0": [0.1, 0.1], "beta0": [0.1, 0.1],
                         "status": ["diverged", "reached"], "iterations_to_threshold": pd.array([None, 7], "Int64"),
                         "iterations_run": [3, 20]})
    log = pd.DataFrame({"method": "alpha_maml", "alpha0": 0.1, "beta0": 0.1, "iteration": [1, 2],
                        "alpha": [0.1, 0.11], "beta": [0.1, 0.1]})
    paths = {"ablation_rate_signs": ablation_figures.draw_ablation_rate_signs(rates),
             "ablation_test_time": ablation_figures.draw_ablation_test_time(test_time),
             "ablation_inner_steps": ablation_figures.draw_ablation_inner_steps(probe, pd.DataFrame()),
             "ablation_convergence": ablation_figures.draw_ablation_convergence(grid, log)}
    ctx["figures"].update({k: save_figure(fig, tmp_path / "figures" / k)[0] for k, fig in paths.items()})
    assert set(paths) == set(FIGURES)
    config = {"ablations": {"test_time_tasks": 3, "inner_steps": {"algorithms": ["maml"], "steps": [1, 3],
                                                                  "iterations": 5, "seeds": [0]},
                            "convergence": {"alphas": [0.1], "betas": [0.1], "iterations": 20, "inner_steps": 1,
                                            "seed": 0, "threshold": 1.3, "window": 2, "alpha_hyperlr": 1e-4,
                                            "beta_hyperlr": 1e-6}},
              "evaluation": {"probe_iterations": 5}, "train": {"iterations": 150}, "seeds": [0, 1]}
    tables, ctx["ablations"] = ablation_context(
        rate_signs=rates, test_time=test_time, inner_steps_probe=probe, inner_steps_rates=pd.DataFrame(),
        convergence_grid=convergence_display(grid).astype(str), convergence_runs=grid, config=config)
    ctx["tables"].update(tables)
    html = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="ablation-rate-signs"' in html and 'id="ablation-convergence"' in html
    assert "negative rates sign-flipped" in html and "adapted to another task" in html
    assert "diverged" in html and "1 reached the threshold" in html
    assert "Learned inner learning rates per layer of the inner-steps sweep" not in html  # no rate learner swept


def test_the_sweep_s_rows_say_their_inner_steps_and_probe_dataset():
    """Each sweep run's probe rows take their inner steps from the plan's study, and its
    cross-domain rows keep the task setting, naming the direction by probe_dataset."""
    from innerloop.runs import RunId
    from innerloop.stats.ablations import sweep_probes, with_inner_steps

    steps = {"steps1": 1, "steps3": 3}
    probe = pd.DataFrame({"iteration": [0, 1], "on_task": [0.5, 0.6]})
    own = pd.concat([RunId("glyphs", "maml", 5, 1, 0, study).tag(probe) for study in steps], ignore_index=True)
    cross = RunId("glyphs", "maml", 5, 1, 0, "steps3").tag(probe, target="digits")
    rows = sweep_probes(own, cross, steps)
    assert "study" not in rows and "target" not in rows
    assert rows["inner_steps"].tolist() == [1, 1, 3, 3, 3, 3]
    assert rows["probe_dataset"].tolist() == ["glyphs"] * 4 + ["digits"] * 2
    assert set(rows["setting"]) == {"5w1s"}
    assert sweep_probes(own, None, steps)["probe_dataset"].eq("glyphs").all()
    assert with_inner_steps(own.copy(), steps)["inner_steps"].tolist() == [1, 1, 3, 3]
