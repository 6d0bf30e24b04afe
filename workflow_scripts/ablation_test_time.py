"""Rule ablation_test_time: every run's accuracy per test-time procedure, with the paired
difference from adapting to the task itself: table and figure."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.reporting import ablation_figures
from innerloop.reporting.figures import save_figure
from innerloop.reporting.tables import write_table
from innerloop.runs import read_runs
from innerloop.stats.ablations import procedure_table

tasks = read_runs(snakemake.input.runs)
write_csv(tasks, Path(snakemake.output.tasks))
table = procedure_table(tasks)
write_table(table, Path(snakemake.output.table).with_suffix(""),
            caption="Meta-test accuracy per test-time procedure, paired with adaptation to the task")
save_figure(ablation_figures.draw_ablation_test_time(table), Path(snakemake.output.png).with_suffix(""))
