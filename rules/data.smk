# Every dataset is prepared once into the store format that the task sampler reads.
# On-disk datasets are fingerprinted (sorted listing with sizes and mtimes): a changed
# source directory changes the `source` param, and Snakemake re-prepares the store. Jobs
# downstream read the store through its content digest (content.sha256, rules/common.smk):
# a store prepared again with the same content reruns none of them.

from innerloop.data.registry import source_fingerprint_of


rule prepare_dataset:
    output:
        **store_files("{dataset}"),
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
