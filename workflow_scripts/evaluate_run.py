"""Rules evaluate_run and cross_domain_evaluation: every analysis of one trained run whose
table is an output of the rule (innerloop.evaluation.run), from one load of the model and
the store, and the seconds each took."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.evaluation.run import ANALYSES, Settings, evaluate_run, load_run
from innerloop.io import write_csv
from innerloop.training import resolve_device

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
run = load_run(snakemake.input.model, Path(snakemake.input.store).parent, snakemake.params.settings["seed"], device)
analyses = [name for name in ANALYSES if name in snakemake.output.keys()]
tables = evaluate_run(run, Settings(**snakemake.params.settings), analyses,
                      log=lambda line: print(line, file=sys.stderr))
for name, table in tables.items():
    write_csv(table, Path(getattr(snakemake.output, name)))
print(f"meta-test accuracy: {tables['meta_test']['accuracy'].mean():.4f}", file=sys.stderr)
