# Settings, wildcard constraints and target functions of the ablation rules (rules/ablations.smk).

ABLATIONS = config["ablations"]
SWEEP = ABLATIONS["inner_steps"]
GRID = ABLATIONS["convergence"]

#: A training run of an ablation study: "positive_rates" (Meta-SGD with positive rates) or
#: "steps<K>" (the inner-steps sweep), in the run directory layout of RUN.
ABLATION_RUN = f"results/ablations/{{study}}/runs/{RUN_ID}"
ABLATION_RUN_ID = f"{{study}}/{RUN_ID}"


#: The inner-steps sweep's studies: "steps<K>" -> K inner steps (training and probe).
SWEEP_STUDIES = {f"steps{steps}": steps for steps in SWEEP["steps"]}


wildcard_constraints:
    study=r"positive_rates|steps\d+",
    method=r"maml|alpha_maml",


def ablation_spec(wildcards):
    """The RunSpec dict of an ablation training run: the main run's spec with the study's change."""
    spec = run_spec(wildcards)
    if wildcards.study == "positive_rates":
        spec["options"] = {**spec["options"], "positive": True}
    else:
        spec["inner_steps"] = SWEEP_STUDIES[wildcards.study]
        spec["iterations"] = SWEEP["iterations"]
        spec["val_every"] = spec["checkpoint_every"] = SWEEP["iterations"]
    return spec


def positive_run_ids():
    """The Meta-SGD runs trained with positive rates (innerloop.runs.RunId), if configured."""
    if not (ABLATIONS["rate_signs"]["positive_trained"] and "metasgd" in config["algorithms"]):
        return []
    return run_ids(["metasgd"], study="positive_rates")


def positive_runs(filename):
    return [f"{run.directory}/{filename}" for run in positive_run_ids()]


#: Datasets the sweep trains on (ablations.inner_steps.datasets, else the main dataset).
SWEEP_DATASETS = sweep_datasets(config)


def sweep_run_ids(algorithms=None, datasets=None):
    """Every inner-steps sweep run (innerloop.runs.RunId): study x dataset x algorithm x setting x seed."""
    return [run for study in SWEEP_STUDIES
            for run in run_ids(SWEEP["algorithms"] if algorithms is None else algorithms, study=study,
                               datasets=SWEEP_DATASETS if datasets is None else datasets, seeds=SWEEP["seeds"])]


def sweep_runs(filename, algorithms=None, datasets=None):
    """``filename`` in every inner-steps sweep run (of ``algorithms`` trained on ``datasets``)."""
    return [f"{run.directory}/{filename}" for run in sweep_run_ids(algorithms, datasets)]


def sweep_cross_runs(filename):
    """``filename`` of every sweep run's evaluation on the cross-domain test datasets of its training dataset."""
    if not SWEEP["cross_domain"]:
        return []
    return [path for dataset in SWEEP_DATASETS for target in cross_domain_targets(dataset)
            for path in sweep_runs(f"cross_domain/{target}/{filename}", datasets=[dataset])]


def grid_spec():
    """The RunSpec dict shared by the convergence-grid runs (the first configured setting)."""
    train = config["train"]
    return dict(dataset=config["dataset"], algorithm="alpha_maml", seed=GRID["seed"], ways=config["task"]["ways"],
                shots=config["task"]["shots"][0], queries=config["task"]["queries"], filters=config["model"]["filters"],
                iterations=GRID["iterations"], meta_batch=train["meta_batch"], inner_steps=GRID["inner_steps"],
                outer_lr=GRID["betas"][0], val_every=GRID["iterations"], val_tasks=1,
                val_seed=config["evaluation"]["seed"], checkpoint_every=GRID["iterations"], options={})
