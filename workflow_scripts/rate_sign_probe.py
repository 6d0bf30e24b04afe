"""Rule rate_sign_probe: the feature probe of one Meta-SGD run with its learned rates as
trained, negative rates set to zero, and negative rates sign-flipped (same tasks)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.evaluation.ablations import rate_ablation_probe
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.io import write_csv
from innerloop.training import resolve_device

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
learner, _, sampler = load_for_evaluation(Path(snakemake.input.model), Path(snakemake.input.store).parent,
                                          split="test", seed=snakemake.params.seed, device=device)
probe = rate_ablation_probe(learner, sampler, snakemake.params.iterations, device,
                            steps=snakemake.params.inner_steps, centroid_shots=snakemake.params.centroid_shots)
write_csv(probe, Path(snakemake.output.probe))
