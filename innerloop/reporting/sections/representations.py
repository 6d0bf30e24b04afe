"""Section "Representation change": linear CKA per layer between the meta-initialisation and
the adapted network, and the feature visualisation of MAML, Meta-SGD and the baseline."""

from innerloop.runs import RunId

from . import TABLES, Figure, Section, Table

REPRESENTATIONS = "innerloop.reporting.representations"


def visual_algorithms(config) -> list[str]:
    """MAML, Meta-SGD and the standard-trained baseline (finetune, else multitask), those configured."""
    configured = config["algorithms"]
    baseline = next((a for a in ("finetune", "multitask") if a in configured), None)
    return [a for a in ("maml", "metasgd") if a in configured] + ([baseline] if baseline else [])


def visual_models(config) -> list[str]:
    """model.pt of each visualised algorithm's first-seed run in the first setting."""
    dataset, task, seed = config["dataset"], config["task"], config["seeds"][0]
    return [f"{RunId(dataset, algorithm, task['ways'], task['shots'][0], seed).directory}/model.pt"
            for algorithm in visual_algorithms(config)]


def _store(config) -> str:
    return f"results/data/{config['dataset']}/content.sha256"


def _visualised(config) -> bool:
    return bool(visual_algorithms(config))


def parts(inputs, config, context):
    """The CKA table and the section's context (innerloop.reporting.representations)."""
    from innerloop.reporting.representations import report_parts

    figures = {f.key: context["figures"][f.key] for f in SECTION.figures if f.key in context["figures"]}
    tables, representations = report_parts(inputs.csv("cka_table"), figures,
                                           n_tasks=config["representations"]["cka_tasks"],
                                           visual_algorithms=visual_algorithms(config))
    return {"tables": tables, "context": {"representations": representations}}


SECTION = Section(
    "representations", "Representation change", context="representations",
    figures=(
        Figure("representation_change", {"summary": f"{TABLES}/cka.csv"}, draw=REPRESENTATIONS),
        Figure("first_layer_filters", {"models": visual_models}, draw=REPRESENTATIONS, shown=_visualised),
        Figure("embeddings_pca", {"embeddings": f"{TABLES}/embeddings.csv"}, draw=REPRESENTATIONS, shown=_visualised),
        Figure("embeddings_tsne", {"embeddings": f"{TABLES}/embeddings.csv"}, draw=REPRESENTATIONS,
               shown=_visualised),
        Figure("max_activating_images", {"store": _store, "extremes": f"{TABLES}/max_activating_images.csv"},
               draw=REPRESENTATIONS, shown=_visualised),
    ),
    tables=(Table("cka", {"cka_table": f"{TABLES}/cka.csv"}),),
    parts=parts,
)
