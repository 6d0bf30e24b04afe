"""Rule cka: linear CKA between the meta-initialisation's and the adapted network's
activations per layer, on-task and off-task, for one run."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.evaluation.loading import load_for_evaluation
from innerloop.evaluation.representations import representation_change
from innerloop.training import resolve_device, write_csv

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
learner, _, sampler = load_for_evaluation(Path(snakemake.input.model), Path(snakemake.input.store).parent,
                                          split="test", seed=snakemake.params.seed, device=device)
cka = representation_change(learner, sampler, snakemake.params.tasks, device, steps=snakemake.params.inner_steps)
write_csv(cka, Path(snakemake.output.cka))
