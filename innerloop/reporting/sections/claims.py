"""Section "Claims": each claim of the paper against this run, with the seed as the unit of
inference (innerloop.stats.claims), laid out from the report context, not as a table. Its
parts also hold the paired comparisons the earlier sections show (innerloop.reporting.stats_report)."""

from . import TABLES, Section


def parts(inputs, config, context):
    from innerloop.convergence import PlateauRule
    from innerloop.reporting.stats_report import stats_report
    from innerloop.stats.scale import scale_summary

    tables = {key: inputs.csv(key) for key in ("paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero",
                                               "claims")}
    scale = scale_summary(inputs.csv("claims_runs"), tables["claims"],
                          probe_iterations=context["setup"]["probe"]["iterations"], seeds=context["setup"]["seeds"])
    statistics = stats_report(**tables, alpha=config["statistics"]["alpha"],
                              margin=config["statistics"]["equivalence_margin"],
                              plateau=PlateauRule.from_config(config["train"].get("plateau")).describe(), scale=scale)
    return {"tables": statistics.pop("tables"), "context": statistics}


SECTION = Section("claims", "Claims", context="claims", parts=parts,
                  sources={"claims": f"{TABLES}/claims.csv", "claims_runs": f"{TABLES}/claims_runs.csv"})
