# Statistics: per-run results gathered into the tables the report shows (results/tables/*.csv),
# the paired comparisons with Holm correction, the mixed model, the learning-rate one-sample
# tests and the claims table (innerloop/stats/), one table and figure per ablation question
# (innerloop/stats/ablations.py), and the sine-wave tables.


rule collect_training:
    input:
        train_logs=runs("train_log.csv"),
        validation=runs("validation.csv"),
    output:
        train_log="results/tables/train_log.csv",
        validation="results/tables/validation.csv",
    log:
        "results/logs/collect_training.log",
    conda:
        ENV
    script:
        "../workflow_scripts/collect_training.py"


# Each run's convergence status from its model.pt: where it stopped (plateau or budget), its
# best-validation iteration (the model every evaluation uses) and its wall time.
rule run_convergence:
    input:
        models=runs("model.pt"),
    output:
        table="results/tables/convergence.csv",
    log:
        "results/logs/run_convergence.log",
    conda:
        ENV
    script:
        "../workflow_scripts/run_convergence.py"


rule diverged_runs:
    input:
        models=runs("model.pt"),
    output:
        table="results/tables/diverged_runs.csv",
    log:
        "results/logs/diverged_runs.log",
    conda:
        ENV
    script:
        "../workflow_scripts/diverged_runs.py"


# The per-run meta-test tables are gathered once, here: every task of every run
# (meta_test_tasks.csv.gz, which the paired statistics and the claims read).
rule meta_test_stats:
    input:
        runs("meta_test.csv"),
    output:
        tasks="results/tables/meta_test_tasks.csv.gz",
        runs="results/tables/meta_test_runs.csv",
        summary="results/tables/meta_test_summary.csv",
        table="results/tables/meta_test_table.csv",
    log:
        "results/logs/meta_test_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/meta_test_stats.py"


rule protocol_table:
    input:
        meta_test_runs="results/tables/meta_test_runs.csv",
        untrained=runs("untrained_reference.csv"),
        chosen=tuning_choices(),
    output:
        table="results/tables/protocol.csv",
    params:
        config=config,
    log:
        "results/logs/protocol_table.log",
    conda:
        ENV
    script:
        "../workflow_scripts/protocol_table.py"


rule tuning_table:
    input:
        chosen=tuning_choices(),
    output:
        table="results/tables/tuning.csv",
    log:
        "results/logs/tuning_table.log",
    conda:
        ENV
    script:
        "../workflow_scripts/tuning_table.py"


# With no rate-learning algorithm configured the inputs are empty and the tables are written
# header-only, so the rule graph is the same for every configuration. (The guard matters:
# runs(..., []) would mean every algorithm.)
rule lr_stats:
    input:
        layers=lambda w: runs("learning_rates.csv", rate_learning_algorithms()) if rate_learning_algorithms() else [],
        values=lambda w: runs("learning_rates.npz", rate_learning_algorithms()) if rate_learning_algorithms() else [],
    output:
        per_seed="results/tables/lr_layers_per_seed.csv",
        table="results/tables/lr_table.csv",
        values="results/tables/lr_values.csv.gz",
    log:
        "results/logs/lr_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/lr_stats.py"


rule probe_stats:
    input:
        runs("probe.csv"),
    output:
        iterations="results/tables/probe_iterations.csv.gz",
        summary="results/tables/probe_summary.csv",
        changes="results/tables/probe_changes.csv",
        ttest="results/tables/probe_ttest.csv",
        vs_maml="results/tables/probe_vs_maml.csv",
    log:
        "results/logs/probe_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/probe_stats.py"


# The per-run CKA tables come from rule evaluate_run (rules/evaluate.smk).
rule cka_stats:
    input:
        runs("cka.csv"),
    output:
        runs="results/tables/cka_runs.csv.gz",
        summary="results/tables/cka.csv",
    log:
        "results/logs/cka_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/cka_stats.py"


# Wall-clock seconds of every run's stages: training from the benchmark files Snakemake writes,
# meta-test and probe from the evaluation job's seconds per analysis.
rule running_time_stats:
    input:
        train=train_benchmarks(),
        evaluation=runs("evaluation_seconds.csv"),
        meta_test_runs="results/tables/meta_test_runs.csv",
    output:
        runs="results/tables/running_time_runs.csv",
        summary="results/tables/running_time.csv",
    params:
        train_runs=train_benchmark_runs(),
    log:
        "results/logs/running_time_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/running_time_stats.py"


# Cross-domain: every run's meta-test and probe on each target dataset, in the thesis' Table 3.4
# layout (one column per direction and setting). Only in the DAG when cross_domain names a
# pair for the configured dataset.
rule cross_domain_stats:
    input:
        meta_test=cross_domain_runs("meta_test.csv"),
        probe=cross_domain_runs("probe.csv"),
    output:
        runs="results/tables/cross_domain_runs.csv",
        summary="results/tables/cross_domain_summary.csv",
        table="results/tables/cross_domain_table.csv",
        probe_summary="results/tables/cross_domain_probe_summary.csv",
        probe_changes="results/tables/cross_domain_probe_changes.csv",
    log:
        "results/logs/cross_domain_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/cross_domain_stats.py"


