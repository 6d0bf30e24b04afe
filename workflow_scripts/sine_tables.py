"""Rule sine_tables: per-run MSE with its CI over tasks, and the summary over seeds, per experiment."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.reporting.sine import read_tasks, run_table, summary_table

for experiment in ("comparison", "turtle_study"):
    runs = run_table(read_tasks(snakemake.input[experiment]))
    write_csv(runs, Path(snakemake.output[f"{experiment}_runs"]))
    write_csv(summary_table(runs), Path(snakemake.output[experiment]))
