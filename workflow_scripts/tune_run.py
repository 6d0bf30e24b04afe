"""Rule tune_run: meta-train one tuning candidate and score it on meta-validation."""

from pathlib import Path

from innerloop.job import Job

job = Job(snakemake)

import pandas as pd

from innerloop.convergence import PlateauRule
from innerloop.data.store import load_store
from innerloop.divergence import is_diverged
from innerloop.runs import RunSpec
from innerloop.training import train
from innerloop.tuning import candidate_result, write_json

spec = RunSpec(**snakemake.params.spec)
learner = train(spec, load_store(job.store), model_path=Path(snakemake.output.model),
                log_path=Path(snakemake.output.train_log), validation_path=Path(snakemake.output.validation),
                checkpoint_path=Path(snakemake.params.checkpoint), device=job.device())
result = candidate_result(snakemake.params.candidate, pd.read_csv(snakemake.output.validation),
                          metric=learner.metric_name, diverged=is_diverged(learner.training_status),
                          rule=PlateauRule.from_config(snakemake.params.plateau))
print(f"{spec.algorithm} {snakemake.wildcards.candidate}: best validation {result['best_score']:.4f} "
      f"at iteration {result['best_iteration']} ({result['status']})", file=job.log)
write_json(result, Path(snakemake.output.result))
