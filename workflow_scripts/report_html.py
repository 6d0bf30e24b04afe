"""Rule report_html: every table and figure of the run in one self-contained HTML report."""

import json
import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import yaml

from innerloop.divergence import read_status
from innerloop.reference import PUBLISHED_META_TEST
from innerloop.reporting.ablations import ablation_context
from innerloop.reporting.convergence import convergence_context
from innerloop.reporting.provenance import (code_versions, earliest_mtime, last_command, provenance_info,
                                            result_files, setup_info)
from innerloop.reporting.render import build_context, render_html
from innerloop.evaluation.cross_domain import describe_conversion
from innerloop.reporting.representations import report_parts as representation_parts
from innerloop.reporting.sections import FIGURES_BY_KEY, SECTIONS
from innerloop.reporting.sine import sine_report_tables, sine_setup
from innerloop.reporting.tables import (cross_domain_tables, diverged_runs_html, protocol_html, rule_times_html,
                                        tuning_html)
from innerloop.reporting.stats_report import stats_report
from innerloop.convergence import PlateauRule
from innerloop.stats.scale import scale_summary

inp = snakemake.input
config_yaml = Path(inp.config).read_text()
frames = {key: pd.read_csv(inp[key]) for key in (
    "train_log", "validation", "meta_test_summary", "meta_test_table", "lr_table", "probe_summary", "probe_changes",
    "probe_ttest", "probe_vs_maml")}
frames["meta_test"] = pd.read_csv(inp.meta_test_runs)
frames["running_time"] = pd.read_csv(inp.running_time_table)
statuses = [read_status(p) for p in inp.models]
context = build_context(
    frames=frames,
    setup=setup_info(yaml.safe_load(config_yaml), json.loads(Path(inp.manifest).read_text())),
    provenance=provenance_info(config_yaml=config_yaml, devices=[s["device"] for s in statuses],
                               command=last_command(Path(snakemake.params.command_record)), started=earliest_mtime(inp.benchmarks)),
    # Every declared figure the configuration has (innerloop.reporting.sections); the rule
    # graph is skipped where graphviz is missing (rules/common.smk, SKIPPED).
    figures={"rulegraph": None, **{key: inp[key] for key in FIGURES_BY_KEY if key in inp.keys()}},
    caption_dir="report/captions",
)
context["tables"].update(sine_report_tables(pd.read_csv(inp.sine_comparison_table),
                                            pd.read_csv(inp.sine_turtle_study_table)))
times = pd.read_csv(inp.rule_times)
context["tables"]["rule_times"] = rule_times_html(times)
made, in_runs = result_files(inp, inp.models)
context["provenance"]["code"] = code_versions(made, Path(snakemake.scriptdir), optional=in_runs)
context["provenance"]["cpu_hours"] = float(times["cpu_s"].sum()) / 3600
context["tables"]["diverged_runs"] = diverged_runs_html(pd.read_csv(inp.diverged_runs))
context["tables"]["tuning"] = tuning_html(pd.read_csv(inp.tuning))
context["tuning"] = snakemake.params.tuning
context["tables"]["protocol"] = protocol_html(pd.read_csv(inp.protocol))
train_config = yaml.safe_load(config_yaml)["train"]
convergence_tables, context["convergence"] = convergence_context(
    pd.read_csv(inp.convergence), frames["meta_test_table"], train_config.get("plateau"), train_config["iterations"],
    PUBLISHED_META_TEST.get(yaml.safe_load(config_yaml)["dataset"]))
context["tables"].update(convergence_tables)
context["sine"] = sine_setup(yaml.safe_load(config_yaml)["sine"])
if "cross_domain_table" in inp.keys():
    context["tables"].update(cross_domain_tables(pd.read_csv(inp.cross_domain_table),
                                                 pd.read_csv(inp.cross_domain_probe_changes)))
    network = json.loads(Path(inp.manifest).read_text())
    context["cross_domain"] = [
        {"train": network["dataset"], "test": m["dataset"],
         "conversion": describe_conversion(tuple(m["shape"][1:]), tuple(network["shape"][1:]))}
        for m in (json.loads(Path(p).read_text()) for p in inp.cross_domain_manifests)]
representations = next(s for s in SECTIONS if s.id == "representations")
figures = {f.key: context["figures"][f.key] for f in representations.figures if f.key in context["figures"]}
tables, context["representations"] = representation_parts(
    pd.read_csv(inp.cka_table), figures, n_tasks=yaml.safe_load(config_yaml)["representations"]["cka_tasks"],
    visual_algorithms=snakemake.params.visual_algorithms)
context["tables"].update(tables)
ablation_tables, context["ablations"] = ablation_context(
    rate_signs=pd.read_csv(inp.ablation_rate_signs_table), test_time=pd.read_csv(inp.ablation_test_time_table),
    inner_steps_probe=pd.read_csv(inp.ablation_inner_steps_probe),
    inner_steps_rates=pd.read_csv(inp.ablation_inner_steps_rates),
    convergence_grid=pd.read_csv(inp.ablation_convergence_grid, dtype=str, keep_default_na=False),
    convergence_runs=pd.read_csv(inp.ablation_convergence_runs), config=yaml.safe_load(config_yaml))
context["tables"].update(ablation_tables)
stats_tables = {key: pd.read_csv(inp[key]) for key in (
    "paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero", "claims")}
scale = scale_summary(pd.read_csv(inp.claims_runs), stats_tables["claims"],
                      probe_iterations=context["setup"]["probe"]["iterations"], seeds=context["setup"]["seeds"])
statistics = stats_report(**stats_tables, alpha=snakemake.params.statistics["alpha"],
                          margin=snakemake.params.statistics["equivalence_margin"],
                          plateau=PlateauRule.from_config(snakemake.params.plateau).describe(), scale=scale)
context["tables"].update(statistics.pop("tables"))
context.update(statistics)
render_html(context, Path(snakemake.params.templates), Path(snakemake.output.html))
