"""Rule feature_probe: the study's pre-adaptation / on-task / off-task probe of one run."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store
from innerloop.evaluation.probe import feature_probe
from innerloop.training import load_model, resolve_device, write_csv

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
learner, spec, _ = load_model(Path(snakemake.input.model), device)
sampler = TaskSampler(load_store(Path(snakemake.input.manifest).parent), "test", spec.ways, spec.shots,
                      spec.queries, seed=snakemake.params.seed)
probe = feature_probe(learner, sampler, snakemake.params.iterations, device,
                      steps=snakemake.params.inner_steps, centroid_shots=snakemake.params.centroid_shots)
write_csv(probe, Path(snakemake.output.probe))
