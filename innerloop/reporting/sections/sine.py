"""Section "Sine-wave regression": the thesis's Sec. 3.5 experiments (rules sine_run, sine_tables), whose
rule sine_figures draws both figures."""

from . import TABLES, Figure, Section, Table


def parts(inputs, config, context):
    from innerloop.reporting.sine import sine_report_tables, sine_setup

    return {"tables": sine_report_tables(inputs.csv("sine_comparison_table"), inputs.csv("sine_turtle_study_table")),
            "context": {"sine": sine_setup(config["sine"])}}


SECTION = Section(
    "sine", "Sine-wave regression", context="sine",
    figures=(Figure("sine_comparison", draw="innerloop.reporting.sine", rule="sine_figures"),
             Figure("sine_turtle_study", draw="innerloop.reporting.sine", rule="sine_figures")),
    tables=(
        Table("sine_comparison", {"sine_comparison_table": f"{TABLES}/sine_comparison.csv"}),
        Table("sine_turtle_study", {"sine_turtle_study_table": f"{TABLES}/sine_turtle_study.csv"}),
    ),
    parts=parts,
)
