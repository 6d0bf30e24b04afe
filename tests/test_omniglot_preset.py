"""The Omniglot preset, pointed at a directory in the layout of the extracted Omniglot archives,
runs the whole DAG: data preparation with the Vinyals split, MAML / FO-MAML / Meta-SGD at 1 and 5
shots, the cross-domain test on digits, and the report. The directory is synthetic (no dataset
is downloaded), but has the real archive's folders and counts, which the loader checks; the
preset's sizes are cut to the smoke preset's, and its paths come from a third config file, as
the README tells users to do."""

import json

import pandas as pd
import pytest
import yaml

from omniglot_layout import write_full_omniglot
from test_workflow import copy_workflow, snakemake

pytestmark = pytest.mark.workflow


def test_omniglot_preset_runs_the_full_dag(tmp_path):
    root = write_full_omniglot(tmp_path / "omniglot")
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    (workdir / "my_paths.yaml").write_text(yaml.safe_dump({"datasets": {"omniglot": {"root": str(root)}}}))
    # The ablations cut to one sweep step and one grid cell: the smoke test runs them in full.
    (workdir / "fewer.yaml").write_text(yaml.safe_dump({"ablations": {
        "inner_steps": {"steps": [1]}, "convergence": {"alphas": [0.01], "betas": [0.1]}}}))
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=1", "--configfile", "config/presets/omniglot.yaml",
                       "config/presets/smoke.yaml", "my_paths.yaml", "fewer.yaml", timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]

    manifest = json.loads((workdir / "results/data/omniglot/manifest.json").read_text())
    assert manifest["source"]["root"] == str(root.resolve()) and manifest["source"]["files"] == 32460
    assert {s: c["classes"] for s, c in manifest["split_counts"].items()} == {"train": 1028, "val": 172, "test": 423}
    table = pd.read_csv(workdir / "results/tables/meta_test_table.csv")
    assert list(table["algorithm"]) == ["maml", "fomaml", "metasgd"]
    assert table[["5w1s_n_seeds", "5w5s_n_seeds"]].eq(1).all().all()
    cross = pd.read_csv(workdir / "results/tables/cross_domain_table.csv")
    assert {"omniglot_to_digits_5w1s_median", "omniglot_to_digits_5w5s_median"} <= set(cross.columns)
    html = (workdir / "results/report/report.html").read_text()
    assert "Omniglot" in html and "omniglot → digits, 5-way 5-shot" in html
    assert (workdir / "results/report/report.pdf").stat().st_size > 10_000
