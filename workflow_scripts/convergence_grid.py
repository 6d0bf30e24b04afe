"""Rule convergence_grid: short runs of one method (MAML with fixed alpha and beta, or
Alpha-MAML) from every initial alpha and beta of the grid; iterations to the loss threshold."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import torch

from innerloop.data.store import load_store
from innerloop.evaluation.ablations import convergence_grid
from innerloop.io import write_csv
from innerloop.runs import RunSpec
from innerloop.training import resolve_device

torch.set_num_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
g = snakemake.params.grid
grid, log = convergence_grid(RunSpec(**snakemake.params.spec), load_store(Path(snakemake.input.store).parent),
                             alphas=g["alphas"], betas=g["betas"], threshold=g["threshold"], window=g["window"],
                             alpha_hyperlr=g["alpha_hyperlr"], beta_hyperlr=g["beta_hyperlr"], device=device,
                             methods=[snakemake.wildcards.method])
write_csv(grid, Path(snakemake.output.grid))
write_csv(log, Path(snakemake.output.log))
print(grid.to_string(), file=sys.stderr)
