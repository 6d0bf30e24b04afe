"""Rule rule_times: jobs, wall-clock and CPU seconds and peak memory per rule, from the
benchmark files of every benchmarked job."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.stats import rule_times

write_csv(rule_times(snakemake.input), Path(snakemake.output[0]))
