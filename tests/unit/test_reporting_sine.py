"""The sine-wave study's tables and figures (innerloop.reporting.sine)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from innerloop.reporting import sine as RS
from innerloop.reporting.figures import save_figure


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
