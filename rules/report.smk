# Figures (one rule and one script each, named after what the figure shows), the rule
# graph, and the HTML/PDF report that pulls every number from the result tables.

import sys

rule config_as_run:
    output:
        "results/report/config_as_run.yaml",
    params:
        config=config,
    log:
        "results/logs/config_as_run.log",
    conda:
        ENV
    script:
        "../workflow_scripts/config_as_run.py"


rule figure_training_curves:
    input:
        train_log="results/tables/train_log.csv",
        validation="results/tables/validation.csv",
    output:
        png="results/figures/training_curves.png",
        svg=figure_report("training_curves", "Training"),
    log:
        "results/logs/figures/training_curves.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_training_curves.py"


rule figure_learning_curves:
    input:
        validation="results/tables/validation.csv",
        convergence="results/tables/convergence.csv",
    output:
        png="results/figures/learning_curves.png",
        svg=figure_report("learning_curves", "Training"),
    log:
        "results/logs/figures/learning_curves.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_learning_curves.py"


rule figure_lr_trajectories:
    input:
        train_log="results/tables/train_log.csv",
    output:
        png="results/figures/lr_trajectories.png",
        svg=figure_report("lr_trajectories", "Training"),
    log:
        "results/logs/figures/lr_trajectories.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_lr_trajectories.py"


rule figure_lr_histograms:
    input:
        values="results/tables/lr_values.csv.gz",
    output:
        png="results/figures/lr_histograms.png",
        svg=figure_report("lr_histograms", "Learning rates"),
    log:
        "results/logs/figures/lr_histograms.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_lr_histograms.py"


rule figure_feature_probe:
    input:
        summary="results/tables/probe_summary.csv",
        changes="results/tables/probe_changes.csv",
    output:
        png="results/figures/feature_probe.png",
        svg=figure_report("feature_probe", "Feature probe"),
    log:
        "results/logs/figures/feature_probe.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_feature_probe.py"


# The probe of the glyph-trained runs on the cross-domain test sets (same figure, other tables).
rule figure_cross_domain_probe:
    input:
        summary="results/tables/cross_domain_probe_summary.csv",
        changes="results/tables/cross_domain_probe_changes.csv",
    output:
        png="results/figures/cross_domain_probe.png",
        svg=figure_report("cross_domain_probe", "Cross-domain"),
    log:
        "results/logs/figures/cross_domain_probe.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_feature_probe.py"


rule figure_meta_test_accuracy:
    input:
        runs="results/tables/meta_test_runs.csv",
    output:
        png="results/figures/meta_test_accuracy.png",
        svg=figure_report("meta_test_accuracy", "Meta-test"),
    log:
        "results/logs/figures/meta_test_accuracy.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_meta_test_accuracy.py"


rule figure_running_time:
    input:
        runs="results/tables/running_time_runs.csv",
        meta_test_runs="results/tables/meta_test_runs.csv",
    output:
        png="results/figures/running_time.png",
        svg=figure_report("running_time", "Running time"),
    log:
        "results/logs/figures/running_time.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_running_time.py"


rule rulegraph:
    input:
        "results/report/config_as_run.yaml",
    output:
        dot="results/figures/rulegraph.dot",
        png="results/figures/rulegraph.png",
        svg=report("results/figures/rulegraph.svg", caption="../report/captions/rulegraph.rst", category="Provenance"),
    params:
        snakemake=f"{sys.executable} -m snakemake",
    log:
        "results/logs/rulegraph.log",
    conda:
        ENV
    shell:
        "({params.snakemake} --rulegraph --nolock --configfile {input} > {output.dot}.part && mv {output.dot}.part {output.dot}"
        " && dot -Tsvg {output.dot} -o {output.svg}.part && mv {output.svg}.part {output.svg}"
        " && dot -Tpng -Gdpi=110 {output.dot} -o {output.png}.part && mv {output.png}.part {output.png}) > {log} 2>&1"


rule report_html:
    input:
        config="results/report/config_as_run.yaml",
        train_log="results/tables/train_log.csv",
        validation="results/tables/validation.csv",
        meta_test_runs="results/tables/meta_test_runs.csv",
        meta_test_summary="results/tables/meta_test_summary.csv",
        meta_test_table="results/tables/meta_test_table.csv",
        lr_table="results/tables/lr_table.csv",
        lr_per_seed="results/tables/lr_layers_per_seed.csv",
        probe_summary="results/tables/probe_summary.csv",
        probe_changes="results/tables/probe_changes.csv",
        probe_ttest="results/tables/probe_ttest.csv",
        probe_vs_maml="results/tables/probe_vs_maml.csv",
        paired_meta_test="results/tables/paired_meta_test.csv",
        paired_probe="results/tables/paired_probe.csv",
        mixed_model="results/tables/mixed_model.csv",
        lr_below_zero="results/tables/lr_below_zero.csv",
        claims="results/tables/claims.csv",
        claims_runs="results/tables/claims_runs.csv",
        running_time_table="results/tables/running_time.csv",
        rule_times="results/tables/rule_times.csv",
        diverged_runs="results/tables/diverged_runs.csv",
        tuning="results/tables/tuning.csv",
        protocol="results/tables/protocol.csv",
        convergence="results/tables/convergence.csv",
        learning_curves="results/figures/learning_curves.png",
        manifest=f"results/data/{config['dataset']}/manifest.json",
        training_curves="results/figures/training_curves.png",
        lr_histograms="results/figures/lr_histograms.png",
        feature_probe="results/figures/feature_probe.png",
        meta_test_accuracy="results/figures/meta_test_accuracy.png",
        running_time="results/figures/running_time.png",
        **unless_skipped("rulegraph", rulegraph="results/figures/rulegraph.png"),
        sine_comparison_table="results/tables/sine_comparison.csv",
        sine_turtle_study_table="results/tables/sine_turtle_study.csv",
        sine_comparison="results/figures/sine_comparison.png",
        sine_turtle_study="results/figures/sine_turtle_study.png",
        # The cross-domain tables, only when cross_domain names a pair for the configured dataset.
        **({"cross_domain_table": "results/tables/cross_domain_table.csv",
            "cross_domain_summary": "results/tables/cross_domain_summary.csv",
            "cross_domain_probe_changes": "results/tables/cross_domain_probe_changes.csv",
            "cross_domain_probe": "results/figures/cross_domain_probe.png",
            "cross_domain_manifests": expand("results/data/{target}/manifest.json", target=cross_domain_targets())}
           if cross_domain_targets() else {}),
        # Alpha-MAML's learning-rate trajectories, only when it is configured.
        **({"lr_trajectories": "results/figures/lr_trajectories.png"}
           if "alpha_maml" in config["algorithms"] else {}),
        # Representation change and feature visualisation (rules/representations.smk).
        cka_table="results/tables/cka.csv",
        **representation_figures(),
        **ABLATION_REPORT_INPUTS,
        models=runs("model.pt"),
        benchmarks=train_benchmarks(),
    output:
        html="results/report/report.html",
    params:
        command_record=COMMAND_RECORD,
        templates="report/templates",
        visual_algorithms=visual_algorithms(),
        statistics=config["statistics"],
        tuning=config["tuning"],
        plateau=config["train"].get("plateau"),
    log:
        "results/logs/report_html.log",
    conda:
        ENV
    script:
        "../workflow_scripts/report_html.py"


rule report_pdf:
    input:
        "results/report/report.html",
    output:
        "results/report/report.pdf",
    log:
        "results/logs/report_pdf.log",
    conda:
        ENV
    script:
        "../workflow_scripts/report_pdf.py"
