"""Rule tune_run: meta-train one tuning candidate and score it on meta-validation."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import torch

from innerloop.convergence import PlateauRule
from innerloop.data.store import load_store
from innerloop.divergence import is_diverged
from innerloop.runs import RunSpec
from innerloop.training import resolve_device, train
from innerloop.tuning import candidate_result, write_json

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
spec = RunSpec(**snakemake.params.spec)
learner = train(spec, load_store(Path(snakemake.input.store).parent), model_path=Path(snakemake.output.model),
                log_path=Path(snakemake.output.train_log), validation_path=Path(snakemake.output.validation),
                checkpoint_path=Path(snakemake.params.checkpoint), device=device)
result = candidate_result(snakemake.params.candidate, pd.read_csv(snakemake.output.validation),
                          metric=learner.metric_name, diverged=is_diverged(learner.training_status),
                          rule=PlateauRule.from_config(snakemake.params.plateau))
print(f"{spec.algorithm} {snakemake.wildcards.candidate}: best validation {result['best_score']:.4f} "
      f"at iteration {result['best_iteration']} ({result['status']})", file=sys.stderr)
write_json(result, Path(snakemake.output.result))
