"""The Omniglot preset, pointed at a directory in the layout of the extracted Omniglot archives:
data preparation with the Vinyals split, MAML and Meta-SGD (the two with published Omniglot
accuracies; the preset also runs FO-MAML) at 1 and 5 shots, the cross-domain test on digits,
and what the report says of them, the published accuracies beside the measured ones. The directory is synthetic (no
dataset is downloaded), but has the real archive's folders and counts, which the loader checks;
the preset's sizes are cut to the smoke preset's, and its paths come from a third config file,
as the README tells users to do.

The targets are what the preset changes: the Omniglot store, the meta-test and cross-domain
tables of its three algorithms in its two settings, and the config as run. The report's text
about them is rendered from those tables by the functions the report rule calls (its setup
section and its cross-domain table); the rest of the report (figures, sine study, ablations,
PDF) does not depend on the preset and is the smoke test's (tests/workflow/test_smoke.py).
"""

import json

import pandas as pd
import yaml

from omniglot_layout import write_full_omniglot
from workflow_copy import copy_workflow, snakemake

from innerloop.reference import PUBLISHED_META_TEST
from innerloop.reporting.convergence import marked_meta_test_table
from innerloop.reporting.provenance import setup_info
from innerloop.reporting.tables import cross_domain_tables

TARGETS = ["results/data/omniglot/manifest.json", "results/tables/meta_test_table.csv",
           "results/tables/cross_domain_table.csv", "results/tables/cross_domain_probe_changes.csv",
           "results/report/config_as_run.yaml"]


def config_dataset(workdir) -> str:
    return yaml.safe_load((workdir / "results/report/config_as_run.yaml").read_text())["dataset"]


def test_omniglot_preset_prepares_trains_and_tests_across_domains(tmp_path):
    root = write_full_omniglot(tmp_path / "omniglot")
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    # The smoke preset's sizes, but the Omniglot preset's published rates (no tuning stage) and
    # its two algorithms with published accuracies.
    preset = yaml.safe_load((workdir / "config/presets/omniglot.yaml").read_text())
    assert {"maml", "metasgd"} <= set(preset["algorithms"])
    (workdir / "my_paths.yaml").write_text(yaml.safe_dump({"datasets": {"omniglot": {"root": str(root)}},
                                                           "algorithms": ["maml", "metasgd"],
                                                           "tuning": {"algorithms": []}}))
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=1", "--configfile", "config/presets/omniglot.yaml",
                       "config/presets/smoke.yaml", "my_paths.yaml", "--", *TARGETS, timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]

    manifest = json.loads((workdir / "results/data/omniglot/manifest.json").read_text())
    assert manifest["source"]["root"] == str(root.resolve()) and manifest["source"]["files"] == 32460
    assert {s: c["classes"] for s, c in manifest["split_counts"].items()} == {"train": 1028, "val": 172, "test": 423}
    table = pd.read_csv(workdir / "results/tables/meta_test_table.csv")
    assert list(table["algorithm"]) == ["maml", "metasgd"]
    published = marked_meta_test_table(table, [], PUBLISHED_META_TEST[config_dataset(workdir)])
    assert "98.7 (Finn et al. 2017, Table 1)" in published and "99.5 (Li et al. 2017, Table 1)" in published
    assert table[["5w1s_n_seeds", "5w5s_n_seeds"]].eq(1).all().all()
    cross = pd.read_csv(workdir / "results/tables/cross_domain_table.csv")
    assert {"omniglot_to_digits_5w1s_median", "omniglot_to_digits_5w5s_median"} <= set(cross.columns)
    # What the report's setup section and cross-domain table say, from this run's files.
    config = yaml.safe_load((workdir / "results/report/config_as_run.yaml").read_text())
    assert "Omniglot" in setup_info(config, manifest)["dataset"]["name"]
    html = cross_domain_tables(cross, pd.read_csv(workdir / "results/tables/cross_domain_probe_changes.csv"))
    assert "omniglot → digits, 5-way 5-shot" in html["cross_domain_table"]
    assert "omniglot → digits, 5-way 1-shot" in html["cross_domain_probe_changes"]
