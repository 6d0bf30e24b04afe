"""Rule lr_distribution: the learned inner-loop learning rates of one run, raw and per layer."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np

from innerloop.evaluation.learning_rates import layer_statistics, learning_rate_values
from innerloop.io import atomic_path
from innerloop.training import load_model, write_csv

learner, _, _ = load_model(Path(snakemake.input.model))
values = learning_rate_values(learner)
with atomic_path(snakemake.output.values) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, **values)
write_csv(layer_statistics(values), Path(snakemake.output.layers))
