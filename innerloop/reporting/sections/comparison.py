"""Section "Method comparison": meta-test accuracy per algorithm and setting (thesis Tables
3.1-3.3) under the protocol table, the running time (thesis Fig. 3.4), and the paired and
mixed-model comparisons with the reference."""

from . import TABLES, Figure, Section, Table


def parts(inputs, config, context):
    """The protocol table (the meta-test tables are the report's common context)."""
    from innerloop.reporting.tables import protocol_html

    return {"tables": {"protocol": protocol_html(inputs.csv("protocol"))}}


SECTION = Section(
    "comparison", "Method comparison",
    figures=(
        Figure("meta_test_accuracy", {"runs": f"{TABLES}/meta_test_runs.csv"}),
        Figure("running_time", {"runs": f"{TABLES}/running_time_runs.csv",
                                "meta_test_runs": f"{TABLES}/meta_test_runs.csv"}),
    ),
    tables=(
        Table("meta_test_table", {"meta_test_table": f"{TABLES}/meta_test_table.csv"}),
        Table("protocol", {"protocol": f"{TABLES}/protocol.csv"}),
        Table("meta_test_runs", {"meta_test_runs": f"{TABLES}/meta_test_runs.csv"}),
        Table("meta_test_summary", {"meta_test_summary": f"{TABLES}/meta_test_summary.csv"}),
        Table("running_time", {"running_time_table": f"{TABLES}/running_time.csv"}),
        Table("paired_meta_test", {"paired_meta_test": f"{TABLES}/paired_meta_test.csv"}),
        Table("mixed_model", {"mixed_model": f"{TABLES}/mixed_model.csv"}),
    ),
    parts=parts,
)
