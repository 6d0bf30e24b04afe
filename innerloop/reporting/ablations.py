"""The report's "Ablations" section: display tables and the facts its text quotes."""

from __future__ import annotations

from typing import Any

import pandas as pd
from markupsafe import Markup

from innerloop.reporting.ablation_figures import METHOD_LABELS, PROCEDURE_LABELS, VARIANT_LABELS
from innerloop.reporting.figures import algorithm_label
from innerloop.reporting.format import format_p
from innerloop.reporting.sections.ablations import SECTION
from innerloop.reporting.tables import format_table, to_html

#: The section's figure keys (innerloop.reporting.sections.ablations), drawn by the ablation rules of rules/stats.smk.
FIGURES = tuple(f.key for f in SECTION.figures)


def _p(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(p_value=[format_p(p) for p in df["p_value"]])


def rate_signs_html(table: pd.DataFrame) -> Markup:
    cols = [c for c in ("setting", "variant", "fraction_negative", "on_task_change", "off_task_change", "mean",
                        "ci95_low", "ci95_high", "difference", "difference_ci95_low", "difference_ci95_high",
                        "p_value", "n") if c in table.columns]
    df = _p(table[cols])
    return to_html(format_table(
        df, percent_cols=["fraction_negative", "on_task_change", "off_task_change", "mean", "ci95_low", "ci95_high",
                          "difference", "difference_ci95_low", "difference_ci95_high"],
        int_cols=["n"], signed_cols=["on_task_change", "off_task_change", "mean", "ci95_low", "ci95_high",
                                     "difference", "difference_ci95_low", "difference_ci95_high"],
        ci_cols=[("ci95_low", "ci95_high", "95% CI"), ("difference_ci95_low", "difference_ci95_high", "95% CI ")],
        labels={"variant": VARIANT_LABELS},
        rename={"setting": "Setting", "variant": "Rates", "fraction_negative": "Rates < 0",
                "on_task_change": "On-task change", "off_task_change": "Off-task change",
                "mean": "Off minus on", "difference": "Difference from as trained", "p_value": "p (paired t)",
                "n": "Pairs"}))


def test_time_html(table: pd.DataFrame) -> Markup:
    cols = [c for c in ("algorithm", "setting", "procedure", "mean", "ci95_low", "ci95_high", "difference",
                        "difference_ci95_low", "difference_ci95_high", "p_value", "n") if c in table.columns]
    df = _p(table[cols]).assign(algorithm=[algorithm_label(a) for a in table["algorithm"]])
    return to_html(format_table(
        df, percent_cols=["mean", "ci95_low", "ci95_high", "difference", "difference_ci95_low",
                          "difference_ci95_high"],
        int_cols=["n"], signed_cols=["difference", "difference_ci95_low", "difference_ci95_high"],
        ci_cols=[("ci95_low", "ci95_high", "95% CI"), ("difference_ci95_low", "difference_ci95_high", "95% CI ")],
        labels={"procedure": PROCEDURE_LABELS},
        rename={"algorithm": "Algorithm", "setting": "Setting", "procedure": "Test-time procedure",
                "mean": "Accuracy", "difference": "Difference from adapted to the task", "p_value": "p (paired t)",
                "n": "Tasks × seeds"}))


def inner_steps_html(probe: pd.DataFrame, rates: pd.DataFrame) -> tuple[Markup, Markup]:
    pcols = [c for c in ("algorithm", "dataset", "probe_dataset", "setting", "inner_steps", "pre_adaptation",
                         "on_task", "off_task", "off_minus_on", "off_minus_on_ci95_low", "off_minus_on_ci95_high", "n") if c in probe.columns]
    p = probe[pcols].assign(algorithm=[algorithm_label(a) for a in probe["algorithm"]])
    probe_html = to_html(format_table(
        p, percent_cols=["pre_adaptation", "on_task", "off_task", "off_minus_on", "off_minus_on_ci95_low",
                         "off_minus_on_ci95_high"],
        int_cols=["inner_steps", "n"], signed_cols=["off_minus_on", "off_minus_on_ci95_low", "off_minus_on_ci95_high"],
        ci_cols=[("off_minus_on_ci95_low", "off_minus_on_ci95_high", "95% CI")],
        rename={"algorithm": "Algorithm", "dataset": "Trained on", "probe_dataset": "Probed on", "setting": "Setting",
                "inner_steps": "Inner steps", "pre_adaptation": "Pre-adaptation", "on_task": "On-task",
                "off_task": "Off-task", "off_minus_on": "Off minus on", "n": "Iterations"}))
    if rates.empty:
        return probe_html, Markup("")
    r = rates.assign(algorithm=[algorithm_label(a) for a in rates["algorithm"]])
    r = r.drop(columns=[c for c in ("std",) if c in r.columns])
    rates_html = to_html(format_table(
        r, float_cols=["mean", "median"], percent_cols=["fraction_negative"], int_cols=["inner_steps", "n_seeds"],
        float_digits=4, signed_cols=["mean", "median"],
        rename={"algorithm": "Algorithm", "dataset": "Trained on", "setting": "Setting", "inner_steps": "Inner steps",
                "layer": "Layer",
                "mean": "Mean rate", "median": "Median rate", "fraction_negative": "Rates < 0",
                "n_seeds": "Seeds"}))
    return probe_html, rates_html


def ablation_context(*, rate_signs: pd.DataFrame, test_time: pd.DataFrame, inner_steps_probe: pd.DataFrame,
                     inner_steps_rates: pd.DataFrame, convergence_grid: pd.DataFrame,
                     convergence_runs: pd.DataFrame, config: dict[str, Any]) -> tuple[dict, dict]:
    """The HTML tables (key -> Markup) and ``context["ablations"]`` of the section."""
    cfg = config["ablations"]
    probe_html, rates_html = inner_steps_html(inner_steps_probe, inner_steps_rates)
    tables = {"ablation_rate_signs": rate_signs_html(rate_signs) if len(rate_signs) else Markup(""),
              "ablation_test_time": test_time_html(test_time),
              "ablation_inner_steps_probe": probe_html,
              "ablation_inner_steps_rates": rates_html,
              "ablation_convergence": to_html(convergence_grid.fillna(""))}
    statuses = convergence_runs["status"].value_counts().to_dict()
    context = {
        "has_rate_signs": bool(len(rate_signs)),
        "positive_trained": bool(len(rate_signs)) and "positive_trained" in set(rate_signs["variant"]),
        "has_sweep_rates": not inner_steps_rates.empty,
        "probe_iterations": config["evaluation"]["probe_iterations"],
        "test_time_tasks": cfg["test_time_tasks"],
        "sweep_algorithms": [algorithm_label(a) for a in cfg["inner_steps"]["algorithms"]],
        "sweep_steps": cfg["inner_steps"]["steps"],
        "sweep_iterations": cfg["inner_steps"]["iterations"],
        "sweep_seeds": len(cfg["inner_steps"]["seeds"]),
        "sweep_datasets": sorted(set(inner_steps_probe["dataset"])) if "dataset" in inner_steps_probe else [],
        "sweep_probe_datasets": (sorted(set(inner_steps_probe["probe_dataset"]) - set(inner_steps_probe["dataset"]))
                                 if "probe_dataset" in inner_steps_probe else []),
        "main_iterations": config["train"]["iterations"],
        "main_seeds": len(config["seeds"]),
        "grid": cfg["convergence"],
        "grid_methods": [METHOD_LABELS[m] for m in METHOD_LABELS],
        "grid_reached": int(statuses.get("reached", 0)),
        "grid_not_reached": int(statuses.get("not_reached", 0)),
        "grid_diverged": int(statuses.get("diverged", 0)),
        "grid_runs": int(len(convergence_runs)),
    }
    return tables, context
