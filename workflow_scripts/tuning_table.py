"""Rule tuning_table: every tuning candidate's validation score beside the choice."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.tuning import read_json, tuning_table

write_csv(tuning_table([read_json(p) for p in snakemake.input.chosen]), Path(snakemake.output.table))
