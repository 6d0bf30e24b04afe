"""Rule figure_learning_curves: validation accuracy of every run with its stop point and best-validation point."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.convergence import draw_learning_curves
from innerloop.reporting.figures import save_figure

fig = draw_learning_curves(pd.read_csv(snakemake.input.validation), pd.read_csv(snakemake.input.convergence))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
