"""The package lists agree: environment.yml (conda), pyproject.toml (pip) and requirements.lock.

A real `snakemake --sdm conda --conda-create-envs-only` cannot run here or in CI: the only
package registries these machines reach are PyPI, Debian's and npm's, not the conda-forge
and bioconda channels, so no conda client (conda, mamba, micromamba, or a solver such as
py-rattler from PyPI) can fetch the channels' package index to solve the environment. What
can be checked is checked: the file's structure and channels, its names against
pyproject.toml, and every pip name against the lock that pip resolved here.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
#: Conda-only entries: the interpreter, pip itself, and system tools pip cannot install.
CONDA_ONLY = {"python", "pip", "graphviz"}
#: Published on bioconda, not conda-forge.
BIOCONDA = {"snakemake", "snakemake-executor-plugin-slurm"}
LIBRARY = {"torch", "numpy", "pandas", "scipy", "statsmodels"}


def name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


#: The extras the workflow, its report and its tests need (`bench`'s peers are neither in the
#: conda environment nor in the lock).
EXTRAS = ("workflow", "report", "test")


def pip_requirements() -> dict[str, str]:
    p = project()
    return {name(r): r for r in p["dependencies"] + [r for extra in EXTRAS for r in p["optional-dependencies"][extra]]}


def environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, dep
            pip_section += dep["pip"]
        else:
            assert isinstance(dep, str), dep
            conda_side[name(dep)] = dep
    return env, conda_side, pip_section


def lock() -> dict[str, str]:
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line and line[0] != "#"]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.\-]*==[A-Za-z0-9.+!\-]+", line) for line in lines), \
        [line for line in lines if "==" not in line]
    return dict(line.split("==") for line in lines)


def test_environment_yml_and_pyproject_agree():
    pip_side = pip_requirements()
    env, conda_side, pip_section = environment()
    pip_in_env = {name(r): r for r in pip_section}
    in_env = (set(conda_side) - CONDA_ONLY) | set(pip_in_env)
    assert in_env == set(pip_side), (
        f"only in environment.yml: {sorted(in_env - set(pip_side))}; "
        f"only in pyproject.toml: {sorted(set(pip_side) - in_env)}")
    # Pinned versions must be pinned identically on both sides.
    for pkg, req in pip_side.items():
        if "==" in req:
            assert pip_in_env.get(pkg, conda_side.get(pkg)).replace(" ", "") == req.replace(" ", ""), pkg


def test_environment_yml_has_the_channels_it_needs_and_installs_no_local_package():
    env, conda_side, pip_section = environment()
    assert env["channels"][:2] == ["conda-forge", "bioconda"]
    assert set(conda_side) & BIOCONDA, "snakemake comes from bioconda"
    # `-e .` would resolve against Snakemake's copy of this file under .snakemake/conda/.
    assert not [r for r in pip_section if r.startswith("-") or "/" in r or r.startswith(".")]


def test_the_library_needs_only_its_five_packages():
    assert {name(r) for r in project()["dependencies"]} == LIBRARY
    assert set(project()["optional-dependencies"]) >= set(EXTRAS)


def test_lock_pins_every_requirement_consistently():
    pinned = lock()
    for pkg, req in pip_requirements().items():
        assert pkg in pinned, f"{pkg} is not in requirements.lock"
        if "==" in req:
            assert req.split("==")[1] == pinned[pkg], pkg
    # environment.yml's pip names resolved here: each is a PyPI package pip found.
    _, _, pip_section = environment()
    assert all(name(r) in pinned for r in pip_section)


def test_the_lock_is_what_is_installed():
    """The running environment (made by `make setup`) has exactly the locked versions."""
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for pkg, pinned in lock().items():
        try:
            installed = version(pkg)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[pkg] = (pinned, installed)
    assert not wrong, f"locked vs installed: {wrong}"


def test_snakemake_plans_and_the_statistics_run_without_torch():
    """What the rule files import (every Snakemake start pays for it) and the statistics and
    figure modules that most of a run's jobs import leave torch out: it is 1.5 s a process."""
    rule_imports = sorted({line.strip() for smk in (ROOT / "rules").glob("*.smk")
                           for line in smk.read_text().splitlines() if line.strip().startswith("from innerloop")})
    assert rule_imports, "no innerloop import found in rules/*.smk"
    statistics = ["innerloop.stats.claims", "innerloop.stats.paired", "innerloop.stats.summaries",
                  "innerloop.reporting.figures", "innerloop.reporting.tables", "innerloop.reporting.convergence"]
    code = "\n".join([*rule_imports, *(f"import {m}" for m in statistics), "import sys",
                      "print('torch' in sys.modules)"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "False", rule_imports


def test_importing_the_algorithms_pulls_in_no_workflow_or_report_package():
    code = ("import sys, innerloop, innerloop.algorithms, innerloop.training, innerloop.scoring,"
            " innerloop.data, innerloop.stats; innerloop.load;"
            " print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    loaded = set(eval(out))
    # (Not tqdm: torch.hub imports it whenever it is installed.)
    heavy = {"snakemake", "snakemake_executor_plugin_slurm", "weasyprint", "jinja2", "matplotlib", "sklearn",
             "torchvision", "yaml", "jsonschema"}
    assert not loaded & heavy, sorted(loaded & heavy)
