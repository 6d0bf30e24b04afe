"""Section "Cross-domain": every run meta-tested and probed on the cross-domain test datasets
(thesis Table 3.4), shown when the config names a pair for its dataset."""

from innerloop.runs import cross_domain_targets

from . import TABLES, Figure, Section, Table


def _targets(config) -> list[str]:
    return cross_domain_targets(config, config["dataset"])


def _manifests(config) -> list[str]:
    return [f"results/data/{target}/manifest.json" for target in _targets(config)]


def parts(inputs, config, context):
    """The cross-domain tables, and each direction with the image conversion it needed."""
    from innerloop.evaluation.cross_domain import describe_conversion
    from innerloop.reporting.tables import cross_domain_tables

    network = inputs.json("manifest")
    directions = [{"train": network["dataset"], "test": m["dataset"],
                   "conversion": describe_conversion(tuple(m["shape"][1:]), tuple(network["shape"][1:]))}
                  for m in inputs.json("cross_domain_manifests")]
    return {"tables": cross_domain_tables(inputs.csv("cross_domain_table"), inputs.csv("cross_domain_probe_changes")),
            "context": {"cross_domain": directions}}


SECTION = Section(
    "cross-domain", "Cross-domain", context="cross_domain", shown=lambda config: bool(_targets(config)),
    figures=(Figure("cross_domain_probe", {"summary": f"{TABLES}/cross_domain_probe_summary.csv",
                                           "changes": f"{TABLES}/cross_domain_probe_changes.csv"}),),
    tables=(
        Table("cross_domain_table", {"cross_domain_table": f"{TABLES}/cross_domain_table.csv",
                                     "cross_domain_summary": f"{TABLES}/cross_domain_summary.csv"}),
        Table("cross_domain_probe_changes", {"cross_domain_probe_changes": f"{TABLES}/cross_domain_probe_changes.csv"}),
    ),
    sources={"cross_domain_manifests": _manifests},
    parts=parts,
)
