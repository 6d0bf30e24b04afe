"""environment.yml (conda) and pyproject.toml (pip) list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: Conda-only entries: the interpreter, pip itself, and system tools pip cannot install.
CONDA_ONLY = {"python", "pip", "graphviz"}


def name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = {name(r): r for r in project["dependencies"] + project["optional-dependencies"]["test"]}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda_side, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section += dep["pip"]
        else:
            conda_side[name(dep)] = dep
    pip_in_env = {name(r): r for r in pip_section if not r.startswith("-e")}

    in_env = (set(conda_side) - CONDA_ONLY) | set(pip_in_env)
    assert in_env == set(pip_side), (
        f"only in environment.yml: {sorted(in_env - set(pip_side))}; "
        f"only in pyproject.toml: {sorted(set(pip_side) - in_env)}")
    # Pinned versions must be pinned identically on both sides.
    for pkg, req in pip_side.items():
        if "==" in req:
            assert pip_in_env.get(pkg, conda_side.get(pkg)).replace(" ", "") == req.replace(" ", ""), pkg
