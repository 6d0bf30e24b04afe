"""The workflow through the SLURM executor on a one-node cluster started on this machine.

tests/slurm/cluster.sh installs Debian's slurmctld, slurmd, slurm-client and munge (apt, as
root), writes a slurm.conf and gres.conf for this machine (its CPUs and memory, a stand-in
GPU) into a temporary directory, starts munged, slurmctld and slurmd, and stops them after
the tests. The smoke preset, cut to two algorithms (MAML and Meta-SGD: the pair every table
of the report compares) and one sine variant per study, so that both runs fit in a few
minutes on 2 cores, runs once locally and once through `--executor slurm` with
profiles/slurm; its result tables must be byte-identical (except running-time tables, which
hold wall-clock seconds), and slurmctld's log and job-completion record must show every
job submitted by sbatch, network jobs with their per-job GPU.

A missing prerequisite (not root, apt or a daemon failing, the executor plugin not
installed) FAILS with the reason. To skip on a machine that cannot run a cluster, set
INNERLOOP_SKIP_SLURM to the reason: the test is then reported as skipped with it. The
manual steps are in README.md (Running on a cluster).
"""

import gzip
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from innerloop.cluster import NETWORK_RULES

from test_workflow import SNAKEMAKE, copy_workflow

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "tests/slurm/cluster.sh"
SMALL = """\
algorithms: [maml, metasgd]
sine:
  comparison: {algorithms: [maml]}
  turtle_study: {orders: [first], inner_steps: [1], hidden_layers: [1]}
ablations:
  rate_signs: {positive_trained: false}
  inner_steps: {algorithms: [metasgd], steps: [1]}
  convergence: {alphas: [0.01], betas: [0.1]}
"""
#: The SLURM run also asks for a GPU per network job (the cluster's stand-in gres), which
#: changes what is requested, not what is computed (the jobs still run on the CPU).
SLURM_ONLY = "resources: {gpu: true}\n"
CONFIG = ["--configfile", "config/presets/smoke.yaml", "small.yaml"]
TARGET = "results/report/report.html"
#: Tables of wall-clock seconds: different in every run by nature.
TIMING_TABLES = {"running_time.csv", "running_time_runs.csv", "rule_times.csv", "running_time.tex", "rule_times.tex"}


def network_rules() -> set[str]:
    """Rules that run a network, so ask for a GPU: those whose resources are rule_resources()
    of a network rule of innerloop.cluster, in rules/*.smk."""
    names = set()
    for smk in (ROOT / "rules").glob("*.smk"):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M):
            m = re.match(r"rule (\w+):", block)
            if m and "rule_resources(" in block and m[1] in NETWORK_RULES:
                names.add(m[1])
    return names


def prerequisite(ok: bool, reason: str) -> None:
    if not ok:
        pytest.fail(f"SLURM test cannot run: {reason}. Set INNERLOOP_SKIP_SLURM=<why> to skip it instead.")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running one-node cluster; yields the environment its clients need."""
    if os.environ.get("INNERLOOP_SKIP_SLURM"):
        pytest.skip(f"INNERLOOP_SKIP_SLURM: {os.environ['INNERLOOP_SKIP_SLURM']}")
    prerequisite(os.geteuid() == 0, f"installing and starting SLURM needs root; running as uid {os.geteuid()}")
    prerequisite(importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None,
                 "snakemake-executor-plugin-slurm is not installed (pip install -e .)")
    prerequisite(shutil.which("apt-get") is not None or shutil.which("slurmctld") is not None,
                 "neither SLURM nor apt-get (to install it) is on this machine")
    install = subprocess.run([str(CLUSTER), "install"], capture_output=True, text=True, timeout=600)
    prerequisite(install.returncode == 0, f"installing SLURM failed: {install.stderr[-2000:]}")
    directory = tmp_path_factory.mktemp("cluster")
    start = subprocess.run([str(CLUSTER), "start", str(directory)], capture_output=True, text=True, timeout=120)
    try:
        logs = "\n".join(p.read_text()[-1500:] for p in sorted((directory / "log").glob("*")) if p.is_file())
        prerequisite(start.returncode == 0, f"starting the cluster failed: {start.stderr[-2000:]}\n{logs}")
        yield {**os.environ, "SLURM_CONF": str(directory / "slurm.conf")}, directory
    finally:
        subprocess.run([str(CLUSTER), "stop", str(directory)], capture_output=True, timeout=60)


def workflow_copy(path: Path) -> Path:
    copy_workflow(path)
    shutil.copytree(ROOT / "profiles", path / "profiles")
    (path / "small.yaml").write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    cwd = workflow_copy(tmp_path_factory.mktemp("local"))
    result = subprocess.run([*SNAKEMAKE, "--cores", "2", "--resources", "gpu=1", *CONFIG, "--", TARGET],
                            cwd=cwd, capture_output=True, text=True, timeout=2400)
    assert result.returncode == 0, result.stderr[-5000:]
    return cwd


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    env, directory = cluster
    cwd = workflow_copy(tmp_path_factory.mktemp("slurm"))
    (cwd / "gpu.yaml").write_text(SLURM_ONLY)
    # Accounting is off on this cluster, so job states come from squeue (kept for MinJobAge=300 s
    # >= 3 x the 5 s before the first check) and no account is passed to sbatch.
    command = [*SNAKEMAKE, "--profile", "profiles/slurm", *CONFIG, "gpu.yaml", "--jobs", "4",
               "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
               "--slurm-no-account", "--latency-wait", "5", "--seconds-between-status-checks", "2", "--", TARGET]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=2400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return cwd, directory, result.stdout + result.stderr


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
    assert with_gpu == network


def read_table(path: Path) -> bytes:
    # gzip stores the time it wrote the file in its header: compare the CSV inside.
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def test_result_tables_match_a_local_run_byte_for_byte(local_run, slurm_run):
    slurm = slurm_run[0]
    names = sorted(p.name for p in (local_run / "results/tables").iterdir() if p.name not in TIMING_TABLES)
    assert len(names) >= 15, names
    assert sorted(p.name for p in (slurm / "results/tables").iterdir() if p.name not in TIMING_TABLES) == names
    differ = [name for name in names
              if read_table(local_run / "results/tables" / name) != read_table(slurm / "results/tables" / name)]
    assert not differ, f"tables that differ between the local and the SLURM run: {differ}"


def test_slurm_report_has_the_sections_of_the_local_one(local_run, slurm_run):
    sections = lambda cwd: re.findall(r'<section[^>]* id="([\w-]+)"', (cwd / TARGET).read_text())
    assert sections(local_run), "no section in the local report"
    assert sections(slurm_run[0]) == sections(local_run)
