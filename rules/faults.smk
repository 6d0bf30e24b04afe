# Runs that diverged in meta-training (non-finite loss, weights or validation): read from
# the status in each model.pt, listed in the report instead of being averaged as NaN.


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
