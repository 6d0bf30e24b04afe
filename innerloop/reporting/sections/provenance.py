"""Section "Provenance": the config as run, the code and machine, the time per rule, and the
rule graph (drawn by rule rulegraph where graphviz is installed)."""

from . import TABLES, Figure, Section, Table


def parts(inputs, config, context):
    """The time per rule, and the code versions of every result the report rests on."""
    from innerloop.reporting.provenance import code_versions, result_files
    from innerloop.reporting.tables import rule_times_html

    times = inputs.csv("rule_times")
    made, in_runs = result_files(inputs.files, inputs["models"])
    return {"tables": {"rule_times": rule_times_html(times)},
            "context": {"provenance": {**context["provenance"],
                                       "code": code_versions(made, inputs.scriptdir, optional=in_runs),
                                       "cpu_hours": float(times["cpu_s"].sum()) / 3600}}}


SECTION = Section(
    "provenance", "Provenance",
    figures=(Figure("rulegraph", draw="graphviz", rule="rulegraph"),),
    tables=(Table("rule_times", {"rule_times": f"{TABLES}/rule_times.csv"}),),
    parts=parts,
)
