# Representation change during adaptation (linear CKA per layer, on-task and off-task, every
# run) and feature visualisation of MAML, Meta-SGD and the standard-trained baseline.

REPRESENTATIONS = config["representations"]


def visual_algorithms():
    """MAML, Meta-SGD and the standard-trained baseline (finetune, else multitask), those configured."""
    configured = config["algorithms"]
    baseline = next((a for a in ("finetune", "multitask") if a in configured), None)
    return [a for a in ("maml", "metasgd") if a in configured] + ([baseline] if baseline else [])


def visual_models():
    """model.pt of each visualised algorithm's first-seed run in the first setting."""
    return expand(f"{RUN}/model.pt", dataset=config["dataset"], algorithm=visual_algorithms(),
                  ways=config["task"]["ways"], shots=config["task"]["shots"][0], seed=config["seeds"][0])


#: The feature-visualisation figures, when there is an algorithm to show.
VISUAL_FIGURES = ["first_layer_filters", "embeddings_pca", "embeddings_tsne", "max_activating_images"]


def representation_figures():
    """{key: PNG} of the representation figures the configuration produces (for report_html)."""
    keys = ["representation_change"] + (VISUAL_FIGURES if visual_algorithms() else [])
    return {key: f"results/figures/{key}.png" for key in keys}


rule cka:
    input:
        **store("{dataset}"),
        model=f"{RUN}/model.pt",
    output:
        cka=f"{RUN}/cka.csv",
    params:
        tasks=REPRESENTATIONS["cka_tasks"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        device=config["train"]["device"],
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/cka/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/cka/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/cka.py"


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
