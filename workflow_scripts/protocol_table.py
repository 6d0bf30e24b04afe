"""Rule protocol_table: per algorithm, its training and evaluation protocol, its rates and
how they were chosen (the tuning stage's choices on top of the config), and the meta-test
accuracy beside the untrained reference."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.config import load_schema
from innerloop.io import write_csv
from innerloop.reporting.protocol import protocol_table
from innerloop.runs import read_runs
from innerloop.stats.summaries import meta_test_runs
from innerloop.tuning import read_json

untrained = meta_test_runs(read_runs(snakemake.input.untrained))
chosen = {(record["algorithm"], record["setting"]): record for record in map(read_json, snakemake.input.chosen)}
table = protocol_table(snakemake.params.config, load_schema(), pd.read_csv(snakemake.input.meta_test_runs), untrained,
                       chosen)
write_csv(table, Path(snakemake.output.table))
