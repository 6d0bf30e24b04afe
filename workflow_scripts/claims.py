"""Rule claims: each quantitative claim of the paper and the thesis with the statistic
measured over seeds in this run, its 95% CI, minimum detectable effect, raw and Holm p and a
verdict (innerloop.stats.claims); the convergence status of every run from its validation
log and the learned rates against their init, which decide whether a claim is testable."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.convergence import PlateauRule
from innerloop.io import write_csv
from innerloop.reporting.tables import write_table
from innerloop.stats.claims import ClaimData, claims_table
from innerloop.stats.rates import init_distributions, rates_vs_init
from innerloop.stats.scale import run_convergence

opts = snakemake.params.statistics
inp, out = snakemake.input, snakemake.output
convergence = run_convergence(pd.read_csv(inp.validation), PlateauRule.from_config(snakemake.params.plateau),
                              pd.read_csv(inp.diverged_runs))
rates = rates_vs_init(pd.read_csv(inp.lr_values), init_distributions(snakemake.params.algorithm_options),
                      alpha=opts["alpha"])
data = ClaimData(tasks=pd.read_csv(inp.tasks), probe=pd.read_csv(inp.probe), lr_per_seed=pd.read_csv(inp.lr_per_seed),
                 convergence=convergence, rates_vs_init=rates, alpha=opts["alpha"], margin=opts["equivalence_margin"])
table = claims_table(data)
print(f"{int(convergence['converged'].sum())} of {len(convergence)} runs converged", file=sys.stderr)
for _, r in table.iterrows():
    why = f" ({r['not_testable_because']})" if r["not_testable_because"] else ""
    print(f"{r['id']}: {r['verdict']}{why}", file=sys.stderr)
write_table(table, Path(out.csv).with_suffix(""))
write_csv(convergence, Path(out.runs))
write_csv(rates, Path(out.rates_vs_init))
