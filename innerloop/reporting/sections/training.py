"""Section "Meta-training": training curves, learning curves with each run's stop, the
convergence tables, Alpha-MAML's rate trajectories and the diverged runs."""

from . import TABLES, Figure, Section, Table

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
)
