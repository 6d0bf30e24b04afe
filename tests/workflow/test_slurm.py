"""The workflow through the SLURM executor on a one-node cluster started on this machine.

tests/slurm/cluster.sh installs Debian's slurmctld, slurmd, slurm-client and munge (apt, as
root), writes a slurm.conf and gres.conf for this machine (its CPUs and memory, a stand-in
GPU) into a temporary directory, starts munged, slurmctld and slurmd, and stops them after
the tests. A small target of the smoke preset runs through `--executor slurm` with
profiles/slurm: one training run (MAML) and its meta-test, on the glyph store it prepares,
i.e. a job that runs no network and two that do. Its outputs must equal those of the same
jobs in the session's local run of the whole smoke DAG (the ``smoke_run`` fixture,
tests/conftest.py): the same files, byte-identical result tables and store, the same
trained weights. slurmctld's log and job-completion record must show every job submitted by
sbatch, network jobs with their per-job GPU and the other without.

A missing prerequisite (not root, apt or a daemon failing, the executor plugin not
installed) FAILS with the reason. To skip on a machine that cannot run a cluster, set
INNERLOOP_SKIP_SLURM to the reason: the test is then reported as skipped with it. The
manual steps are in README.md (Running on a cluster).
"""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from workflow_copy import SNAKEMAKE, copy_workflow, network_rules

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "tests/slurm/cluster.sh"
CONFIG = ["--configfile", "config/presets/smoke.yaml"]
RUN = "results/runs/glyphs/maml/5w1s/seed0"
STORE = "results/data/glyphs"
#: The target: MAML's meta-test, which needs its training run, which needs the glyph store.
TARGET = f"{RUN}/meta_test.csv"
#: What the three jobs write beside logs, benchmarks and the checkpoint: compared byte for
#: byte with the local run, except model.pt (it holds the job's wall-clock seconds; its
#: weights are compared instead).
OUTPUTS = [f"{RUN}/{name}" for name in ("meta_test.csv", "train_log.csv", "validation.csv", "model.pt")] + \
    [f"{STORE}/{name}" for name in ("images.npy", "labels.npy", "classes.csv", "manifest.json")]


def prerequisite(ok: bool, reason: str) -> None:
    if not ok:
        pytest.fail(f"SLURM test cannot run: {reason}. Set INNERLOOP_SKIP_SLURM=<why> to skip it instead.")


def missing_prerequisite() -> str | None:
    """Why this machine cannot run the cluster (None: it can try)."""
    if os.geteuid() != 0:
        return f"installing and starting SLURM needs root; running as uid {os.geteuid()}"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e .)"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "neither SLURM nor apt-get (to install it) is on this machine"
    return None


