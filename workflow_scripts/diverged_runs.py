"""Rule diverged_runs: every run whose meta-training diverged, with where and how."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.divergence import diverged_runs
from innerloop.io import write_csv

table = diverged_runs(snakemake.input.models)
print(f"{len(table)} of {len(snakemake.input.models)} runs diverged", file=sys.stderr)
write_csv(table, Path(snakemake.output.table))
