"""Rule collect_training: every run's training log and validation curve in two tables."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.io import write_csv
from innerloop.paths import read_runs

write_csv(read_runs(snakemake.input.train_logs, pd.read_csv), Path(snakemake.output.train_log))
write_csv(read_runs(snakemake.input.validation, pd.read_csv), Path(snakemake.output.validation))
