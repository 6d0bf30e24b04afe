"""Run the workflow in a copy inside a temporary directory, so that a user's results/ are never
touched: the files Snakemake reads, and a helper that calls it there."""

from __future__ import annotations

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
