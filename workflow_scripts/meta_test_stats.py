"""Rule meta_test_stats: every task of every run in one table, per-run meta-test accuracy
with its CI, the summary over seeds, and the thesis-style table (algorithms x settings,
median +- CI half-width, best in bold)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.runs import read_runs
from innerloop.stats import meta_test_summary, meta_test_table
from innerloop.stats.summaries import meta_test_runs

tasks = read_runs(snakemake.input)
write_csv(tasks, Path(snakemake.output.tasks))
runs = meta_test_runs(tasks)
summary = meta_test_summary(runs)
write_csv(runs, Path(snakemake.output.runs))
write_csv(summary, Path(snakemake.output.summary))
write_csv(meta_test_table(summary), Path(snakemake.output.table))
