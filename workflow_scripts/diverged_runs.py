"""Rule diverged_runs: every run whose meta-training diverged, with where and how."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from innerloop.divergence import diverged_runs
from innerloop.training import write_csv

table = diverged_runs(snakemake.input.models)
print(f"{len(table)} of {len(snakemake.input.models)} runs diverged", file=sys.stderr)
write_csv(table, Path(snakemake.output.table))
