"""Rule ablation_rate_signs: the rate-sign variants and the positive-rate runs against the
rates as trained (paired over seed and probe iteration): table and figure."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.divergence import drop_diverged
from innerloop.reporting import ablation_figures
from innerloop.reporting.figures import placeholder, save_figure
from innerloop.reporting.tables import write_table
from innerloop.runs import read_runs
from innerloop.stats.ablations import PAIRED_COLUMNS, rate_ablation_table

stem = Path(snakemake.output.table).with_suffix("")
if snakemake.input.variants:
    # A diverged run's probe rows are NaN; they are left out here and listed in diverged_runs.csv.
    variants = drop_diverged(read_runs(snakemake.input.variants))
    positive = (drop_diverged(read_runs(snakemake.input.positive)).drop(columns="study")
                if snakemake.input.positive else None)
    table = rate_ablation_table(variants, positive)
    fig = ablation_figures.draw_ablation_rate_signs(table)
else:
    print("Meta-SGD is not configured: no rate-sign ablation", file=sys.stderr)
    table = pd.DataFrame(columns=["setting", "variant", "reference", *PAIRED_COLUMNS])
    fig = placeholder("Meta-SGD is not configured")
write_table(table, stem, caption="Learned-rate sign ablation of Meta-SGD: off-task minus on-task probe change")
save_figure(fig, Path(snakemake.output.png).with_suffix(""))
