"""Run the workflow in a copy inside a temporary directory, so that a user's results/ are never
touched: the files Snakemake reads, a helper that calls it there, and what the rules declare."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ["Snakefile", "rules", "workflow_scripts", "config", "report", "environment.yml"]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
#: The smoke preset as `make smoke` runs it (2 cores, one network job at a time).
SMOKE_ARGS = ["--cores", "2", "--resources", "gpu=1", "--configfile", "config/presets/smoke.yaml"]


def copy_workflow(dest: Path) -> Path:
    for name in WORKFLOW_FILES:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def network_rules() -> set[str]:
    """Rules that run a network: those whose resources are NETWORK_RESOURCES in rules/*.smk,
    and the `use rule ... as ... with:` variants of them, which inherit it."""
    own, variants = set(), {}
    for smk in (ROOT / "rules").glob("*.smk"):
        for block in re.split(r"^(?=(?:use )?rule \w+)", smk.read_text(), flags=re.M):
            if m := re.match(r"rule (\w+):", block):
                if "**NETWORK_RESOURCES" in block:
                    own.add(m[1])
            elif m := re.match(r"use rule (\w+) as (\w+) with:", block):
                variants[m[2]] = m[1]
    assert own, "no rule declares NETWORK_RESOURCES"
    return own | {variant for variant, parent in variants.items() if parent in own}


def snakemake(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def die_with_parent() -> None:
    """In a child process: receive SIGTERM when the test process dies, so that a pytest killed
    by a timeout leaves no workflow running (Linux's PR_SET_PDEATHSIG; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
