# Every dataset is prepared once into the store format that the task sampler reads.


rule prepare_dataset:
    output:
        **store("{dataset}"),
    params:
        options=lambda w: config["datasets"][w.dataset],
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_dataset/{dataset}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/prepare_dataset.py"
