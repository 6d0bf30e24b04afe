"""The report's tables of the paired comparisons, the mixed model, the learning-rate
one-sample tests and the claims (from the tables of ``rules/analysis_stats.smk``)."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from innerloop.stats.claims import NOT_REPLICATED, NOT_RUN, REPLICATED, verdict_rule_text

from .figures import algorithm_label, setting_label
from .tables import _MINUS_RE, MISSING, format_number, format_p, to_html


def _pp(x) -> str:
    return format_number(x * 100, 2, signed=True) if not pd.isna(x) else MISSING


def _ci(low, high, fmt) -> str:
    return MISSING if pd.isna(low) or pd.isna(high) else f"[{fmt(low)}, {fmt(high)}]"


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
            "Difference (pp)": _pp(r["difference"]),
            "95% CI (pairs)": _ci(r["difference_ci95_low"], r["difference_ci95_high"], _pp),
            "95% CI (seed means)": _ci(r["seed_difference_ci95_low"], r["seed_difference_ci95_high"], _pp),
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
            fmt = (lambda v: format_number(v * 100, 2)) if absolute else _pp
            value, ci, p = fmt(r["estimate"]), _ci(r["ci95_low"], r["ci95_high"], fmt), format_p(r["p_value"])
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
                     "95% CI (seeds)": _ci(r["ci95_low"], r["ci95_high"], lambda v: format_number(v, 4)),
                     "t": format_number(r["t_statistic"], 2), "p (t, < 0)": format_p(r["p_t_less"]),
                     "p (Wilcoxon, < 0)": format_p(r["p_wilcoxon_less"]), "p (Holm)": format_p(r["p_holm"])})
    return to_html(pd.DataFrame(rows))


def _claim_value(x, unit: str) -> str:
    return format_number(x, 4, signed=True) if unit == "rate" else _pp(x)


def _minus(text: str) -> str:
    """A leading or bracketed sign as a typographic minus, as :func:`to_html` shows numbers."""
    return _MINUS_RE.sub("\u2212", text)


def claims_rows(claims: pd.DataFrame) -> list[dict[str, str]]:
    """The claims table as display rows for the template (verdict as a CSS class too)."""
    out = []
    for _, r in claims.iterrows():
        unit = str(r["unit"])
        measured = MISSING if str(r["verdict"]) == NOT_RUN or pd.isna(r["estimate"]) else (
            _claim_value(r["estimate"], unit) + (" pp" if unit != "rate" else ""))
        out.append({
            "id": str(r["id"]), "source": str(r["source"]), "claim": str(r["claim"]),
            "paper": "" if pd.isna(r["paper"]) else _minus(str(r["paper"])), "statistic": str(r["statistic"]),
            "measured": _minus(measured),
            "ci": _minus(_ci(r["ci95_low"], r["ci95_high"], lambda v: _claim_value(v, unit))),
            "p": format_p(r["p_value"]), "n": f"{int(r['n']):,}" if not pd.isna(r["n"]) and r["n"] else MISSING,
            "verdict": str(r["verdict"]),
            "css": {REPLICATED: "ok", NOT_REPLICATED: "bad", NOT_RUN: "muted"}.get(str(r["verdict"]), "warn"),
            "note": "" if pd.isna(r["note"]) else str(r["note"]),
        })
    return out


def stats_report(*, paired_meta_test: pd.DataFrame, paired_probe: pd.DataFrame, mixed_model: pd.DataFrame,
                 lr_below_zero: pd.DataFrame, claims: pd.DataFrame, alpha: float, margin: float) -> dict:
    """What the report's context gets from the statistics: ``tables`` (HTML, empty where
    a table has no rows), ``claims`` (display rows; empty without claims),
    ``verdict_rule`` (sentences) and ``claims_counts`` (verdict -> number of claims)."""
    tables = {
        "paired_meta_test": paired_html(paired_meta_test) if len(paired_meta_test) else Markup(""),
        "paired_probe": paired_html(paired_probe) if len(paired_probe) else Markup(""),
        "mixed_model": mixed_model_html(mixed_model) if len(mixed_model) else Markup(""),
        "lr_below_zero": lr_below_zero_html(lr_below_zero) if len(lr_below_zero) else Markup(""),
    }
    model = "; ".join(f"{MIXED_RESPONSES.get(str(r['response']), r['response']).lower()}: {r['model']}"
                      for _, r in mixed_model.drop_duplicates("response").iterrows()) if len(mixed_model) else ""
    counts = claims["verdict"].value_counts().to_dict() if len(claims) else {}
    return {"tables": tables, "claims": claims_rows(claims), "verdict_rule": verdict_rule_text(alpha, margin),
            "claims_counts": {k: int(v) for k, v in counts.items()}, "mixed_model_name": model,
            "stats_alpha": alpha, "equivalence_margin_pp": margin * 100}


__all__ = ["claims_rows", "lr_below_zero_html", "mixed_model_html", "paired_html", "stats_report"]
