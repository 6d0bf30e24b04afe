# Representation change during adaptation (linear CKA per layer, on-task and off-task, every
# run, computed by rule evaluate_run) and feature visualisation of MAML, Meta-SGD and the standard-trained baseline.

# The runs whose features are visualised: innerloop.reporting.sections.representations.
from innerloop.reporting.sections.representations import visual_algorithms, visual_models

REPRESENTATIONS = config["representations"]


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


rule feature_maps:
    input:
        **store(config["dataset"]),
        models=visual_models(config),
    output:
        embeddings="results/tables/embeddings.csv",
        extremes="results/tables/max_activating_images.csv",
    params:
        classes=REPRESENTATIONS["classes"],
        images_per_class=REPRESENTATIONS["images_per_class"],
        perplexity=REPRESENTATIONS["tsne_perplexity"],
        unit_layers=REPRESENTATIONS["unit_layers"],
        units=REPRESENTATIONS["units"],
        top_k=REPRESENTATIONS["top_k"],
        seed=config["evaluation"]["seed"],
    threads: 1
    log:
        "results/logs/feature_maps.log",
    conda:
        ENV
    script:
        "../workflow_scripts/feature_maps.py"


