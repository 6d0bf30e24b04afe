"""Rule figure_max_activating_images: the meta-test images that most and least activate
chosen units of the last blocks, per algorithm."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import numpy as np
import pandas as pd

from innerloop.data.store import load_store
from innerloop.reporting.figures import save_figure
from innerloop.reporting.representations import draw_max_activating_images

extremes = pd.read_csv(snakemake.input.extremes)
store = load_store(Path(snakemake.input.store).parent)
# The figure indexes each algorithm's images by the store indices it names.
order = np.unique(extremes["store_index"].to_numpy())
pool = store.images[order] / np.float32(255)
extremes["image"] = np.searchsorted(order, extremes["store_index"].to_numpy())
fig = draw_max_activating_images({a: pool for a in extremes["algorithm"].unique()}, extremes)
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
