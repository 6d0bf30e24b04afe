"""Rule lr_stats: the study's Table 1 over seeds, and every learned rate for the histograms."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np
import pandas as pd

from innerloop.evaluation.learning_rates import values_by_layer
from innerloop.paths import read_runs
from innerloop.stats import lr_table
from innerloop.training import write_csv

per_seed = read_runs(snakemake.input.layers, pd.read_csv)
write_csv(per_seed, Path(snakemake.output.per_seed))
write_csv(lr_table(per_seed), Path(snakemake.output.table))
write_csv(read_runs(snakemake.input.values, lambda p: values_by_layer(dict(np.load(p)))), Path(snakemake.output.values))
