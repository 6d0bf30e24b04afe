"""Rule untrained_reference: the run's untrained network under its own evaluation, on the meta-test tasks."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import torch

from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store
from innerloop.evaluation.reference import untrained_reference
from innerloop.training import RunSpec, resolve_device, write_csv

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
spec = RunSpec(**snakemake.params.spec)
store = load_store(Path(snakemake.input.store).parent)
n = snakemake.params.n_tasks
sampler = TaskSampler(store, "test", spec.ways, spec.shots, spec.queries, seed=snakemake.params.seed)
accuracy = untrained_reference(spec, store, (sampler.task(i) for i in range(n)), device,
                               steps=snakemake.params.inner_steps)
write_csv(pd.DataFrame({"task": range(n), "accuracy": accuracy}), Path(snakemake.output.tasks))
print(f"untrained reference over {n} tasks: {accuracy.mean():.4f}", file=sys.stderr)
