"""Rule tables_latex: every result table the report reads (CSV) also as a LaTeX table."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.io import write_text_atomic
from innerloop.reporting.tables import latex_table

for csv, tex in zip(snakemake.input, snakemake.output):
    write_text_atomic(Path(tex), latex_table(pd.read_csv(csv)))