rule paired_stats:
    input:
        tasks="results/tables/meta_test_tasks.csv.gz",
        probe="results/tables/probe_iterations.csv.gz",
        lr_per_seed="results/tables/lr_layers_per_seed.csv",
    output:
        paired_meta_test="results/tables/paired_meta_test.csv",
        paired_meta_test_tex="results/tables/paired_meta_test.tex",
        paired_probe="results/tables/paired_probe.csv",
        paired_probe_tex="results/tables/paired_probe.tex",
        mixed_model="results/tables/mixed_model.csv",
        mixed_model_tex="results/tables/mixed_model.tex",
        lr_below_zero="results/tables/lr_below_zero.csv",
        lr_below_zero_tex="results/tables/lr_below_zero.tex",
    params:
        statistics=config["statistics"],
    log:
        "results/logs/paired_stats.log",
    conda:
        ENV
    script:
        "../workflow_scripts/paired_stats.py"


# The claims are inferred over seeds; whether each is testable depends on every run's
# convergence (the plateau rule on its validation log; train.plateau) and, for the learned-rate
# claims, on the rates having moved from their init (algorithm_options.metasgd).
rule claims:
    input:
        tasks="results/tables/meta_test_tasks.csv.gz",
        probe="results/tables/probe_iterations.csv.gz",
        lr_per_seed="results/tables/lr_layers_per_seed.csv",
        lr_values="results/tables/lr_values.csv.gz",
        validation="results/tables/validation.csv",
        diverged_runs="results/tables/diverged_runs.csv",
    output:
        csv="results/tables/claims.csv",
        tex="results/tables/claims.tex",
        runs="results/tables/claims_runs.csv",
        rates_vs_init="results/tables/lr_vs_init.csv",
    params:
        statistics=config["statistics"],
        plateau=config["train"].get("plateau"),
        algorithm_options=config["algorithm_options"],
    log:
        "results/logs/claims.log",
    conda:
        ENV
    script:
        "../workflow_scripts/claims.py"


# One table (CSV and LaTeX) and one figure per question. The rate-sign rule's inputs are
# empty when Meta-SGD is not configured: its table is then header-only and its figure a note.
rule ablation_rate_signs:
    input:
        variants=lambda w: expand_runs(f"results/ablations/rate_signs/runs/{RUN_ID}/probe.csv", ["metasgd"])
            if "metasgd" in config["algorithms"] else [],
        positive=positive_runs("probe.csv"),
    output:
        table="results/tables/ablation_rate_signs.csv",
        tex="results/tables/ablation_rate_signs.tex",
        png="results/figures/ablation_rate_signs.png",
        svg=figure_report("ablation_rate_signs", "Ablations"),
    log:
        "results/logs/ablation_rate_signs.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_rate_signs.py"


# The per-run test-time tables come from rule evaluate_run (rules/evaluate.smk).
rule ablation_test_time:
    input:
        runs=expand_runs(f"results/ablations/test_time/runs/{RUN_ID}/test_time.csv"),
    output:
        tasks="results/tables/ablation_test_time_tasks.csv.gz",
        table="results/tables/ablation_test_time.csv",
        tex="results/tables/ablation_test_time.tex",
        png="results/figures/ablation_test_time.png",
        svg=figure_report("ablation_test_time", "Ablations"),
    log:
        "results/logs/ablation_test_time.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_test_time.py"


rule ablation_inner_steps:
    input:
        probes=sweep_runs("probe.csv"),
        cross_probes=sweep_cross_runs("probe.csv"),
        layers=sweep_runs("learning_rates.csv", [a for a in SWEEP["algorithms"] if a in LEARNS_RATES]),
    output:
        probe="results/tables/ablation_inner_steps_probe.csv",
        rates="results/tables/ablation_inner_steps_rates.csv",
        png="results/figures/ablation_inner_steps.png",
        svg=figure_report("ablation_inner_steps", "Ablations"),
    params:
        steps=SWEEP_STUDIES,
    log:
        "results/logs/ablation_inner_steps.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_inner_steps.py"


rule ablation_convergence:
    input:
        grids=expand("results/ablations/convergence/{method}.csv", method=["maml", "alpha_maml"]),
        logs=expand("results/ablations/convergence/{method}_log.csv", method=["maml", "alpha_maml"]),
    output:
        grid="results/tables/ablation_convergence.csv",
        table="results/tables/ablation_convergence_grid.csv",
        tex="results/tables/ablation_convergence_grid.tex",
        png="results/figures/ablation_convergence.png",
        svg=figure_report("ablation_convergence", "Ablations"),
    log:
        "results/logs/ablation_convergence.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_convergence.py"


rule sine_tables:
    input:
        comparison=plan.run_files(config["sine"], "comparison", "mse.csv"),
        turtle_study=plan.run_files(config["sine"], "turtle_study", "mse.csv"),
    output:
        comparison="results/tables/sine_comparison.csv",
        comparison_runs="results/tables/sine_comparison_runs.csv",
        turtle_study="results/tables/sine_turtle_study.csv",
        turtle_study_runs="results/tables/sine_turtle_study_runs.csv",
    log:
        "results/logs/sine_tables.log",
    conda:
        ENV
    script:
        "../workflow_scripts/sine_tables.py"


# Wall-clock and CPU seconds per rule, summed over its jobs, for the report's provenance.
rule rule_times:
    input:
        lambda w: all_benchmarks(),
    output:
        "results/tables/rule_times.csv",
    log:
        "results/logs/rule_times.log",
    conda:
        ENV
    script:
        "../workflow_scripts/rule_times.py"
