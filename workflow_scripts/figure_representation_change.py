"""Rule figure_representation_change: CKA per layer, on-task vs off-task, per algorithm."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import save_figure
from innerloop.reporting.representations import draw_representation_change

fig = draw_representation_change(pd.read_csv(snakemake.input.summary))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
