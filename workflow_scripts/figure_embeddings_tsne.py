"""Rule figure_embeddings_tsne: t-SNE maps of meta-test embeddings coloured by class, per algorithm."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import save_figure
from innerloop.reporting.representations import draw_embeddings_tsne

save_figure(draw_embeddings_tsne(pd.read_csv(snakemake.input.embeddings)), Path(snakemake.output.png).with_suffix(""))
