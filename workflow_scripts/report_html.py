"""Rule report_html: every table and figure of the run in one self-contained HTML report."""

import json
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd
import torch
import yaml

from innerloop.reporting.provenance import earliest_mtime, last_command, provenance_info, setup_info
from innerloop.reporting.render import FIGURE_KEYS, OPTIONAL_FIGURE_KEYS, build_context, render_html
from innerloop.reporting.sine import sine_report_tables, sine_setup
from innerloop.reporting.stats_report import stats_report

inp = snakemake.input
config_yaml = Path(inp.config).read_text()
frames = {key: pd.read_csv(inp[key]) for key in (
    "train_log", "validation", "meta_test_summary", "meta_test_table", "lr_table", "probe_summary", "probe_changes",
    "probe_ttest", "probe_vs_maml")}
frames["meta_test"] = pd.read_csv(inp.meta_test_runs)
frames["running_time"] = pd.read_csv(inp.running_time_table)
statuses = [torch.load(p, map_location="cpu", weights_only=True)["status"] for p in inp.models]
context = build_context(
    frames=frames,
    setup=setup_info(yaml.safe_load(config_yaml), json.loads(Path(inp.manifest).read_text())),
    provenance=provenance_info(config_yaml=config_yaml, devices=[s["device"] for s in statuses],
                               command=last_command(Path(snakemake.params.command_record)), started=earliest_mtime(inp.benchmarks)),
    figures={key: inp[key] for key in (*FIGURE_KEYS, *OPTIONAL_FIGURE_KEYS) if key in inp.keys()},
    caption_dir="report/captions",
)
context["tables"].update(sine_report_tables(pd.read_csv(inp.sine_comparison_table),
                                            pd.read_csv(inp.sine_turtle_study_table)))
context["sine"] = sine_setup(yaml.safe_load(config_yaml)["sine"])
statistics = stats_report(**{key: pd.read_csv(inp[key]) for key in (
    "paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero", "claims")},
    alpha=snakemake.params.statistics["alpha"], margin=snakemake.params.statistics["equivalence_margin"])
context["tables"].update(statistics.pop("tables"))
context.update(statistics)
render_html(context, Path(snakemake.params.templates), Path(snakemake.output.html))
