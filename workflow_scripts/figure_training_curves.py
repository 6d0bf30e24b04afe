"""Rule figure_training_curves: validation and training accuracy over meta-training (paper Fig. 5)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_training_curves, save_figure

fig = draw_training_curves(pd.read_csv(snakemake.input.train_log), pd.read_csv(snakemake.input.validation))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
