"""Rule figure_feature_probe: probe accuracy pre-adaptation / on-task / off-task (paper Fig. 7)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from innerloop.reporting.figures import feature_probe, save_figure

fig = feature_probe(pd.read_csv(snakemake.input.summary), pd.read_csv(snakemake.input.changes))
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
