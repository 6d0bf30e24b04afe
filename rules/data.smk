# Every dataset is prepared once into the store format that the task sampler reads.
# On-disk datasets are fingerprinted (sorted listing with sizes and mtimes): a changed
# source directory changes the `source` param, and Snakemake re-prepares the store.

from innerloop.data.registry import source_fingerprint_of


rule prepare_dataset:
    output:
        **store("{dataset}"),
    params:
        options=lambda w: config["datasets"][w.dataset],
        source=lambda w: source_fingerprint_of(w.dataset, config["datasets"][w.dataset]),
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_dataset/{dataset}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/prepare_dataset.py"
