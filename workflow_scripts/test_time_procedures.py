"""Rule test_time_procedures: one run's accuracy on the first tasks of the fixed meta-test
set without adaptation, adapted to the task, and adapted to another task."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.evaluation.ablations import procedure_accuracies
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.training import resolve_device, write_csv

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
learner, _, sampler = load_for_evaluation(Path(snakemake.input.model), Path(snakemake.input.store).parent,
                                          split="test", seed=snakemake.params.seed, device=device)
tasks = procedure_accuracies(learner, sampler, snakemake.params.n_tasks, device, steps=snakemake.params.inner_steps)
write_csv(tasks, Path(snakemake.output.tasks))
print(tasks.groupby("procedure")["accuracy"].mean().to_string(), file=sys.stderr)
