"""Rule convergence_grid: short runs of one method (MAML with fixed alpha and beta, or
Alpha-MAML) from every initial alpha and beta of the grid; iterations to the loss threshold."""

from pathlib import Path

from innerloop.job import Job

job = Job(snakemake)

from innerloop.data.store import load_store
from innerloop.evaluation.ablations import convergence_grid
from innerloop.io import write_csv
from innerloop.runs import RunSpec

g = snakemake.params.grid
grid, log = convergence_grid(RunSpec(**snakemake.params.spec), load_store(job.store),
                             alphas=g["alphas"], betas=g["betas"], threshold=g["threshold"], window=g["window"],
                             alpha_hyperlr=g["alpha_hyperlr"], beta_hyperlr=g["beta_hyperlr"], device=job.device(),
                             methods=[snakemake.wildcards.method])
write_csv(grid, Path(snakemake.output.grid))
write_csv(log, Path(snakemake.output.log))
job.print(grid.to_string())
