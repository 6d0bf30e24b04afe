"""Rule ablation_inner_steps: the probe and the learned rates of the inner-steps sweep runs,
per training dataset, with the probe also on the cross-domain test datasets."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd

from innerloop.evaluation.ablations import inner_steps_of
from innerloop.io import write_csv
from innerloop.paths import parse_cross_domain_path, parse_run_path, read_runs
from innerloop.reporting import ablation_figures
from innerloop.reporting.figures import save_figure
from innerloop.stats.ablations import inner_steps_probe_table, inner_steps_rates_table


def read(path):
    return pd.read_csv(path).assign(inner_steps=inner_steps_of(path))


def read_probe(path, cross_domain=False):
    probe_dataset = parse_cross_domain_path(path)["target"] if cross_domain else parse_run_path(path)["dataset"]
    return read(path).assign(probe_dataset=probe_dataset)


probes = read_runs(snakemake.input.probes, read_probe)
if snakemake.input.cross_probes:
    probes = pd.concat([probes, read_runs(snakemake.input.cross_probes, lambda p: read_probe(p, cross_domain=True))],
                       ignore_index=True)
probe = inner_steps_probe_table(probes)
rates = (inner_steps_rates_table(read_runs(snakemake.input.layers, read)) if snakemake.input.layers
         else pd.DataFrame(columns=["algorithm", "dataset", "inner_steps", "layer", "mean", "std", "median",
                                    "fraction_negative", "n_seeds"]))
write_csv(probe, Path(snakemake.output.probe))
write_csv(rates, Path(snakemake.output.rates))
save_figure(ablation_figures.draw_ablation_inner_steps(probe, rates), Path(snakemake.output.png).with_suffix(""))
