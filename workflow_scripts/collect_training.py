"""Rule collect_training: every run's training log and validation curve in two tables."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.runs import read_runs

write_csv(read_runs(snakemake.input.train_logs), Path(snakemake.output.train_log))
write_csv(read_runs(snakemake.input.validation), Path(snakemake.output.validation))
