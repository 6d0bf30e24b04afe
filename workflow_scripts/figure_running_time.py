"""Rule figure_running_time: training time per algorithm, and meta-test accuracy against it (thesis Fig. 3.4)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_running_time, save_figure

fig = draw_running_time(pd.read_csv(snakemake.input.runs), pd.read_csv(snakemake.input.meta_test_runs))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
