"""Rule lr_stats: the study's Table 1 over seeds, and every learned rate for the histograms,
for every configured algorithm that learns per-element rates. With none configured the
tables are written empty (header only), so the rule graph does not depend on the config."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.evaluation.learning_rates import read_values
from innerloop.io import write_csv
from innerloop.runs import read_runs
from innerloop.stats import lr_table
from innerloop.stats.summaries import LR_LAYER_COLUMNS, RUN_IDENTITY

if snakemake.input.layers:
    per_seed = read_runs(snakemake.input.layers)
    values = read_runs(snakemake.input.values, read_values)
else:
    print("no configured algorithm learns per-element inner-loop learning rates", file=sys.stderr)
    per_seed = pd.DataFrame(columns=RUN_IDENTITY + LR_LAYER_COLUMNS)
    values = pd.DataFrame(columns=RUN_IDENTITY + ["layer", "value"])
write_csv(per_seed, Path(snakemake.output.per_seed))
write_csv(lr_table(per_seed), Path(snakemake.output.table))
write_csv(values, Path(snakemake.output.values))
