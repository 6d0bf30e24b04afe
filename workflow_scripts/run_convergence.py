"""Rule run_convergence: every run's convergence status (converged, budget reached still
improving, diverged), iterations, best-validation iteration and wall time in one table."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.convergence import convergence_runs
from innerloop.io import write_csv

table = convergence_runs(snakemake.input.models)
print(table["status"].value_counts().to_string(), file=sys.stderr)
write_csv(table, Path(snakemake.output.table))
