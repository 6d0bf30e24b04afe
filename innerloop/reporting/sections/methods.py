"""Section "Methods": the protocol in words, the plateau rule, the statistics, and the tuning
stage's table."""

from . import TABLES, Section, Table


def parts(inputs, config, context):
    from innerloop.reporting.tables import tuning_html

    return {"tables": {"tuning": tuning_html(inputs.csv("tuning"))}, "context": {"tuning": config["tuning"]}}


SECTION = Section("methods", "Methods", tables=(Table("tuning", {"tuning": f"{TABLES}/tuning.csv"}),), parts=parts)
