"""Section "Meta-training": training curves, learning curves with each run's stop, the
convergence tables, Alpha-MAML's rate trajectories and the diverged runs."""

from . import TABLES, Figure, Section, Table


def parts(inputs, config, context):
    """The convergence tables and context (innerloop.reporting.convergence), the diverged runs."""
    from innerloop.reference import PUBLISHED_META_TEST
    from innerloop.reporting.convergence import convergence_context
    from innerloop.reporting.tables import diverged_runs_html

    tables, convergence = convergence_context(
        inputs.csv("convergence"), inputs.csv("meta_test_table"), config["train"].get("plateau"),
        config["train"]["iterations"], PUBLISHED_META_TEST.get(config["dataset"]))
    return {"tables": {**tables, "diverged_runs": diverged_runs_html(inputs.csv("diverged_runs"))},
            "context": {"convergence": convergence}}


SECTION = Section(
    "training", "Meta-training",
    figures=(
        Figure("training_curves", {"train_log": f"{TABLES}/train_log.csv", "validation": f"{TABLES}/validation.csv"}),
        Figure("learning_curves", {"validation": f"{TABLES}/validation.csv",
                                   "convergence": f"{TABLES}/convergence.csv"},
               draw="innerloop.reporting.convergence", context="convergence"),
        Figure("lr_trajectories", {"train_log": f"{TABLES}/train_log.csv"},
               shown=lambda config: "alpha_maml" in config["algorithms"]),
    ),
    tables=(
        Table("convergence_summary", {"convergence": f"{TABLES}/convergence.csv"}),
        Table("convergence_runs", {"convergence": f"{TABLES}/convergence.csv"}),
        Table("diverged_runs", {"diverged_runs": f"{TABLES}/diverged_runs.csv"}),
    ),
    sources={"train_log": f"{TABLES}/train_log.csv", "validation": f"{TABLES}/validation.csv"},
    parts=parts,
)
