# Paired comparisons with Holm correction, the mixed model, the learning-rate one-sample
# tests and the claims table (innerloop/stats/paired.py, innerloop/stats/claims.py).


rule paired_stats:
    input:
        meta_test=runs("meta_test.csv"),
        probe="results/tables/probe_iterations.csv.gz",
        lr_per_seed="results/tables/lr_layers_per_seed.csv",
    output:
        tasks="results/tables/meta_test_tasks.csv.gz",
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
