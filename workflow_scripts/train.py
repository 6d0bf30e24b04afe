"""Rules train and ablation_train: meta-train one algorithm / setting / seed (with the tuned
options where the algorithm is tuned), resuming from its checkpoint."""

from pathlib import Path

from innerloop.job import Job

job = Job(snakemake)

from innerloop.data.store import load_store
from innerloop.runs import RunSpec
from innerloop.training import train
from innerloop.tuning import read_json, with_chosen

spec = dict(snakemake.params.spec)
if "chosen" in snakemake.input.keys():  # the tuning stage's choice of options (rule tune_choose)
    spec["options"] = with_chosen(spec["options"], read_json(snakemake.input.chosen))
    job.print(f"tuned options: {spec['options']}")
train(
    RunSpec(**spec),
    load_store(job.store),
    model_path=Path(snakemake.output.model),
    log_path=Path(snakemake.output.train_log),
    validation_path=Path(snakemake.output.validation),
    checkpoint_path=Path(snakemake.params.checkpoint),
    device=job.device(),
    run=job.run,
)
