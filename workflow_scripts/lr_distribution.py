"""Rule lr_distribution: the learned inner-loop learning rates of one run, raw and per layer."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import numpy as np

from innerloop.divergence import diverged_lr_layers, is_diverged
from innerloop.evaluation.learning_rates import LAYERS, layer_statistics, learning_rate_values
from innerloop.io import atomic_path
from innerloop.io import write_csv
from innerloop.training import load_model

learner, _, status = load_model(Path(snakemake.input.model))
if is_diverged(status):
    print("the run diverged in training: no learned rates are recorded", file=sys.stderr)
    values, layers = {}, diverged_lr_layers(LAYERS)
else:
    values = learning_rate_values(learner)
    layers = layer_statistics(values)
with atomic_path(snakemake.output.values) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, **values)
write_csv(layers, Path(snakemake.output.layers))
