"""What every workflow job of one run does first and last, in one place.

A rule's script makes a :class:`Job` from Snakemake's ``snakemake`` object before it imports
anything heavy, so that even an import error lands in the job's log::

    from innerloop.job import Job

    job = Job(snakemake)        # the log, with the code record first (innerloop.code_version)
    device = job.device()       # the rule's threads and device ("auto": CUDA when present)
    ...
    job.write("probe", table)   # the output ``probe``, with the run's identity columns in front

The run is the one the job's wildcards name (:class:`innerloop.runs.RunId`); its tables carry
its identity, so the rules that collect them parse no path.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

from innerloop.code_version import open_job_log
from innerloop.runs import RunId


class Job:
    """The running Snakemake job of a rule whose script computes something of one run."""

    def __init__(self, snakemake):
        self.snakemake = snakemake
        self.log = open_job_log(snakemake)  # sys.stderr from here on

    @cached_property
    def run(self) -> RunId:
        """The run the job's wildcards name (an ablation study's when it has a ``study`` wildcard)."""
        return RunId.from_wildcards(self.snakemake.wildcards)

    @property
    def target(self) -> str | None:
        """The cross-domain dataset the job evaluates the run on (its ``target`` wildcard), if any."""
        return self.snakemake.wildcards.get("target")

    @property
    def store(self) -> Path:
        """The directory of the store the job reads (input ``store`` is its content digest)."""
        return Path(self.snakemake.input.store).parent

    @property
    def model(self) -> Path:
        return Path(self.snakemake.input.model)

    def print(self, *args) -> None:
        print(*args, file=sys.stderr)

    def threads(self) -> int:
        """The rule's threads, set for torch; and the allocator set to reuse freed memory
        (:func:`innerloop.devices.keep_freed_memory`: a job's steps allocate and free the same
        large activations over and over)."""
        import torch

        from innerloop.devices import keep_freed_memory

        keep_freed_memory()
        torch.set_num_threads(self.snakemake.threads)
        return self.snakemake.threads

    def device(self):
        """The rule's threads set for torch, and its device (param ``device``, ``auto`` by default)."""
        from innerloop.training import resolve_device

        threads = self.threads()
        device = resolve_device(self.snakemake.params.get("device", "auto"))
        self.print(f"device: {device}, {threads} thread(s)")
        return device

    def diverged(self) -> bool:
        """Whether the run's meta-training diverged (its model file's status says so); the job
        then writes NaN rows, which the statistics leave out and list."""
        from innerloop.divergence import is_diverged, read_status

        diverged = is_diverged(read_status(self.model))
        if diverged:
            self.print("the run diverged in training: its scores are written as NaN")
        return diverged

    def load_for_evaluation(self, device, split: str = "test"):
        """The trained learner, its spec and the fixed task sampler of its setting on ``split``
        of the job's store, with the evaluation seed (param ``seed``)."""
        from innerloop.evaluation.loading import load_for_evaluation

        return load_for_evaluation(self.model, self.store, split=split, seed=self.snakemake.params.seed,
                                   device=device)

    def write(self, output: str, table) -> None:
        """``table`` as the job's output ``output``, with the run's identity columns in front
        (:meth:`RunId.tag`; for a cross-domain job, with the direction and ``target``)."""
        from innerloop.io import write_csv

        write_csv(self.run.tag(table, self.target), Path(self.snakemake.output[output]))
