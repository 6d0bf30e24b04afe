"""Rule report_html: every table and figure of the run in one self-contained HTML report."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import yaml

from innerloop.divergence import read_status
from innerloop.reporting.provenance import earliest_mtime, last_command, provenance_info, setup_info
from innerloop.reporting.render import build_context, render_html
from innerloop.reporting.sections import FIGURES_BY_KEY, Inputs, add_parts

inp = snakemake.input
inputs = Inputs(inp, Path(snakemake.scriptdir))
config_yaml = Path(inp.config).read_text()
config = yaml.safe_load(config_yaml)  # the config as run
frames = {key: pd.read_csv(inp[key]) for key in (
    "train_log", "validation", "meta_test_summary", "meta_test_table", "lr_table", "probe_summary", "probe_changes",
    "probe_ttest", "probe_vs_maml")}
frames["meta_test"] = pd.read_csv(inp.meta_test_runs)
frames["running_time"] = pd.read_csv(inp.running_time_table)
statuses = [read_status(p) for p in inp.models]
# The report's common context: setup, findings, the meta-test, learning-rate and probe tables.
context = build_context(
    frames=frames,
    setup=setup_info(config, inputs.json("manifest")),
    provenance=provenance_info(config_yaml=config_yaml, devices=[s["device"] for s in statuses],
                               command=last_command(Path(snakemake.params.command_record)),
                               started=earliest_mtime(inp.benchmarks)),
    # Every declared figure the configuration has (innerloop.reporting.sections); the rule
    # graph is skipped where graphviz is missing (rules/common.smk, SKIPPED).
    figures={"rulegraph": None, **{key: inp[key] for key in FIGURES_BY_KEY if key in inp.keys()}},
    caption_dir="report/captions",
)
# Then each section's own tables and context (innerloop/reporting/sections/<section>.py).
add_parts(context, inputs, config)
render_html(context, Path(snakemake.params.templates), Path(snakemake.output.html))
