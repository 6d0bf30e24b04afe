"""The report's convergence material: the per-run table read from model.pt, the table per
algorithm, the learning-curve figure, the marks on the meta-test table and the methods text."""

import copy

import pandas as pd
import torch

from innerloop.convergence import (CONVERGED, DIVERGED, NOT_META_TRAINED, RUN_COLUMNS, STILL_IMPROVING, PlateauRule,
                                   convergence_runs, convergence_summary, unconverged)
from innerloop.reporting import render as R
from innerloop.reporting.convergence import MARK, convergence_context, draw_learning_curves
from innerloop.reporting.figures import save_figure
from innerloop.runs import RunSpec
from innerloop.stats import meta_test_summary, meta_test_table
from innerloop.stats.summaries import meta_test_runs
from innerloop.training import train
from test_reporting import (CAPTION_DIR, TEMPLATE_DIR, save_figures, synthetic_frames, synthetic_provenance,
                            synthetic_setup)

RUNS = pd.DataFrame([
    # algorithm, seed, status, iterations, best_iteration, best accuracy, slope, seconds
    ("maml", 0, CONVERGED, 800, 600, 0.71, 0.2, 100.0),
    ("maml", 1, STILL_IMPROVING, 1000, 1000, 0.69, 3.1, 130.0),
    ("metasgd", 0, CONVERGED, 600, 400, 0.80, -0.1, 90.0),
    ("metasgd", 1, CONVERGED, 400, 200, 0.78, 0.0, 70.0),
    ("scratch", 0, NOT_META_TRAINED, 0, 0, 0.50, float("nan"), 1.0),
    ("scratch", 1, NOT_META_TRAINED, 0, 0, 0.52, float("nan"), 1.0),
], columns=["algorithm", "seed", "status", "iterations", "best_iteration", "best_validation_accuracy",
            "last_window_slope", "wall_seconds"]).assign(dataset="glyphs", setting="5w1s", budget=1000)[RUN_COLUMNS]


def validation_of(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in runs.iterrows():
        points = [0] if r["iterations"] == 0 else range(200, r["iterations"] + 1, 200)
        for it in points:
            rows.append({"algorithm": r["algorithm"], "setting": "5w1s", "seed": r["seed"], "iteration": it,
                         "accuracy": r["best_validation_accuracy"] - (0.0 if it == r["best_iteration"] else 0.02),
                         "ci95": 0.03})
    return pd.DataFrame(rows)


def test_convergence_runs_reads_each_models_status(tmp_path, tiny_store):
    paths = []
    for algorithm, options in (("maml", {"inner_lr": 0.1}), ("scratch", {"finetune_steps": 2})):
        run = tmp_path / f"runs/tiny/{algorithm}/3w1s/seed0"
        spec = RunSpec(dataset="tiny", algorithm=algorithm, seed=0, ways=3, shots=1, queries=2, filters=4,
                       iterations=4, meta_batch=2, inner_steps=1, outer_lr=0.01, val_every=2, val_tasks=3,
                       val_seed=9, checkpoint_every=100, options=options)
        train(spec, tiny_store, model_path=run / "model.pt", log_path=run / "log.csv",
              validation_path=run / "validation.csv", checkpoint_path=run / "ckpt.pt", device=torch.device("cpu"),
              progress=False)
        paths.append(run / "model.pt")
    table = convergence_runs(paths)
    assert list(table.columns) == RUN_COLUMNS
    assert list(table["status"]) == [STILL_IMPROVING, NOT_META_TRAINED]
    assert list(table["iterations"]) == [4, 0] and list(table["budget"]) == [4, 0]
    maml_validation = pd.read_csv(paths[0].parent / "validation.csv")
    assert table["best_validation_accuracy"][0] == maml_validation["accuracy"].max()
    assert (table["wall_seconds"] > 0).all() and table["setting"].tolist() == ["3w1s", "3w1s"]


def test_summary_counts_statuses_and_medians():
    summary = convergence_summary(RUNS).set_index("algorithm")
    assert summary.loc["maml", ["converged", "still_improving", "diverged"]].tolist() == [1, 1, 0]
    assert summary.loc["maml", "iterations_median"] == 900 and summary.loc["metasgd", "wall_seconds_median"] == 80
    assert summary.loc["scratch", "not_meta_trained"] == 2
    assert unconverged(RUNS) == {("maml", "5w1s")}
    assert unconverged(RUNS.assign(status=RUNS["status"].replace(STILL_IMPROVING, DIVERGED))) == set()


def test_learning_curves_mark_stop_and_best_points(tmp_path):
    fig = draw_learning_curves(validation_of(RUNS), RUNS)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["MAML", "Meta-SGD"]  # scratch is not meta-trained
    maml = axes[0]
    markers = [(line.get_marker(), tuple(line.get_xdata())) for line in maml.lines if line.get_linestyle() == "None"]
    assert (">", (1000,)) in markers and ("s", (800,)) in markers  # stop points by status
    assert ("*", (600,)) in markers and ("*", (1000,)) in markers  # best-validation points
    assert save_figure(fig, tmp_path / "learning_curves")[0].stat().st_size > 0


def test_report_marks_unconverged_statistics_and_states_the_rule(tmp_path):
    frames = synthetic_frames()
    runs = meta_test_runs(pd.DataFrame([
        {"dataset": "glyphs", "algorithm": a, "setting": "5w1s", "ways": 5, "shots": 1, "seed": s, "task": t,
         "accuracy": 0.5 + 0.1 * (a == "metasgd") + 0.01 * t} for a in ("maml", "metasgd") for s in (0, 1)
        for t in range(5)]))
    table = meta_test_table(meta_test_summary(runs))
    tables, context = convergence_context(RUNS, table, {"window": 4, "delta": 0.01, "patience": 2}, 1000)
    assert context["rule"] == PlateauRule(4, 0.01, 2).describe()
    assert (context["runs"], context["converged"], context["still_improving"]) == (4, 3, 1)
    html = str(tables["meta_test_table"])
    maml_row = next(line for line in html.splitlines() if ">MAML<" in line)
    metasgd_row = next(line for line in html.splitlines() if ">Meta-SGD<" in line)
    assert MARK in maml_row and MARK not in metasgd_row

    figs = save_figures(frames, tmp_path / "figures")
    figs["learning_curves"] = save_figure(draw_learning_curves(validation_of(RUNS), RUNS), tmp_path / "lc")[0]
    ctx = R.build_context(frames=frames, setup=synthetic_setup(), provenance=synthetic_provenance(),
                          figures={**figs, "rulegraph": None}, caption_dir=CAPTION_DIR)
    plain = R.render_html(copy.deepcopy(ctx), TEMPLATE_DIR, tmp_path / "plain.html").read_text()
    ctx["tables"].update(tables)
    ctx["convergence"] = context
    text = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "report.html").read_text()
    assert "Stopping rule and the evaluated checkpoint" in text and "Stopping rule" not in plain
    assert PlateauRule(4, 0.01, 2).describe() in text
    assert "best-validation checkpoint" in text and 'id="fig-learning_curves"' in text
    assert f'<p class="note">{MARK} The median rests on at least one run' in text
    assert "3 converged" in text and "1 reached the budget still improving" in text
