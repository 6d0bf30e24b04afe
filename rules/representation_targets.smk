# The representation analysis's config block and the runs whose features are visualised
# (functions for rules/representations.smk and the report rule).

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
