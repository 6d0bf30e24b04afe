"""Section "Provenance": the config as run, the code and machine, the time per rule, and the
rule graph (drawn by rule rulegraph where graphviz is installed)."""

from . import TABLES, Figure, Section, Table

SECTION = Section(
    "provenance", "Provenance",
    figures=(Figure("rulegraph", draw="graphviz", rule="rulegraph"),),
    tables=(Table("rule_times", {"rule_times": f"{TABLES}/rule_times.csv"}),),
)
