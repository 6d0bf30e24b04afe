"""Rule figure_lr_trajectories: Alpha-MAML's inner and outer learning rates over meta-training
(the Alpha-MAML poster's learning-rate trajectories)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_lr_trajectories, save_figure

save_figure(draw_lr_trajectories(pd.read_csv(snakemake.input.train_log)), Path(snakemake.output.png).with_suffix(""))
