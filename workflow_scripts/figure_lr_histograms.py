"""Rule figure_lr_histograms: the learned learning rates per layer of every rate-learning
algorithm (paper Fig. 6); a figure that says so when no configured algorithm learns rates."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_lr_histograms, save_figure

save_figure(draw_lr_histograms(pd.read_csv(snakemake.input.values)), Path(snakemake.output.png).with_suffix(""))
