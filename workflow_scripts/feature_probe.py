"""Rules ablation_probe and ablation_cross_probe: the study's pre-adaptation / on-task /
off-task probe of one ablation run (a main run's probe is rule evaluate_run's)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.divergence import diverged_probe, is_diverged, read_status
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.evaluation.probe import feature_probe
from innerloop.io import write_csv
from innerloop.training import resolve_device

if is_diverged(read_status(snakemake.input.model)):
    print("the run diverged in training: its probe scores are written as NaN", file=sys.stderr)
    write_csv(diverged_probe(snakemake.params.iterations), Path(snakemake.output.probe))
else:
    torch.set_num_threads(snakemake.threads)
    device = resolve_device(snakemake.params.device)
    learner, _, sampler = load_for_evaluation(Path(snakemake.input.model), Path(snakemake.input.store).parent,
                                              split="test", seed=snakemake.params.seed, device=device)
    probe = feature_probe(learner, sampler, snakemake.params.iterations, device,
                          steps=snakemake.params.inner_steps, centroid_shots=snakemake.params.centroid_shots)
    write_csv(probe, Path(snakemake.output.probe))
