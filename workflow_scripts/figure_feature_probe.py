"""Rule figure_feature_probe: probe accuracy pre-adaptation / on-task / off-task (paper Fig. 7)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_feature_probe, save_figure

fig = draw_feature_probe(pd.read_csv(snakemake.input.summary), pd.read_csv(snakemake.input.changes))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
