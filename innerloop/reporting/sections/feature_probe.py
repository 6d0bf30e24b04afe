"""Section "Feature probe": the study's Fig. 7, the probe's phases and changes, the t-test of
the paper, and the paired comparisons with the reference."""

from . import TABLES, Figure, Section, Table

SECTION = Section(
    "feature-probe", "Feature probe",
    figures=(Figure("feature_probe", {"summary": f"{TABLES}/probe_summary.csv",
                                      "changes": f"{TABLES}/probe_changes.csv"}),),
    tables=(
        Table("probe_summary", {"probe_summary": f"{TABLES}/probe_summary.csv"}),
        Table("probe_changes", {"probe_changes": f"{TABLES}/probe_changes.csv"}),
        Table("probe_vs_maml", {"probe_vs_maml": f"{TABLES}/probe_vs_maml.csv"}),
        Table("paired_probe", {"paired_probe": f"{TABLES}/paired_probe.csv"}),
    ),
    sources={"probe_ttest": f"{TABLES}/probe_ttest.csv"},
)