def bring_up_and_run(base: Path) -> dict:
    """Install and start the cluster in ``base / "cluster"``, then run the target through it in
    a workflow copy in ``base / "workflow"``. Returns what the tests read: ``failure`` (why a
    step failed, else None), ``cwd``, ``directory`` (the cluster's), ``output`` (Snakemake's).

    tests/conftest.py runs this in a background thread from the session's start (apt, daemon
    start-up and sbatch polling mostly wait), and stops the cluster at the session's end."""
    directory, cwd = base / "cluster", base / "workflow"
    result = {"failure": None, "cwd": cwd, "directory": directory, "output": ""}
    install = subprocess.run([str(CLUSTER), "install"], capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        return {**result, "failure": f"installing SLURM failed: {install.stderr[-2000:]}"}
    directory.mkdir(parents=True)
    start = subprocess.run([str(CLUSTER), "start", str(directory)], capture_output=True, text=True, timeout=120)
    if start.returncode != 0:
        logs = "\n".join(p.read_text()[-1500:] for p in sorted((directory / "log").glob("*")) if p.is_file())
        return {**result, "failure": f"starting the cluster failed: {start.stderr[-2000:]}\n{logs}"}
    cwd.mkdir(parents=True)
    copy_workflow(cwd)
    shutil.copytree(ROOT / "profiles", cwd / "profiles")
    env = {**os.environ, "SLURM_CONF": str(directory / "slurm.conf")}
    # Accounting is off on this cluster, so job states come from squeue (kept for MinJobAge=300 s
    # >= 3 x the 5 s before the first check) and no account is passed to sbatch.
    command = [*SNAKEMAKE, "--profile", "profiles/slurm", *CONFIG, "--jobs", "4",
               "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
               "--slurm-no-account", "--latency-wait", "5", "--seconds-between-status-checks", "2", "--", TARGET]
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        return {**result, "output": output,
                "failure": f"the SLURM run failed: {run.stdout[-3000:]}{run.stderr[-5000:]}"}
    return {**result, "output": output}


def stop_cluster(directory: Path) -> None:
    if (directory / "slurm.conf").exists():
        subprocess.run([str(CLUSTER), "stop", str(directory)], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def slurm_run(_slurm_background):
    """``(workflow copy, cluster directory, Snakemake output)`` of the run through SLURM."""
    if os.environ.get("INNERLOOP_SKIP_SLURM"):
        pytest.skip(f"INNERLOOP_SKIP_SLURM: {os.environ['INNERLOOP_SKIP_SLURM']}")
    reason = missing_prerequisite()
    prerequisite(reason is None, reason)
    assert _slurm_background is not None, "the SLURM run was not started (tests/conftest.py)"
    result = _slurm_background.result(timeout=2400)
    prerequisite(result["failure"] is None or result["failure"].startswith("the SLURM run"), result["failure"])
    assert result["failure"] is None, result["failure"]
    return result["cwd"], result["directory"], result["output"]


def jobs_of(output: str) -> list[str]:
    """Rule names of the jobs a Snakemake run says it ran."""
    return re.findall(r"^(?:local)?rule (\w+):", output, re.M)


def submissions(output: str) -> dict[str, str]:
    """SLURM job id -> rule, as the executor reports each sbatch submission."""
    return dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*?/slurm_logs/rule_(\w+)/", output))


def test_every_job_went_through_sbatch(slurm_run):
    cwd, directory, output = slurm_run
    ran, submitted = jobs_of(output), submissions(output)
    assert ran, output[-3000:]
    assert sorted(submitted.values()) == sorted(ran), (submitted, ran)
    # slurmctld accepted each of those sbatch submissions, and each job completed in the workflow's directory.
    accepted = re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", (directory / "log/slurmctld.log").read_text())
    assert sorted(accepted, key=int) == sorted(submitted, key=int)
    jobcomp = re.findall(r"^JobId=(\d+) .*JobState=(\w+) .*WorkDir=(\S+)", (directory / "log/jobcomp.txt").read_text(), re.M)
    completed = {jobid: (state, workdir) for jobid, state, workdir in jobcomp}
    assert completed == {jobid: ("COMPLETED", str(cwd)) for jobid in submitted}


def test_network_jobs_get_a_gpu_each(slurm_run):
    """--gpus=1 per network job (slurmctld's gres log), none for the others: per job, not cluster-wide."""
    _, directory, output = slurm_run
    with_gpu = set(re.findall(r"gres_job_state gres:gpu\(\d+\) type:\S+ job:(\d+)", (directory / "log/slurmctld.log").read_text()))
    network = {jobid for jobid, rule in submissions(output).items() if rule in network_rules()}
    assert network, submissions(output)
    assert set(submissions(output)) - network, submissions(output)  # and a job that runs no network
    assert with_gpu == network


def results_of(cwd: Path, under: str) -> set[str]:
    return {str(p.relative_to(cwd)) for p in (cwd / under).rglob("*") if p.is_file()}


def test_result_tables_match_a_local_run_byte_for_byte(smoke_run, slurm_run):
    slurm = slurm_run[0]
    names = [name for name in OUTPUTS if not name.endswith(".pt")]
    missing = [name for name in names if not (slurm / name).is_file() or not (smoke_run / name).is_file()]
    assert not missing, missing
    differ = [name for name in names if (smoke_run / name).read_bytes() != (slurm / name).read_bytes()]
    assert not differ, f"files that differ between the local and the SLURM run: {differ}"
    local = torch.load(smoke_run / RUN / "model.pt", weights_only=True)
    remote = torch.load(slurm / RUN / "model.pt", weights_only=True)
    assert remote["state"].keys() == local["state"].keys() and remote["spec"] == local["spec"]
    for name, tensor in local["state"].items():
        assert torch.equal(remote["state"][name], tensor), name


def test_slurm_run_writes_the_outputs_of_the_local_one(smoke_run, slurm_run):
    """The SLURM run's results and store are the same files as the local run's for its target."""
    slurm = slurm_run[0]
    written = results_of(slurm, RUN) | results_of(slurm, STORE)
    assert set(OUTPUTS) <= written, sorted(set(OUTPUTS) - written)
    assert written <= results_of(smoke_run, RUN) | results_of(smoke_run, STORE), \
        sorted(written - results_of(smoke_run, RUN) - results_of(smoke_run, STORE))
