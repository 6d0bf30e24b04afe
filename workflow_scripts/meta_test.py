"""Rule meta_test: accuracy of one trained run on every task of the fixed meta-test set."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd
import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store
from innerloop.evaluation.meta_test import evaluate
from innerloop.training import load_model, resolve_device, write_csv

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
learner, spec, _ = load_model(Path(snakemake.input.model), device)
sampler = TaskSampler(load_store(Path(snakemake.input.manifest).parent), "test", spec.ways, spec.shots,
                      spec.queries, seed=snakemake.params.seed)
n = snakemake.params.n_tasks
accuracy = evaluate(learner, (sampler.task(i) for i in range(n)), device, steps=snakemake.params.inner_steps)
write_csv(pd.DataFrame({"task": range(n), "accuracy": accuracy}), Path(snakemake.output.tasks))
print(f"meta-test accuracy over {n} tasks: {accuracy.mean():.4f}", file=sys.stderr)
