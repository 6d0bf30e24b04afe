"""Rule running_time_stats: each run's wall-clock seconds per stage (train from Snakemake's
benchmark files; meta_test and feature_probe from its evaluation job's seconds), and the
median per algorithm and setting beside the median meta-test accuracy (thesis Fig. 3.4)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.io import write_csv
from innerloop.stats import read_benchmarks, read_evaluation_seconds, run_times, running_time_summary

inp = snakemake.input
times = run_times(pd.concat([read_benchmarks(inp.train, snakemake.params.train_runs), read_evaluation_seconds(inp.evaluation)], ignore_index=True))
write_csv(times, Path(snakemake.output.runs))
write_csv(running_time_summary(times, pd.read_csv(inp.meta_test_runs)), Path(snakemake.output.summary))
