"""Rule sine_figures: the method comparison (thesis Fig. 3.3) and the TURTLE study (Fig. 3.2)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.figures import save_figure
from innerloop.reporting.sine import draw_sine_comparison, draw_sine_turtle_study

inp, out = snakemake.input, snakemake.output
save_figure(draw_sine_comparison(pd.read_csv(inp.comparison), pd.read_csv(inp.comparison_runs)),
            Path(out.comparison_png).with_suffix(""))
save_figure(draw_sine_turtle_study(pd.read_csv(inp.turtle_study)), Path(out.turtle_study_png).with_suffix(""))
