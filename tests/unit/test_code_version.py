"""Results follow the library code that made them: a module edit reruns exactly its dependents,
and every job leaves a record of the code it ran."""

import ast
import json
import os
import sys
import types
from pathlib import Path

import pytest

from innerloop import code_version
from innerloop.code_version import imported_modules, record_path, source_hash
from innerloop.reporting.provenance import code_versions

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_package_that_loads_all_its_modules_depends_on_each(package):
    """As innerloop.algorithms finds its learners: a new module in it counts with no import naming it."""
    write(package / "innerloop/plugins/__init__.py",
          "import importlib, pkgutil\nfor m in pkgutil.iter_modules(__path__):\n"
          "    importlib.import_module(f'{__name__}.{m.name}')\n")
    write(package / "innerloop/plugins/one.py", "from innerloop.sub import c\n")
    script = write(package / "scripts/p.py", "from innerloop import plugins\n")
    assert set(imported_modules(script, package)) == {"innerloop", "innerloop.plugins", "innerloop.plugins.one",
                                                      "innerloop.sub", "innerloop.sub.c"}
    before = source_hash(script, package)
    write(package / "innerloop/plugins/two.py", "x = 1\n")
    assert "innerloop.plugins.two" in imported_modules(script, package)
    assert source_hash(script, package) != before


def test_source_hash_changes_exactly_when_an_imported_module_does(package):
    script = write(package / "scripts/s.py", "import innerloop.a\n")
    before = source_hash(script, package)
    write(package / "innerloop/unused.py", "changed = True\n")
    assert source_hash(script, package) == before
    write(package / "innerloop/sub/c.py", "x = 2\n")
    assert source_hash(script, package) != before


def test_every_workflow_script_writes_its_code_record_first():
    """Its first statement after the light imports (the standard library's, and what opens the
    log) opens the job's log, directly or through innerloop.job.Job, so that even a failing
    heavy import is logged beside the code record."""
    light = {*sys.stdlib_module_names, "innerloop.code_version", "innerloop.job"}
    for script in sorted((ROOT / "workflow_scripts").glob("*.py")):
        body = [node for node in ast.parse(script.read_text()).body
                if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]  # the docstring
        imports = 0
        while isinstance(body[imports], (ast.Import, ast.ImportFrom)):
            node = body[imports]
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert {m if m.startswith("innerloop.") else m.split(".")[0] for m in modules} <= light, \
                f"{script.name} imports {modules} before it opens its log"
            imports += 1
        first = ast.unparse(body[imports])
        assert first in ("sys.stderr = open_job_log(snakemake)", "job = Job(snakemake)"), (script.name, first)


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


def test_files_hash_follows_content_and_names_not_mtimes(tmp_path):
    from innerloop.code_version import files_hash

    (tmp_path / "templates" / "sections").mkdir(parents=True)
    (tmp_path / "templates" / "sections" / "a.j2").write_text("A")
    (tmp_path / "style.css").write_text("body {}")
    sources = ["templates", "style.css"]
    before = files_hash(sources, tmp_path)
    os.utime(tmp_path / "style.css", ns=(0, 0))
    assert files_hash(sources, tmp_path) == before
    (tmp_path / "templates" / "sections" / "a.j2").write_text("B")
    edited = files_hash(sources, tmp_path)
    assert edited != before
    (tmp_path / "templates" / "sections" / "a.j2").rename(tmp_path / "templates" / "sections" / "b.j2")
    assert files_hash(sources, tmp_path) != edited
    with pytest.raises(FileNotFoundError, match="captions"):
        files_hash(["captions"], tmp_path)
