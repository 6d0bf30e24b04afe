# Per-run results gathered into the tables the report shows (results/tables/*.csv).


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


rule meta_test_stats:
    input:
        runs("meta_test.csv"),
    output:
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
