"""Rule train: meta-train one algorithm / setting / seed, resuming from its checkpoint."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.data.store import load_store
from innerloop.training import RunSpec, resolve_device, train

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
print(f"device: {device}", file=sys.stderr)
train(
    RunSpec(**snakemake.params.spec),
    load_store(Path(snakemake.input.store).parent),
    model_path=Path(snakemake.output.model),
    log_path=Path(snakemake.output.train_log),
    validation_path=Path(snakemake.output.validation),
    checkpoint_path=Path(snakemake.params.checkpoint),
    device=device,
)
