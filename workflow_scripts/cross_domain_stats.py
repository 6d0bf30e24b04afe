"""Rule cross_domain_stats: per-run cross-domain meta-test accuracy, the summary over seeds and
the thesis' Table 3.4 layout, and the feature probe's changes under the domain shift."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.io import write_csv
from innerloop.runs import read_runs
from innerloop.stats import meta_test_summary, meta_test_table, probe_changes, probe_summary
from innerloop.stats.summaries import meta_test_runs

out = snakemake.output
runs = meta_test_runs(read_runs(snakemake.input.meta_test))
summary = meta_test_summary(runs)
write_csv(runs, Path(out.runs))
write_csv(summary, Path(out.summary))
write_csv(meta_test_table(summary), Path(out.table))
probe = read_runs(snakemake.input.probe)
write_csv(probe_summary(probe), Path(out.probe_summary))
write_csv(probe_changes(probe), Path(out.probe_changes))
