"""Rule ablation_inner_steps: the probe and the learned rates of the inner-steps sweep runs,
per training dataset, with the probe also on the cross-domain test datasets."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.io import write_csv
from innerloop.reporting import ablation_figures
from innerloop.reporting.figures import save_figure
from innerloop.runs import read_runs
from innerloop.stats.ablations import inner_steps_probe_table, inner_steps_rates_table, sweep_probes, with_inner_steps

steps = snakemake.params.steps  # the plan's sweep studies: "steps<K>" -> K
probes = sweep_probes(read_runs(snakemake.input.probes),
                      read_runs(snakemake.input.cross_probes) if snakemake.input.cross_probes else None, steps)
probe = inner_steps_probe_table(probes)
rates = (inner_steps_rates_table(with_inner_steps(read_runs(snakemake.input.layers), steps))
         if snakemake.input.layers else pd.DataFrame(columns=["algorithm", "dataset", "inner_steps", "layer", "mean", "std", "median",
                                    "fraction_negative", "n_seeds"]))
write_csv(probe, Path(snakemake.output.probe))
write_csv(rates, Path(snakemake.output.rates))
save_figure(ablation_figures.draw_ablation_inner_steps(probe, rates), Path(snakemake.output.png).with_suffix(""))
