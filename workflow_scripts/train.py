"""Rules train and ablation_train: meta-train one algorithm / setting / seed (with the tuned
options where the algorithm is tuned), resuming from its checkpoint."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.data.store import load_store
from innerloop.runs import RunSpec
from innerloop.training import resolve_device, train
from innerloop.tuning import read_json, with_chosen

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
print(f"device: {device}", file=sys.stderr)
spec = dict(snakemake.params.spec)
if "chosen" in snakemake.input.keys():  # the tuning stage's choice of options (rules/tune.smk)
    spec["options"] = with_chosen(spec["options"], read_json(snakemake.input.chosen))
    print(f"tuned options: {spec['options']}", file=sys.stderr)
train(
    RunSpec(**spec),
    load_store(Path(snakemake.input.store).parent),
    model_path=Path(snakemake.output.model),
    log_path=Path(snakemake.output.train_log),
    validation_path=Path(snakemake.output.validation),
    checkpoint_path=Path(snakemake.params.checkpoint),
    device=device,
)
