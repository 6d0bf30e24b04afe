"""Section "Ablations": the learned-rate signs, the test-time procedure, the inner-steps sweep
and the MAML / Alpha-MAML convergence grid; each question's rule (rules/stats.smk)
writes its table and its figure."""

from . import TABLES, Figure, Section, Table

FIGURE_MODULE = "innerloop.reporting.ablation_figures"


def _made_with_its_table(key):
    return Figure(key, draw=FIGURE_MODULE, rule=key)


def parts(inputs, config, context):
    """Each question's table and the facts its text quotes (innerloop.reporting.ablations)."""
    from innerloop.reporting.ablations import ablation_context

    tables, ablations = ablation_context(
        rate_signs=inputs.csv("ablation_rate_signs_table"), test_time=inputs.csv("ablation_test_time_table"),
        inner_steps_probe=inputs.csv("ablation_inner_steps_probe"),
        inner_steps_rates=inputs.csv("ablation_inner_steps_rates"),
        convergence_grid=inputs.csv("ablation_convergence_grid", dtype=str, keep_default_na=False),
        convergence_runs=inputs.csv("ablation_convergence_runs"), config=config)
    return {"tables": tables, "context": {"ablations": ablations}}


SECTION = Section(
    "ablations", "Ablations", context="ablations",
    figures=tuple(_made_with_its_table(key) for key in ("ablation_rate_signs", "ablation_inner_steps",
                                                        "ablation_test_time", "ablation_convergence")),
    tables=(
        Table("ablation_rate_signs", {"ablation_rate_signs_table": f"{TABLES}/ablation_rate_signs.csv"}),
        Table("ablation_inner_steps_probe", {"ablation_inner_steps_probe": f"{TABLES}/ablation_inner_steps_probe.csv"}),
        Table("ablation_inner_steps_rates", {"ablation_inner_steps_rates": f"{TABLES}/ablation_inner_steps_rates.csv"}),
        Table("ablation_test_time", {"ablation_test_time_table": f"{TABLES}/ablation_test_time.csv"}),
        Table("ablation_convergence", {"ablation_convergence_grid": f"{TABLES}/ablation_convergence_grid.csv",
                                       "ablation_convergence_runs": f"{TABLES}/ablation_convergence.csv"}),
    ),
    parts=parts,
)
