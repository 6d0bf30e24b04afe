"""Rule figure_embeddings: PCA and t-SNE maps of meta-test embeddings coloured by class, per algorithm."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import save_figure
from innerloop.reporting.representations import draw_embeddings

points = pd.read_csv(snakemake.input.embeddings)
save_figure(draw_embeddings(points, "pca"), Path(snakemake.output.pca).with_suffix(""))
save_figure(draw_embeddings(points, "tsne"), Path(snakemake.output.tsne).with_suffix(""))
