"""Rule running_time_stats: each run's wall-clock seconds per job (train, meta_test,
feature_probe) from Snakemake's benchmark files, and the median per algorithm and setting
beside the median meta-test accuracy (thesis Fig. 3.4)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.stats import read_benchmarks, run_times, running_time_summary
from innerloop.training import write_csv

inp = snakemake.input
times = run_times(read_benchmarks([*inp.train, *inp.meta_test, *inp.feature_probe]))
write_csv(times, Path(snakemake.output.runs))
write_csv(running_time_summary(times, pd.read_csv(inp.meta_test_runs)), Path(snakemake.output.summary))
