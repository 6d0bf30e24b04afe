"""Results follow the library code that made them: a module edit reruns exactly its dependents,
and every job leaves a record of the code it ran."""

import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from innerloop import code_version
from innerloop.code_version import imported_modules, record_path, source_hash
from innerloop.reporting.provenance import code_versions

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def package(tmp_path):
    """A small innerloop package: eager, relative, function-level and lazy imports."""
    write(tmp_path / "innerloop/__init__.py", "")
    write(tmp_path / "innerloop/a.py", "from .b import f\n")
    write(tmp_path / "innerloop/b.py", "def f():\n    from innerloop.sub import c\n")
    write(tmp_path / "innerloop/sub/__init__.py",
          "_LAZY = {'heavy': 'innerloop.sub.heavy'}\n")
    write(tmp_path / "innerloop/sub/c.py", "x = 1\n")
    write(tmp_path / "innerloop/sub/heavy.py", "heavy = 1\n")
    write(tmp_path / "innerloop/unused.py", "")
    return tmp_path


def test_imported_modules_follow_relative_function_level_and_lazy_imports(package):
    script = write(package / "scripts/s.py", "import innerloop.a\n")
    assert set(imported_modules(script, package)) == {"innerloop", "innerloop.a", "innerloop.b", "innerloop.sub",
                                                      "innerloop.sub.c"}
    lazy = write(package / "scripts/lazy.py", "from innerloop.sub import heavy\n")
    assert set(imported_modules(lazy, package)) == {"innerloop", "innerloop.sub", "innerloop.sub.heavy"}


def test_source_hash_changes_exactly_when_an_imported_module_does(package):
    script = write(package / "scripts/s.py", "import innerloop.a\n")
    before = source_hash(script, package)
    write(package / "innerloop/unused.py", "changed = True\n")
    assert source_hash(script, package) == before
    write(package / "innerloop/sub/c.py", "x = 2\n")
    assert source_hash(script, package) != before


def test_every_workflow_script_writes_its_code_record_first():
    for script in sorted((ROOT / "workflow_scripts").glob("*.py")):
        text = script.read_text()
        assert "sys.stderr = open_job_log(snakemake)" in text, script.name


def test_job_record_names_the_script_commit_and_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "/x/.snakemake/scripts/tmpab12.evaluate_run.py",
                        raising=False)
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # open_job_log replaces it
    job = types.SimpleNamespace(scriptdir=str(ROOT / "workflow_scripts"), rule="cross_domain_evaluation",
                                output=["results/runs/r/meta_test.csv"], log=[str(tmp_path / "job.log")],
                                resources={}, params={})
    with code_version.open_job_log(job) as log:
        print("body", file=log)
    record = json.loads((tmp_path / record_path("results/runs/r/meta_test.csv")).read_text())
    assert record["script"] == "evaluate_run.py" and record["rule"] == "cross_domain_evaluation"
    assert record["source_hash"] == source_hash(ROOT / "workflow_scripts/evaluate_run.py", ROOT)
    commit, dirty = code_version.git_state(ROOT)
    assert (record["commit"], record["dirty"]) == (commit, dirty)
    assert (tmp_path / "job.log").read_text().startswith(f"code: commit {commit}")


def test_report_flags_mixed_dirty_stale_and_unrecorded_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scripts = ROOT / "workflow_scripts"
    good = source_hash(scripts / "evaluate_run.py", ROOT)
    for name, commit, dirty, hash_ in [("a", "c1", False, good), ("b", "c2", True, good), ("c", "c1", False, "old")]:
        write(tmp_path / record_path(f"results/{name}.csv"),
              json.dumps({"rule": "evaluate_run", "script": "evaluate_run.py", "commit": commit, "dirty": dirty,
                          "source_hash": hash_}))
    found = code_versions(["results/a.csv", "results/b.csv", "results/none.csv"], scripts, optional=["results/c.csv"])
    assert found["mixed"] and found["dirty"]
    assert [(v["commit"], v["dirty"], v["n"]) for v in found["versions"]] == [("c1", False, 2), ("c2", True, 1)]
    assert found["stale"] == [{"path": "results/c.csv", "rule": "evaluate_run"}]
    assert found["unrecorded"] == ["results/none.csv"]
    clean = code_versions(["results/a.csv"], scripts)
    assert not (clean["mixed"] or clean["dirty"] or clean["stale"] or clean["unrecorded"])


# --- the workflow: a library edit plans exactly the jobs that depend on it --------------------

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


@pytest.mark.workflow
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


@pytest.mark.workflow
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


@pytest.mark.workflow
def test_train_declares_the_model_checksum(finished_workflow):
    summary = (finished_workflow / "summary.tsv").read_text()
    rules = {line.split("\t")[0]: line.split("\t")[2] for line in summary.splitlines()[1:]}
    assert rules["results/runs/glyphs/maml/5w1s/seed0/model.pt.sha256"] == "train"


# Last: it changes the store the tests above plan around.
@pytest.mark.workflow
def test_only_a_change_of_the_stores_content_reruns_what_follows(finished_workflow):
    store = finished_workflow / STORE
    before = store.read_text()
    snakemake(finished_workflow, "-f", STORE)  # prepared again: every file written anew, the same content
    assert store.read_text() == before
    assert planned(finished_workflow) == {}
    store.write_text("0" * 64 + "  glyphs\n")  # what a store with other images would give
    assert planned(finished_workflow) == DOWNSTREAM


def test_the_report_expects_records_only_of_what_scripts_made(tmp_path, monkeypatch):
    from innerloop.reporting.provenance import result_files

    monkeypatch.chdir(tmp_path)
    model = write(tmp_path / "results/runs/r/model.pt", "")
    write(tmp_path / "results/runs/r/cross_domain/d/probe.csv", "")
    made, in_runs = result_files(["results/tables/a.csv", "results/benchmarks/train/r.tsv",
                                  "results/figures/rulegraph.png", "results/runs/r/model.pt"],
                                 ["results/runs/r/model.pt"])
    assert made == ["results/runs/r/model.pt", "results/tables/a.csv"]
    assert in_runs == ["results/runs/r/cross_domain/d/probe.csv", "results/runs/r/model.pt"]
    assert model.exists()
