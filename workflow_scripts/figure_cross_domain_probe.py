"""Rule figure_cross_domain_probe: the probe of the runs on the cross-domain test sets,
pre-adaptation / on-task / off-task (paper Fig. 7 under domain shift)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_cross_domain_probe, save_figure

fig = draw_cross_domain_probe(pd.read_csv(snakemake.input.summary), pd.read_csv(snakemake.input.changes))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
