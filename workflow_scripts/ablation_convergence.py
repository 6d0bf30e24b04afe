"""Rule ablation_convergence: the MAML / Alpha-MAML convergence grid as a table (blank where
the threshold was not reached) and a figure with Alpha-MAML's alpha and beta trajectories."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.io import write_csv
from innerloop.reporting import ablation_figures
from innerloop.reporting.figures import save_figure
from innerloop.reporting.tables import write_table
from innerloop.stats.ablations import convergence_display

grid = pd.concat([pd.read_csv(p) for p in snakemake.input.grids], ignore_index=True)
log = pd.concat([pd.read_csv(p) for p in snakemake.input.logs], ignore_index=True)
write_csv(grid, Path(snakemake.output.grid))
write_table(convergence_display(grid), Path(snakemake.output.table).with_suffix(""),
            caption="Iterations until the smoothed training loss is below the threshold")
save_figure(ablation_figures.draw_ablation_convergence(grid, log), Path(snakemake.output.png).with_suffix(""))
