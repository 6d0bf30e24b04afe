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
from innerloop.runs import read_runs, setting_name
from innerloop.stats.ablations import inner_steps_probe_table, inner_steps_rates_table


def with_steps(runs):
    """The sweep runs' rows with their study ("steps<K>") as the K inner steps it trained with."""
    return runs.assign(inner_steps=runs.pop("study").map(snakemake.params.steps))


probes = with_steps(read_runs(snakemake.input.probes))
probes["probe_dataset"] = probes["dataset"]
if snakemake.input.cross_probes:  # the direction is the probe dataset; the setting, the task's
    cross = with_steps(read_runs(snakemake.input.cross_probes))
    cross = cross.assign(setting=[setting_name(w, s) for w, s in zip(cross["ways"], cross["shots"])],
                         probe_dataset=cross.pop("target"))
    probes = pd.concat([probes, cross], ignore_index=True)
probe = inner_steps_probe_table(probes)
rates = (inner_steps_rates_table(with_steps(read_runs(snakemake.input.layers))) if snakemake.input.layers
         else pd.DataFrame(columns=["algorithm", "dataset", "inner_steps", "layer", "mean", "std", "median",
                                    "fraction_negative", "n_seeds"]))
write_csv(probe, Path(snakemake.output.probe))
write_csv(rates, Path(snakemake.output.rates))
save_figure(ablation_figures.draw_ablation_inner_steps(probe, rates), Path(snakemake.output.png).with_suffix(""))
