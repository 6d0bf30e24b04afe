"""Rule claims: each quantitative claim of the paper and the thesis with the statistic
measured in this run, its 95% CI and a verdict (innerloop.stats.claims)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.reporting.tables import write_table
from innerloop.stats.claims import ClaimData, claims_table

opts = snakemake.params.statistics
inp = snakemake.input
data = ClaimData(tasks=pd.read_csv(inp.tasks), probe=pd.read_csv(inp.probe),
                 lr_below_zero=pd.read_csv(inp.lr_below_zero), paired_meta_test=pd.read_csv(inp.paired_meta_test),
                 alpha=opts["alpha"], margin=opts["equivalence_margin"])
table = claims_table(data)
for _, r in table.iterrows():
    print(f"{r['id']}: {r['verdict']}", file=sys.stderr)
write_table(table, Path(snakemake.output.csv).with_suffix(""))
