"""Rule probe_stats: probe accuracies and changes with CIs, the study's t-test (MAML vs
Meta-SGD, when both are configured; otherwise a header-only table) and every algorithm's
off-task minus on-task change against MAML."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.divergence import drop_diverged
from innerloop.io import write_csv
from innerloop.runs import read_runs
from innerloop.stats import probe_changes, probe_summary, probe_ttest, probe_vs_reference

probe = drop_diverged(read_runs(snakemake.input))  # diverged runs: NaN rows, listed in diverged_runs.csv
write_csv(probe, Path(snakemake.output.iterations))
write_csv(probe_summary(probe), Path(snakemake.output.summary))
write_csv(probe_changes(probe), Path(snakemake.output.changes))
ttest = probe_ttest(probe)
if ttest.empty:
    print("MAML and Meta-SGD are not both configured: the paper's t-test is not run", file=sys.stderr)
write_csv(ttest, Path(snakemake.output.ttest))
write_csv(probe_vs_reference(probe, reference="maml"), Path(snakemake.output.vs_maml))
