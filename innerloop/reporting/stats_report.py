"""The report's tables of the paired comparisons, the mixed model, the learning-rate
one-sample tests and the claims (from the tables of ``rules/stats.smk``)."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from innerloop.stats.claims import (
    DEFAULT_PLATEAU_TEXT,
    NOT_REPLICATED,
    NOT_RUN,
    NOT_TESTABLE,
    REPLICATED,
    verdict_rule_text,
)

from .figures import algorithm_label, setting_label
from .format import MISSING, format_bounds, format_number, format_p, format_pp, typographic_minus
from .tables import to_html


def _setting(df: pd.DataFrame) -> bool:
    return "setting" in df.columns and df["setting"].nunique() > 1


def paired_html(paired: pd.DataFrame) -> Markup:
    """A paired-comparison table (:func:`innerloop.stats.paired.compare_pairs` rows):
    difference in pp with its interval over pairs and over seed means, the two tests,
    d_z and the Holm-adjusted p."""
    rows = []
    for _, r in paired.iterrows():
        rows.append({
            "Family": str(r["family"]),
            "Algorithm": algorithm_label(r["algorithm"]),
            "Reference": algorithm_label(r["reference"]),
            **({"Setting": setting_label(r["setting"])} if _setting(paired) else {}),
            "Pairs": f"{int(r['n_pairs']):,}",
            "Difference (pp)": format_pp(r["difference"]),
            "95% CI (pairs)": format_bounds(r["difference_ci95_low"], r["difference_ci95_high"], format_pp),
            "95% CI (seed means)": format_bounds(r["seed_difference_ci95_low"], r["seed_difference_ci95_high"],
                                                 format_pp),
            "p (t)": format_p(r["p_t"]),
            "p (Wilcoxon)": format_p(r["p_wilcoxon"]),
            "d_z": format_number(r["cohens_dz"], 2, signed=True),
            "p (Holm)": format_p(r["p_holm"]),
        })
    return to_html(pd.DataFrame(rows))


#: How the mixed-model table names each response and its unit.
MIXED_RESPONSES = {"accuracy": "Meta-test accuracy", "off_minus_on": "Probe change (off-task − on-task)"}


def mixed_model_html(mixed: pd.DataFrame) -> Markup:
    """The mixed models' coefficients (pp, 95% Wald CI, p) and variance estimates, one
    block of rows per response; a response fitted by the OLS fallback says so."""
    rows = []
    for _, r in mixed.iterrows():
        term = str(r["term"])
        if term.startswith("var:"):
            unit = term.removeprefix("var:").replace(":", ", ")
            label = "Residual variance" if term == "var:residual" else f"Variance of the ({unit}) intercept"
            value, ci, p = format_number(r["estimate"], 5), MISSING, MISSING
        else:
            label = (f"Intercept ({algorithm_label(r['algorithm'])})" if term == "Intercept"
                     else f"{algorithm_label(r['algorithm'])} − reference")
            absolute = term == "Intercept" and r["response"] == "accuracy"
            fmt = (lambda v: format_number(v * 100, 2)) if absolute else format_pp
            value, ci, p = fmt(r["estimate"]), format_bounds(r["ci95_low"], r["ci95_high"], fmt), format_p(r["p_value"])
        response = MIXED_RESPONSES.get(str(r["response"]), str(r["response"]))
        if not str(r["model"]).startswith("MixedLM"):
            response += " (OLS fallback)"
        rows.append({"Response": response, **({"Setting": setting_label(r["setting"])} if _setting(mixed) else {}),
                     "Term": label, "Estimate (pp; variances in accuracy²)": value, "95% CI": ci, "p": p})
    return to_html(pd.DataFrame(rows))


def lr_below_zero_html(lr: pd.DataFrame) -> Markup:
    rows = []
    for _, r in lr.iterrows():
        rows.append({"Algorithm": algorithm_label(r["algorithm"]),
                     **({"Setting": setting_label(r["setting"])} if _setting(lr) else {}),
                     "Layer": str(r["layer"]), "Seeds": str(int(r["n_seeds"])),
                     "Mean": format_number(r["mean"], 4),
                     "95% CI (seeds)": format_bounds(r["ci95_low"], r["ci95_high"], lambda v: format_number(v, 4)),
                     "t": format_number(r["t_statistic"], 2), "p (t, < 0)": format_p(r["p_t_less"]),
                     "p (Wilcoxon, < 0)": format_p(r["p_wilcoxon_less"]), "p (Holm)": format_p(r["p_holm"])})
    return to_html(pd.DataFrame(rows))


def _claim_value(x, unit: str) -> str:
    return format_number(x, 4, signed=True) if unit == "rate" else format_pp(x)


def _claim_size(x, unit: str) -> str:
    """An unsigned size (minimum detectable effect, paper's effect) in the claim's unit."""
    if pd.isna(x):
        return MISSING
    if x == float("inf"):
        return "∞"
    return format_number(x, 4) if unit == "rate" else f"{format_number(x * 100, 2)} pp"


def _text(x) -> str:
    return "" if pd.isna(x) else str(x)


def claims_rows(claims: pd.DataFrame) -> list[dict[str, str]]:
    """The claims table as display rows for the template (verdict as a CSS class too)."""
    out = []
    for _, r in claims.iterrows():
        unit = str(r["unit"])
        fmt = (lambda v: _claim_value(v, unit))  # noqa: E731
        pp = " pp" if unit != "rate" else ""
        run = str(r["verdict"]) != NOT_RUN
        measured = MISSING if not run or pd.isna(r["estimate"]) else fmt(r["estimate"]) + pp
        conditional = ""
        if _text(r["conditional_test"]):
            conditional = (f"{r['conditional_test']}: {fmt(r['conditional_estimate'])}{pp} "
                           f"{format_bounds(r['conditional_ci95_low'], r['conditional_ci95_high'], fmt)}, "
                           f"p = {format_p(r['conditional_p'])}, n = {int(r['conditional_n']):,}")
        out.append({
            "id": str(r["id"]), "source": str(r["source"]), "claim": str(r["claim"]),
            "paper": typographic_minus(_text(r["paper"])), "statistic": str(r["statistic"]),
            "measured": typographic_minus(measured),
            "ci": typographic_minus(format_bounds(r["ci95_low"], r["ci95_high"], fmt)),
            "mde": _claim_size(r["mde"], unit) if run else MISSING,
            "paper_effect": _claim_size(r["paper_effect"], unit) if run else MISSING,
            "p": format_p(r["p_value"]), "p_holm": format_p(r["p_holm"]),
            "n": f"{int(r['n_seeds'])}" if run and r["n_seeds"] else MISSING,
            "runs": f"{int(r['runs_converged'])} of {int(r['runs'])}" if run and r["runs"] else MISSING,
            "verdict": str(r["verdict"]),
            "css": {REPLICATED: "ok", NOT_REPLICATED: "bad", NOT_RUN: "muted", NOT_TESTABLE: "muted"}.get(
                str(r["verdict"]), "warn"),
            "why": typographic_minus(_text(r["not_testable_because"])),
            "conditional": typographic_minus(conditional[:1].upper() + conditional[1:]),
            "note": _text(r["note"]),
        })
    return out


def scale_sentence(scale: dict) -> str:
    """The run's scale against the paper's in one sentence (:func:`innerloop.stats.scale.scale_summary`)."""
    lo, hi = scale["iterations_min"], scale["iterations_max"]
    trained = f"{hi:,}" if lo == hi else f"between {lo:,} and {hi:,}"
    seeds = len(scale["seeds"])
    diverged = f" ({scale['runs_diverged']} diverged)" if scale["runs_diverged"] else ""
    return (f"At this scale: each run trained {trained} meta-training iterations (the paper: "
            f"{scale['paper_iterations']:,}, so {scale['iterations_fraction']:.2%} of it), with {seeds} seed"
            f"{'s' if seeds != 1 else ''} per algorithm (the paper: one model per algorithm); each run's features "
            f"were probed for {scale['probe_iterations']:,} iterations (the paper: "
            f"{scale['paper_probe_iterations']:,}, {scale['probe_fraction']:.2%}); {scale['runs_converged']} of "
            f"{scale['runs']} runs converged by the plateau rule{diverged}; {scale['claims_testable']} of the "
            f"{scale['claims_run']} claims that were run are testable at this scale.")


def worked_example(claims: pd.DataFrame, alpha: float) -> str:
    """The verdict rule applied to one claim of the run, in words: a testable claim if there
    is one, else the first with a minimum detectable effect; "" without claims."""
    run = claims[claims["verdict"].astype(str) != NOT_RUN] if len(claims) else claims
    if not len(run):
        return ""
    finite = run[run["mde"].astype(float).abs() < float("inf")]
    r = (run[run["testable"].astype(bool)] if run["testable"].astype(bool).any() else
         finite if len(finite) else run).iloc[0]
    unit = str(r["unit"])
    what = "per-seed differences" if "paired by seed" in str(r["statistic"]) else "per-seed values"
    n, runs = int(r["n_seeds"]), int(r["runs"])
    parts = [f"For example, “{r['claim']}” ({r['statistic']}): "]
    if pd.notna(r["sd_seeds"]):
        parts.append(f"over {n} seeds the {what} have a standard deviation of {_claim_size(r['sd_seeds'], unit)}, "
                     f"so the design detects an effect of {_claim_size(r['mde'], unit)} with 80% power at "
                     f"α = {alpha:g}")
    else:
        parts.append(f"with {n} seed{'s' if n != 1 else ''} there is no seed-level spread, so no effect is detectable")
    if pd.notna(r["paper_effect"]):
        parts.append(f", against the paper's effect of {_claim_size(r['paper_effect'], unit)}")
    parts.append(f"; {int(r['runs_converged'])} of its {runs} run{'s' if runs != 1 else ''} converged. ")
    estimate = _claim_value(r["estimate"], unit) + (" pp" if unit != "rate" else "")
    if pd.notna(r["ci95_low"]):
        ci = format_bounds(r["ci95_low"], r["ci95_high"], lambda v: _claim_value(v, unit))
        parts.append(f"The estimate is {estimate} {ci}, p = {format_p(r['p_value'])} (Holm: {format_p(r['p_holm'])}); ")
    elif pd.notna(r["estimate"]):
        parts.append(f"The estimate is {estimate}, with no interval or p over seeds; ")
    parts.append(f"verdict: {r['verdict']}")
    if _text(r["not_testable_because"]):
        parts.append(f", because {r['not_testable_because']}")
    return typographic_minus("".join(parts) + ".")


def stats_report(*, paired_meta_test: pd.DataFrame, paired_probe: pd.DataFrame, mixed_model: pd.DataFrame,
                 lr_below_zero: pd.DataFrame, claims: pd.DataFrame, alpha: float, margin: float,
                 plateau: str = DEFAULT_PLATEAU_TEXT, scale: dict | None = None) -> dict:
    """What the report's context gets from the statistics: ``tables`` (HTML, empty where
    a table has no rows), ``claims`` (display rows; empty without claims),
    ``verdict_rule`` (sentences, with the convergence rule ``plateau`` in words),
    ``verdict_example`` (the rule applied to one claim), ``claims_counts`` (verdict ->
    number of claims) and ``scale_sentence`` (from ``scale``,
    :func:`innerloop.stats.scale.scale_summary`; "" without it)."""
    tables = {
        "paired_meta_test": paired_html(paired_meta_test) if len(paired_meta_test) else Markup(""),
        "paired_probe": paired_html(paired_probe) if len(paired_probe) else Markup(""),
        "mixed_model": mixed_model_html(mixed_model) if len(mixed_model) else Markup(""),
        "lr_below_zero": lr_below_zero_html(lr_below_zero) if len(lr_below_zero) else Markup(""),
    }
    model = "; ".join(f"{MIXED_RESPONSES.get(str(r['response']), r['response']).lower()}: {r['model']}"
                      for _, r in mixed_model.drop_duplicates("response").iterrows()) if len(mixed_model) else ""
    counts = claims["verdict"].value_counts().to_dict() if len(claims) else {}
    return {"tables": tables, "claims": claims_rows(claims), "verdict_rule": verdict_rule_text(alpha, margin, plateau),
            "verdict_example": worked_example(claims, alpha),
            "claims_counts": {k: int(v) for k, v in counts.items()}, "mixed_model_name": model,
            "stats_alpha": alpha, "equivalence_margin_pp": margin * 100,
            "scale_sentence": scale_sentence(scale) if scale else ""}


__all__ = ["claims_rows", "lr_below_zero_html", "mixed_model_html", "paired_html", "scale_sentence", "stats_report",
           "worked_example"]
