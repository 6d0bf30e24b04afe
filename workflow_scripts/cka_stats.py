"""Rule cka_stats: every run's CKA per layer, on-task and off-task, averaged over tasks per
run and summarised over seeds (mean and 95% t-interval)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.evaluation.representations import cka_summary
from innerloop.io import write_csv
from innerloop.runs import read_runs

cka = read_runs(snakemake.input)
write_csv(cka, Path(snakemake.output.runs))
write_csv(cka_summary(cka), Path(snakemake.output.summary))
