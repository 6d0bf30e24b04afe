"""The workflow follows the library code: on a copy of the workflow whose jobs all count as
done, a module edit plans exactly the jobs that import it, a change of the store's content
reruns what follows it, and a real job imports the workflow's own tree and records its code
(the records themselves: tests/unit/test_code_version.py)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from innerloop.code_version import source_hash

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


SNAKEMAKE = [sys.executable, "-m", "snakemake", "--configfile", "config/presets/smoke.yaml", "few.yaml",
             "--cores", "1"]
TARGETS = ["results/tables/meta_test_runs.csv", "results/figures/training_curves.png"]
# Two runs: enough for each rule to have jobs, few enough to plan quickly.
FEW = "seeds: [0]\nalgorithms: [maml, metasgd]\n"
STORE = "results/data/glyphs/content.sha256"
#: What follows the glyph store (or a change to what every run imports) for TARGETS.
DOWNSTREAM = {"tune_run": 2, "tune_choose": 1, "train": 2, "evaluate_run": 2, "collect_training": 1, "meta_test_stats": 1,
              "figure_training_curves": 1}


def snakemake(cwd: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(pythonpath or cwd)})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def planned(cwd: Path) -> dict[str, int]:
    """Rule -> number of jobs that `snakemake -n` plans for TARGETS."""
    out = snakemake(cwd, "-n", *TARGETS).stdout
    if "Nothing to be done" in out:
        return {}
    stats = out.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


@pytest.fixture(scope="module")
def finished_workflow(tmp_path_factory):
    """A copy of the workflow whose TARGETS' jobs all count as done with the current code:
    every output exists and Snakemake's metadata (parameters included) is recorded (--touch)."""
    work = tmp_path_factory.mktemp("code_version")
    for name in ("Snakefile", "rules", "workflow_scripts", "innerloop", "config", "report", "environment.yml",
                 "pyproject.toml"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, work / name)
    (work / "few.yaml").write_text(FEW)
    snakemake(work, STORE)  # the glyph store for real; every other output a placeholder
    summary = snakemake(work, "--summary", *TARGETS).stdout
    (work / "summary.tsv").write_text(summary)
    for line in summary.splitlines()[1:]:
        if not (work / line.split("\t")[0]).exists():
            write(work / line.split("\t")[0], "x")
    snakemake(work, "--touch", "--forceall", *TARGETS)
    assert planned(work) == {}
    return work


@pytest.mark.parametrize("module, expected", [
    # Only the figure script imports the figure module.
    ("innerloop/reporting/figures.py", {"figure_training_curves": 1}),
    # Only the meta-test summary imports the summaries.
    ("innerloop/stats/summaries.py", {"meta_test_stats": 1}),
    # Training imports the scoring of tasks (validation): every run and what follows,
    # but not the dataset preparation.
    ("innerloop/scoring.py", DOWNSTREAM),
])
def test_a_library_edit_plans_exactly_its_dependent_jobs(finished_workflow, module, expected):
    path = finished_workflow / module
    original = path.read_text()
    path.write_text(original + "\n# edited\n")
    try:
        assert planned(finished_workflow) == expected
    finally:
        path.write_text(original)


def test_a_real_job_imports_the_workflow_tree_and_records_its_code(finished_workflow):
    # Started with another tree on PYTHONPATH: the workflow puts its own tree first for its jobs.
    snakemake(finished_workflow, "results/report/config_as_run.yaml", pythonpath=ROOT)
    log = (finished_workflow / "results/logs/config_as_run.log").read_text()
    assert f"innerloop from {finished_workflow / 'innerloop'}" in log.splitlines()[0]
    record = json.loads((finished_workflow / "results/code_versions/report/config_as_run.yaml.json").read_text())
    assert record["rule"] == "config_as_run"
    assert record["source_hash"] == source_hash(finished_workflow / "workflow_scripts/config_as_run.py",
                                                finished_workflow)
    # Not a git checkout: the commit is unknown, and says so.
    assert record["commit"] == "unknown"


def test_train_declares_the_model_checksum(finished_workflow):
    summary = (finished_workflow / "summary.tsv").read_text()
    rules = {line.split("\t")[0]: line.split("\t")[2] for line in summary.splitlines()[1:]}
    assert rules["results/runs/glyphs/maml/5w1s/seed0/model.pt.sha256"] == "train"


# Last: it changes the store the tests above plan around.
def test_only_a_change_of_the_stores_content_reruns_what_follows(finished_workflow):
    store = finished_workflow / STORE
    before = store.read_text()
    snakemake(finished_workflow, "-f", STORE)  # prepared again: every file written anew, the same content
    assert store.read_text() == before
    assert planned(finished_workflow) == {}
    store.write_text("0" * 64 + "  glyphs\n")  # what a store with other images would give
    assert planned(finished_workflow) == DOWNSTREAM
