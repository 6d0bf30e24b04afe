"""Rule meta_test: accuracy of one trained run on every task of the fixed meta-test set."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import torch

from innerloop.divergence import diverged_meta_test, is_diverged, read_status
from innerloop.evaluation.loading import load_for_evaluation
from innerloop.scoring import evaluate
from innerloop.training import resolve_device, write_csv

n = snakemake.params.n_tasks
if is_diverged(read_status(snakemake.input.model)):
    print("the run diverged in training: its meta-test accuracies are written as NaN", file=sys.stderr)
    write_csv(diverged_meta_test(n), Path(snakemake.output.tasks))
else:
    torch.set_num_threads(snakemake.threads)
    device = resolve_device(snakemake.params.device)
    learner, _, sampler = load_for_evaluation(Path(snakemake.input.model), Path(snakemake.input.store).parent,
                                              split="test", seed=snakemake.params.seed, device=device)
    accuracy = evaluate(learner, (sampler.task(i) for i in range(n)), device, steps=snakemake.params.inner_steps)
    write_csv(pd.DataFrame({"task": range(n), "accuracy": accuracy}), Path(snakemake.output.tasks))
    print(f"meta-test accuracy over {n} tasks: {accuracy.mean():.4f}", file=sys.stderr)
