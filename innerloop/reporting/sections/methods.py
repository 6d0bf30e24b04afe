"""Section "Methods": the protocol in words, the plateau rule, the statistics, and the tuning
stage's table."""

from . import TABLES, Section, Table

SECTION = Section("methods", "Methods", tables=(Table("tuning", {"tuning": f"{TABLES}/tuning.csv"}),))
