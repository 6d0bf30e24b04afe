"""Rule paired_stats: every algorithm against the reference, paired by (seed, task) on the
meta-test and by (seed, iteration) in the probe, with Holm per family; the mixed model of
per-task accuracy and of the probe change; the one-sample tests of the learned rates below zero."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.tables import write_table
from innerloop.stats.paired import lr_below_zero, mixed_models, paired_meta_test, paired_probe

opts = snakemake.params.statistics
reference, alpha = opts["reference"], opts["alpha"]
out = snakemake.output
tasks = pd.read_csv(snakemake.input.tasks)
probe = pd.read_csv(snakemake.input.probe)
per_seed = pd.read_csv(snakemake.input.lr_per_seed)

def stem(path):
    return Path(path).with_suffix("")

write_table(paired_meta_test(tasks, reference=reference, alpha=alpha), stem(out.paired_meta_test))
write_table(paired_probe(probe, reference=reference, alpha=alpha), stem(out.paired_probe))
mixed = mixed_models(tasks, probe, reference=reference, alpha=alpha)
for _, fit in mixed.drop_duplicates(["response", "model"]).iterrows():
    if fit["note"]:
        print(f"mixed model of {fit['response']}: {fit['note']}", file=sys.stderr)
if mixed.empty:
    print(f"{reference!r} is not configured: no mixed model", file=sys.stderr)
write_table(mixed, stem(out.mixed_model))
write_table(lr_below_zero(per_seed, alpha=alpha), stem(out.lr_below_zero))
