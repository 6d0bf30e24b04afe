"""Without a system package the parts that need it are named and skipped; the rest runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bare_path(tmp_path: Path) -> str:
    """This PATH, less graphviz's, poppler's and chromium's commands."""
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        for directory in [Path(sys.executable).parent, *map(Path, os.environ["PATH"].split(os.pathsep))]:
            if not directory.is_dir():
                continue
            for tool in directory.iterdir():
                link = bin_dir / tool.name
                if tool.name not in ("dot", "pdftoppm", "chromium") and not link.exists() and not link.is_symlink():
                    link.symlink_to(tool)
    return str(bin_dir)


def test_the_check_names_each_missing_package_and_what_needs_it(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "tools/system_packages.sh"), "test", "--check"],
                            capture_output=True, text=True, env={"PATH": bare_path(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for package, need in [("graphviz", "rule graph"), ("poppler-utils", "PDF"), ("chromium", "browser")]:
        assert any(line.split()[0] == package and need in line for line in lines[1:]), result.stderr
    report = subprocess.run(["bash", str(ROOT / "tools/system_packages.sh"), "report", "--check"],
                            capture_output=True, text=True, env={"PATH": bare_path(tmp_path)})
    assert "chromium" not in report.stderr and "graphviz" in report.stderr


def test_make_report_installs_no_browser():
    makefile = (ROOT / "Makefile").read_text()
    report_recipe = makefile.split("\nsystem-packages:\n")[1].split("\n\n")[0]
    assert "system_packages.sh report" in report_recipe
    assert "chromium" not in (ROOT / "tools/system_packages.sh").read_text().split('if [ "$part" = test ]')[0]


def test_without_graphviz_the_rule_graph_is_skipped_and_said_so(tmp_path):
    for name in ("Snakefile", "rules", "workflow_scripts", "innerloop", "config", "report", "environment.yml"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    env = {**os.environ, "PATH": bare_path(tmp_path), "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "config/presets/smoke.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipped: rule rulegraph and its outputs, because this machine lacks graphviz" in result.stdout + result.stderr
    stats = result.stdout.split("Job stats:")[1].split("total")[0]
    assert "rulegraph" not in stats and "report_html" in stats
