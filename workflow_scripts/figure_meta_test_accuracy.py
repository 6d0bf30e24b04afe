"""Rule figure_meta_test_accuracy: meta-test accuracy of every run with its 95% CI."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import draw_meta_test_accuracy, save_figure

save_figure(draw_meta_test_accuracy(pd.read_csv(snakemake.input.runs)), Path(snakemake.output.png).with_suffix(""))
