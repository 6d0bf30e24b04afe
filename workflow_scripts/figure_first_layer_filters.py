"""Rule figure_first_layer_filters: the first convolution's filters of the visualised runs, side by side."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.evaluation.representations import first_layer_filters
from innerloop.reporting.figures import save_figure
from innerloop.reporting.representations import draw_first_layer_filters
from innerloop.training import load_model

filters = {}
for path in snakemake.input.models:
    learner, spec, _ = load_model(Path(path))
    filters[spec.algorithm] = first_layer_filters(learner.init)
save_figure(draw_first_layer_filters(filters), Path(snakemake.output.png).with_suffix(""))
