"""innerloop.job.Job: a workflow job of one run opens its log first and writes its tables
with the run's identity in front."""

import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from innerloop.job import Job
from innerloop.runs import RUN_COLUMNS, RunId

ROOT = Path(__file__).resolve().parents[2]


class _Outputs(types.SimpleNamespace):
    def __getitem__(self, name):
        return getattr(self, name)

    def __iter__(self):
        return iter(vars(self).values())


@pytest.fixture
def make_job(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "/x/.snakemake/scripts/tmpab12.evaluate_run.py",
                        raising=False)
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # the job replaces it with its log

    jobs = []

    def make(**wildcards):
        smk = types.SimpleNamespace(scriptdir=str(ROOT / "workflow_scripts"), rule="evaluate_run",
                                    wildcards={"dataset": "glyphs", "algorithm": "maml", "ways": "5", "shots": "1",
                                               "seed": "2", **wildcards},
                                    output=_Outputs(probe=str(tmp_path / "out" / "probe.csv")),
                                    log=[str(tmp_path / "job.log")], resources={}, params={}, threads=1)
        jobs.append(Job(smk))
        return jobs[-1]
    yield make
    for job in jobs:
        job.log.close()


def test_a_job_logs_first_and_writes_its_table_with_its_run(make_job, tmp_path):
    job = make_job()
    assert sys.stderr is job.log and (tmp_path / "job.log").read_text().startswith("code: commit")
    assert job.run == RunId("glyphs", "maml", 5, 1, 2) and job.target is None
    job.write("probe", pd.DataFrame({"iteration": [0, 1], "on_task": [0.5, 0.6]}))
    written = pd.read_csv(tmp_path / "out" / "probe.csv")
    assert list(written.columns) == [*RUN_COLUMNS, "iteration", "on_task"]
    assert written[["algorithm", "setting", "seed"]].drop_duplicates().values.tolist() == [["maml", "5w1s", 2]]


def test_a_cross_domain_or_ablation_job_says_so_in_its_rows(make_job, tmp_path):
    make_job(target="digits", study="steps3").write("probe", pd.DataFrame({"iteration": [0]}))
    row = pd.read_csv(tmp_path / "out" / "probe.csv").iloc[0]
    assert (row["setting"], row["target"], row["study"]) == ("glyphs_to_digits_5w1s", "digits", "steps3")


def test_a_job_sets_torchs_threads_and_keeps_freed_memory(make_job, monkeypatch):
    import torch

    from innerloop import devices

    calls = []
    monkeypatch.setattr(devices, "keep_freed_memory", lambda: calls.append(True) or True)
    before = torch.get_num_threads()
    try:
        assert make_job().threads() == 1
        assert torch.get_num_threads() == 1 and calls == [True]
    finally:
        torch.set_num_threads(before)
