"""Kill the whole workflow mid-training and rerun it: training resumes from its checkpoint
and ends with the weights and tables of a run that was never interrupted; jobs that had
finished do not rerun. Also the determinism promise on the CPU: two runs of the same config
in two directories give byte-identical result tables.

One algorithm (MAML, 8 filters) on a small glyph subset, with a checkpoint every two
iterations over 200 iterations: the test kills the process group as soon as the first
checkpoint appears, which leaves most of training to the rerun. Between the kill and the
rerun, `snakemake --unlock` removes the lock the killed instance left (Snakemake's own
guard against two instances in one directory).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from workflow_copy import SNAKEMAKE, copy_workflow, die_with_parent

CONFIG = """\
algorithms: [maml]
seeds: [0]
datasets:
  glyphs: {max_classes: 60, images_per_class: 8}
task: {queries: 5}
cross_domain: []
model: {filters: 8}
train: {iterations: 200, meta_batch: 2, inner_steps: 1, val_every: 100, val_tasks: 4, checkpoint_every: 2}
evaluation: {meta_test_tasks: 8}
representations: {images_per_class: 8}  # the store holds 8 per class
tuning: {algorithms: []}  # the configured rate: the test is about resuming, not choosing
"""
RUN = "results/runs/glyphs/maml/5w1s/seed0"
CHECKPOINT = Path("results/checkpoints/glyphs/maml/5w1s/seed0/checkpoint.pt")
TRAIN_LOG = Path("results/logs/train/glyphs/maml/5w1s/seed0.log")
STORE = Path("results/data/glyphs/images.npy")
#: Result files compared byte for byte: the run's own and the tables gathered from it.
RESULTS = [f"{RUN}/train_log.csv", f"{RUN}/validation.csv", f"{RUN}/meta_test.csv",
           "results/tables/train_log.csv", "results/tables/validation.csv",
           "results/tables/meta_test_runs.csv", "results/tables/meta_test_summary.csv",
           "results/tables/meta_test_table.csv"]
COMMAND = [*SNAKEMAKE, "--cores", "2", "--resources", "gpu=1", "--configfile", "tiny.yaml", "--", *RESULTS]


def workdir(path: Path) -> Path:
    copy_workflow(path)
    (path / "tiny.yaml").write_text(CONFIG)
    return path


def run(cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(COMMAND, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def _uninterrupted_started(tmp_path_factory):
    """The uninterrupted run, started beside the killed one (each job takes one core)."""
    cwd = workdir(tmp_path_factory.mktemp("uninterrupted"))
    with open(cwd / "run.log", "w") as log:
        process = subprocess.Popen(COMMAND, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=die_with_parent)
    try:
        yield cwd, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def uninterrupted(_uninterrupted_started):
    cwd, process = _uninterrupted_started
    assert process.wait(timeout=1800) == 0, (cwd / "run.log").read_text()[-5000:]
    return cwd


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory, _uninterrupted_started):
    """The workflow SIGKILLed (the whole process group) right after the first checkpoint, then
    rerun (while the uninterrupted run goes on beside it)."""
    cwd = workdir(tmp_path_factory.mktemp("killed"))
    with open(cwd / "first.log", "w") as log:
        process = subprocess.Popen(COMMAND, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 1800
    while not (cwd / CHECKPOINT).exists():
        if process.poll() is not None:
            pytest.fail(f"snakemake ended (exit {process.returncode}) before the first checkpoint: "
                        + (cwd / "first.log").read_text()[-3000:])
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("no checkpoint after 1800 s")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = torch.load(cwd / CHECKPOINT, weights_only=True)["iteration"]
    assert not (cwd / RUN / "model.pt").exists(), "training finished before the kill: the test needs more iterations"
    assert 0 < killed_at < 200, killed_at
    store_mtime = (cwd / STORE).stat().st_mtime_ns

    # A SIGKILLed Snakemake leaves its lock behind; it refuses to start until told that no
    # other instance is running (README: Faults).
    unlock = subprocess.run([*COMMAND[:COMMAND.index("--")], "--unlock"], cwd=cwd, capture_output=True, text=True)
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    result = run(cwd)
    assert result.returncode == 0, result.stderr[-5000:]
    return cwd, killed_at, store_mtime, result.stdout + result.stderr


def test_training_resumes_from_the_checkpoint_left_by_the_kill(killed_and_resumed):
    cwd, killed_at, _, _ = killed_and_resumed
    log = (cwd / TRAIN_LOG).read_text()
    assert f"resuming from {CHECKPOINT} at iteration {killed_at}" in log, log[-2000:]
    status = torch.load(cwd / RUN / "model.pt", weights_only=True)["status"]
    assert status["resumed_from"] == killed_at


def test_jobs_finished_before_the_kill_do_not_rerun(killed_and_resumed):
    cwd, _, store_mtime, output = killed_and_resumed
    assert (cwd / STORE).stat().st_mtime_ns == store_mtime
    assert "rule prepare_dataset:" not in output
    assert "rule train:" in output


def test_resumed_run_has_the_weights_of_an_uninterrupted_run(killed_and_resumed, uninterrupted):
    cwd = killed_and_resumed[0]
    resumed = torch.load(cwd / RUN / "model.pt", weights_only=True)["state"]
    reference = torch.load(uninterrupted / RUN / "model.pt", weights_only=True)["state"]
    assert resumed.keys() == reference.keys()
    for name, tensor in reference.items():
        assert torch.equal(resumed[name], tensor), name


@pytest.mark.parametrize("path", RESULTS)
def test_result_tables_are_byte_identical_across_runs(killed_and_resumed, uninterrupted, path):
    """Two runs of one config on the CPU (one of them killed and resumed) write the same bytes."""
    assert (killed_and_resumed[0] / path).read_bytes() == (uninterrupted / path).read_bytes(), path
