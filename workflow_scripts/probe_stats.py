"""Rule probe_stats: probe accuracies and changes with CIs, and the study's t-test."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from innerloop.paths import read_runs
from innerloop.stats import probe_changes, probe_summary, probe_ttest
from innerloop.training import write_csv

probe = read_runs(snakemake.input, pd.read_csv)
write_csv(probe, Path(snakemake.output.iterations))
write_csv(probe_summary(probe), Path(snakemake.output.summary))
write_csv(probe_changes(probe), Path(snakemake.output.changes))
write_csv(probe_ttest(probe), Path(snakemake.output.ttest))
