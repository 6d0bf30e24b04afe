# Representation change during adaptation (linear CKA per layer, on-task and off-task, every
# run, computed by rule evaluate_run) and feature visualisation of MAML, Meta-SGD and the standard-trained baseline.

include: "representation_targets.smk"


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


rule figure_representation_change:
    input:
        summary="results/tables/cka.csv",
    output:
        png="results/figures/representation_change.png",
        svg=figure_report("representation_change", "Representations"),
    log:
        "results/logs/figures/representation_change.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_representation_change.py"


rule figure_first_layer_filters:
    input:
        models=visual_models(),
    output:
        png="results/figures/first_layer_filters.png",
        svg=figure_report("first_layer_filters", "Representations"),
    log:
        "results/logs/figures/first_layer_filters.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_first_layer_filters.py"


rule feature_maps:
    input:
        **store(config["dataset"]),
        models=visual_models(),
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


rule figure_embeddings:
    input:
        embeddings="results/tables/embeddings.csv",
    output:
        pca="results/figures/embeddings_pca.png",
        tsne="results/figures/embeddings_tsne.png",
        pca_svg=figure_report("embeddings_pca", "Representations"),
        tsne_svg=figure_report("embeddings_tsne", "Representations"),
    log:
        "results/logs/figures/embeddings.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_embeddings.py"


rule figure_max_activating_images:
    input:
        **store(config["dataset"]),
        extremes="results/tables/max_activating_images.csv",
    output:
        png="results/figures/max_activating_images.png",
        svg=figure_report("max_activating_images", "Representations"),
    log:
        "results/logs/figures/max_activating_images.log",
    conda:
        ENV
    script:
        "../workflow_scripts/figure_max_activating_images.py"
