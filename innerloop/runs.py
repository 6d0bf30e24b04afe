"""What a run is, and which runs a config asks for.

A training run is one :class:`RunSpec`: everything that determines it and nothing that does
not. The sine-wave study's two experiments (:mod:`innerloop.sine`; thesis Sec. 3.5) are
planned here as data: their variants, the spec and identity of each run, where its files go
and how it is scored.

Snakemake reads this module when it plans the workflow (rules/common.smk), and every Snakemake
start pays for what it imports, so it imports nothing that imports torch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one training run (and nothing that does not)."""

    dataset: str
    algorithm: str
    seed: int
    ways: int
    shots: int
    queries: int
    filters: int
    iterations: int  # the budget: the most outer iterations, fewer when validation plateaus
    meta_batch: int
    inner_steps: int
    outer_lr: float
    val_every: int
    val_tasks: int
    val_seed: int
    checkpoint_every: int
    options: dict[str, Any] = field(default_factory=dict)
    #: Keywords of the plateau rule (:class:`innerloop.convergence.PlateauRule`; {}: its defaults).
    plateau: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Which run made a file
# --------------------------------------------------------------------------------------

#: The study of the paper's runs; an ablation study's runs live under results/ablations/<study>/.
MAIN = "main"
#: A run's part of every path it writes: results/runs/<RUN_KEY>/..., logs/<rule>/<RUN_KEY>.log,
#: benchmarks/<rule>/<RUN_KEY>.tsv (the Snakemake rules' wildcards, rules/common.smk).
RUN_KEY = "{dataset}/{algorithm}/{ways}w{shots}s/seed{seed}"
#: The columns that say which run a per-run table row belongs to, in front of every per-run
#: table the workflow writes (:meth:`RunId.tag`), so collecting the tables parses no path.
RUN_COLUMNS = ("dataset", "algorithm", "setting", "ways", "shots", "seed")


def setting_name(ways: int, shots: int) -> str:
    """The name of a task setting, ``"5w1s"``."""
    return f"{ways}w{shots}s"


def cross_domain_setting(train: str, test: str, setting: str) -> str:
    """The setting key of runs trained on ``train`` and tested on ``test`` in ``setting`` ("5w1s")."""
    return f"{train}_to_{test}_{setting}"


@dataclass(frozen=True)
class RunId:
    """Which training run: dataset, algorithm, task setting and seed, in a study (:data:`MAIN`
    or an ablation study, ``"positive_rates"``, ``"steps<K>"``).

    It is made from what planned the run (a rule's wildcards, or the spec saved in its model)
    and goes one way, to paths and to the columns of its tables; nothing reads it back out of
    a path."""

    dataset: str
    algorithm: str
    ways: int
    shots: int
    seed: int
    study: str = MAIN

    @classmethod
    def from_wildcards(cls, wildcards, study: str | None = None) -> RunId:
        """The run a job's wildcards name (its ``study`` wildcard, else ``study``, else :data:`MAIN`)."""
        get = wildcards.get if hasattr(wildcards, "get") else lambda key, default=None: getattr(wildcards, key, default)
        return cls(dataset=get("dataset"), algorithm=get("algorithm"), ways=int(get("ways")), shots=int(get("shots")),
                   seed=int(get("seed")), study=get("study") or study or MAIN)

    @classmethod
    def from_spec(cls, spec, study: str = MAIN) -> RunId:
        """The run a :class:`RunSpec` (or its dict, as a model file saves it) trains."""
        get = spec.get if isinstance(spec, dict) else lambda key: getattr(spec, key)
        return cls(dataset=get("dataset"), algorithm=get("algorithm"), ways=int(get("ways")),
                   shots=int(get("shots")), seed=int(get("seed")), study=study)

    @property
    def setting(self) -> str:
        return setting_name(self.ways, self.shots)

    def format(self, pattern: str) -> str:
        """``pattern`` with the run wildcards (those of :data:`RUN_KEY`) filled in."""
        return pattern.format(dataset=self.dataset, algorithm=self.algorithm, ways=self.ways, shots=self.shots,
                              seed=self.seed)

    @property
    def key(self) -> str:
        """The run's part of its paths (:data:`RUN_KEY`), with the study in front when not main."""
        key = self.format(RUN_KEY)
        return key if self.study == MAIN else f"{self.study}/{key}"

    @property
    def directory(self) -> str:
        """Where the run's files go: results/runs/<key>, or results/ablations/<study>/runs/<key>."""
        key = self.format(RUN_KEY)
        return f"results/runs/{key}" if self.study == MAIN else f"results/ablations/{self.study}/runs/{key}"

    def benchmark(self, rule: str, target: str | None = None) -> str:
        """The benchmark file of the run's job of ``rule`` (on cross-domain dataset ``target``)."""
        return f"results/benchmarks/{rule}/{self.key}" + (f"/{target}.tsv" if target else ".tsv")

    def columns(self, target: str | None = None) -> dict[str, Any]:
        """The identity columns of the run's tables (:data:`RUN_COLUMNS`); for its evaluation on
        cross-domain dataset ``target``, ``setting`` names the direction too and ``target``
        follows. A run of an ablation study also has ``study`` last."""
        setting = self.setting if target is None else cross_domain_setting(self.dataset, target, self.setting)
        columns = {"dataset": self.dataset, "algorithm": self.algorithm, "setting": setting, "ways": self.ways,
                   "shots": self.shots, "seed": self.seed}
        if target is not None:
            columns["target"] = target
        if self.study != MAIN:
            columns["study"] = self.study
        return columns

    def tag(self, table, target: str | None = None):
        """``table`` (a DataFrame) with the run's identity :meth:`columns` in front."""
        columns = self.columns(target)
        clash = sorted(set(columns) & set(table.columns))
        if clash:
            raise ValueError(f"a table of run {self.key} already has identity columns {clash}")
        tagged = table.copy()
        for i, (name, value) in enumerate(columns.items()):
            tagged.insert(i, name, value)
        return tagged


def read_runs(paths, reader=None):
    """The per-run tables at ``paths`` in one table. Each carries its run's identity
    (:meth:`RunId.tag`); a table without it is an error that names the file. ``reader``:
    path -> DataFrame (default ``pandas.read_csv``)."""
    import pandas as pd

    reader = reader or pd.read_csv
    frames = []
    for path in paths:
        df = reader(path)
        missing = [c for c in RUN_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"{path} lacks the run identity columns {missing}: it was not written by the workflow's "
                             "jobs (innerloop.runs.RunId.tag), or by an older version of them; rerun its rule")
        frames.append(df)
    if not frames:
        raise ValueError("no per-run tables to collect")
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------
# The image studies' runs, from the config (the targets and specs of the rules)
# --------------------------------------------------------------------------------------

POSITIVE_RATES = "positive_rates"


def cross_domain_targets(config, train: str) -> list[str]:
    """Datasets the runs trained on ``train`` are also evaluated on (config ``cross_domain``)."""
    return [pair["test"] for pair in config["cross_domain"] if pair["train"] == train]


def run_ids(config, algorithms=None, study: str = MAIN, datasets=None, seeds=None) -> list[RunId]:
    """Every run of ``study``: dataset x algorithm x setting x seed (the main runs by default:
    the configured dataset, algorithms and seeds)."""
    return [RunId(dataset, algorithm, config["task"]["ways"], shots, seed, study)
            for dataset in (datasets or [config["dataset"]])
            for algorithm in (config["algorithms"] if algorithms is None else algorithms)
            for shots in config["task"]["shots"]
            for seed in (config["seeds"] if seeds is None else seeds)]


def run_spec(config, run: RunId) -> dict[str, Any]:
    """The :class:`RunSpec` (as a dict) of one main run: the config's task, network, training
    and evaluation settings, and the algorithm's options."""
    train, evaluation = config["train"], config["evaluation"]
    return dict(dataset=run.dataset, algorithm=run.algorithm, seed=run.seed, ways=run.ways, shots=run.shots,
                queries=config["task"]["queries"], filters=config["model"]["filters"],
                iterations=train["iterations"], meta_batch=train["meta_batch"], inner_steps=train["inner_steps"],
                outer_lr=train["outer_lr"], val_every=train["val_every"], val_tasks=train["val_tasks"],
                val_seed=evaluation["seed"], checkpoint_every=train["checkpoint_every"],
                options=config["algorithm_options"].get(run.algorithm, {}), plateau=train["plateau"])


def sweep_datasets(config) -> list[str]:
    """Datasets the inner-steps sweep trains on: ``ablations.inner_steps.datasets``, else the main one."""
    return list(config["ablations"]["inner_steps"].get("datasets") or [config["dataset"]])


def sweep_studies(config) -> dict[str, int]:
    """The inner-steps sweep's studies, ``"steps<K>"`` -> K inner steps (in training and in the probe)."""
    return {f"steps{steps}": steps for steps in config["ablations"]["inner_steps"]["steps"]}


def study_spec(config, run: RunId) -> dict[str, Any]:
    """The spec of an ablation study's run: its main run's, with the study's change (Meta-SGD's
    rates kept positive; the sweep's inner steps, budget and single validation)."""
    spec = run_spec(config, RunId(run.dataset, run.algorithm, run.ways, run.shots, run.seed))
    if run.study == POSITIVE_RATES:
        return {**spec, "options": {**spec["options"], "positive": True}}
    sweep = config["ablations"]["inner_steps"]
    return {**spec, "inner_steps": sweep_studies(config)[run.study], "iterations": sweep["iterations"],
            "val_every": sweep["iterations"], "checkpoint_every": sweep["iterations"]}


def positive_run_ids(config) -> list[RunId]:
    """The Meta-SGD runs trained with positive rates, when the rate-sign ablation asks for them."""
    if not (config["ablations"]["rate_signs"]["positive_trained"] and "metasgd" in config["algorithms"]):
        return []
    return run_ids(config, ["metasgd"], study=POSITIVE_RATES)


def sweep_run_ids(config, algorithms=None, datasets=None) -> list[RunId]:
    """Every inner-steps sweep run: study x dataset x algorithm x setting x seed (the sweep's
    algorithms, its datasets, else the configured one, and its seeds by default)."""
    sweep = config["ablations"]["inner_steps"]
    datasets = datasets or sweep_datasets(config)
    return [run for study in sweep_studies(config)
            for run in run_ids(config, sweep["algorithms"] if algorithms is None else algorithms, study=study,
                               datasets=datasets, seeds=sweep["seeds"])]


def grid_spec(config) -> dict[str, Any]:
    """The spec shared by the MAML / Alpha-MAML convergence-grid runs (the first configured setting)."""
    grid, train = config["ablations"]["convergence"], config["train"]
    return dict(dataset=config["dataset"], algorithm="alpha_maml", seed=grid["seed"], ways=config["task"]["ways"],
                shots=config["task"]["shots"][0], queries=config["task"]["queries"], filters=config["model"]["filters"],
                iterations=grid["iterations"], meta_batch=train["meta_batch"], inner_steps=grid["inner_steps"],
                outer_lr=grid["betas"][0], val_every=grid["iterations"], val_tasks=1,
                val_seed=config["evaluation"]["seed"], checkpoint_every=grid["iterations"], options={})


# --------------------------------------------------------------------------------------
# The sine-wave study's runs
# --------------------------------------------------------------------------------------

DATASET = "sine"
EXPERIMENTS = ("comparison", "turtle_study")
#: The split each experiment is scored on (the thesis's Fig. 3.2 shows meta-validation MSE).
EXPERIMENT_SPLIT = {"comparison": "test", "turtle_study": "val"}
#: What the TURTLE study fixes (the thesis): alpha not learned (its value is turtle_study.alpha),
#: the gradient as the only input of the update network.
TURTLE_STUDY_OPTIONS = {"learn_lr": False, "inputs": ["gradient"]}
ORDERS = ("first", "second")
#: (first order, second order) algorithm names of each family in the TURTLE study.
STUDY_ALGORITHMS = {"turtle": ("fo_turtle", "turtle"), "maml": ("fomaml", "maml")}


def sine_spec(algorithm: str, seed: int, *, shots: int, queries: int | None, hidden_units: int,
              iterations: int, meta_batch: int, inner_steps: int, outer_lr: float, val_every: int,
              val_tasks: int, val_seed: int, checkpoint_every: int, options: dict | None = None,
              plateau: dict | None = None) -> RunSpec:
    """The :class:`RunSpec` of one sine run (``queries`` None: K query points, as Finn et al.;
    ``plateau``: the plateau rule on the validation MSE, None its defaults)."""
    return RunSpec(dataset=DATASET, algorithm=algorithm, seed=seed, ways=1, shots=shots,
                   queries=shots if queries is None else queries, filters=hidden_units, iterations=iterations,
                   meta_batch=meta_batch, inner_steps=inner_steps, outer_lr=outer_lr, val_every=val_every,
                   val_tasks=val_tasks, val_seed=val_seed, checkpoint_every=checkpoint_every,
                   options=dict(options or {}), plateau=dict(plateau or {}))


@dataclass(frozen=True)
class Variant:
    """One configuration of an experiment (trained once per seed)."""

    algorithm: str
    inner_steps: int
    options: dict[str, Any] = field(default_factory=dict)
    #: "first" or "second": the order of the meta-gradient.
    order: str = "second"
    #: Hidden layers of TURTLE's update network; None for other algorithms.
    hidden_layers: int | None = None
    #: "compared" (the comparison), "turtle" (a grid point of the study) or "reference" (its MAML lines).
    role: str = "compared"


def _order(algorithm: str, options: dict) -> str:
    first = algorithm.startswith("fo") or bool(options.get("first_order", False))
    return "first" if first else "second"


def comparison_variants(sine: dict) -> dict[str, Variant]:
    """Variant name -> :class:`Variant` of the method comparison (thesis Fig. 3.3): every
    algorithm of ``sine["comparison"]["algorithms"]`` with its ``sine["algorithm_options"]``
    and ``sine["inner_steps"]`` steps (unless its options set their own ``inner_steps``, as
    the enhanced meta-learner LSTM's 8 updates per task)."""
    out = {}
    for algorithm in sine["comparison"]["algorithms"]:
        options = dict(sine["algorithm_options"].get(algorithm, {}))
        steps = options.get("inner_steps")
        out[algorithm] = Variant(algorithm=algorithm, inner_steps=sine["inner_steps"] if steps is None else steps,
                                 options=options,
                                 order=_order(algorithm, options),
                                 hidden_layers=options.get("hidden_layers") if "turtle" in algorithm else None)
    return out


def turtle_study_variants(sine: dict) -> dict[str, Variant]:
    """Variant name -> :class:`Variant` of the TURTLE study (thesis Fig. 3.2).

    The grid is ``orders x inner_steps x hidden_layers`` of ``sine["turtle_study"]``;
    TURTLE's options are ``sine["algorithm_options"]`` with the thesis's fixed choices
    (:data:`TURTLE_STUDY_OPTIONS`, ``lr_init`` = the study's ``alpha``) and the grid's
    hidden layers. The references are first-order (``fomaml``) and second-order
    (``maml``) MAML for every order and T.
    Names: ``turtle-t5-h3``, ``fo_turtle-t1-h1``, ``maml-t5``, ``fomaml-t1``.
    """
    study, options = sine["turtle_study"], sine["algorithm_options"]
    out = {}
    for order in study["orders"]:
        if order not in ORDERS:
            raise ValueError(f"sine.turtle_study.orders: unknown order {order!r}; expected one of {list(ORDERS)}")
        second = order == "second"
        turtle, maml = (STUDY_ALGORITHMS[family][second] for family in ("turtle", "maml"))
        for steps in study["inner_steps"]:
            for layers in study["hidden_layers"]:
                opts = {**options.get(turtle, {}), **TURTLE_STUDY_OPTIONS, "lr_init": study["alpha"],
                        "hidden_layers": layers}
                if second:
                    opts["first_order"] = False
                out[f"{turtle}-t{steps}-h{layers}"] = Variant(turtle, steps, opts, order, layers, "turtle")
            opts = dict(options.get(maml, {}))
            if second:
                opts["first_order"] = False
            out[f"{maml}-t{steps}"] = Variant(maml, steps, opts, order, None, "reference")
    return out


def experiment_variants(sine: dict, experiment: str) -> dict[str, Variant]:
    """The variants of ``experiment`` ("comparison" or "turtle_study") under config block ``sine``."""
    if experiment == "comparison":
        return comparison_variants(sine)
    if experiment == "turtle_study":
        return turtle_study_variants(sine)
    raise ValueError(f"unknown sine experiment {experiment!r}; expected one of {list(EXPERIMENTS)}")


def variant_spec(sine: dict, experiment: str, variant: str, seed: int) -> RunSpec:
    """The :class:`RunSpec` of one run of an experiment under config block ``sine``."""
    variants = experiment_variants(sine, experiment)
    if variant not in variants:
        raise ValueError(f"sine experiment {experiment!r} has no variant {variant!r}; known: {sorted(variants)}")
    v = variants[variant]
    return sine_spec(v.algorithm, seed, shots=sine["shots"], queries=sine["queries"],
                     hidden_units=sine["hidden_units"], iterations=sine["iterations"], meta_batch=sine["meta_batch"],
                     inner_steps=v.inner_steps, outer_lr=sine["outer_lr"], val_every=sine["val_every"],
                     val_tasks=sine["val_tasks"], val_seed=sine["eval_seed"],
                     checkpoint_every=sine["checkpoint_every"], options=v.options, plateau=sine.get("plateau"))


#: Directory of one run of an experiment (the workflow's layout: rule sine_run).
RUN_DIR = "results/sine/{experiment}/{variant}/seed{seed}"


def run_files(sine: dict, experiment: str, filename: str) -> list[str]:
    """``RUN_DIR/filename`` of every run of ``experiment``: variant x seed."""
    return [f"{RUN_DIR}/{filename}".format(experiment=experiment, variant=variant, seed=seed)
            for variant in experiment_variants(sine, experiment) for seed in sine["seeds"]]


def run_identity(sine: dict, experiment: str, variant: str, seed: int) -> dict[str, Any]:
    """The columns that say which run a per-task MSE table belongs to (``hidden_layers``
    None for algorithms without an update network)."""
    v = experiment_variants(sine, experiment)[variant]
    return {"experiment": experiment, "variant": variant, "algorithm": v.algorithm, "role": v.role,
            "order": v.order, "inner_steps": v.inner_steps, "hidden_layers": v.hidden_layers, "seed": seed,
            "split": EXPERIMENT_SPLIT[experiment]}


def evaluation_settings(sine: dict, experiment: str) -> dict[str, Any]:
    """Where the runs of ``experiment`` are scored: keywords of :func:`evaluate_sine`
    (split, K, query points, seed and number of the fixed tasks)."""
    return {"split": EXPERIMENT_SPLIT[experiment], "shots": sine["shots"], "queries": sine["eval_queries"],
            "seed": sine["eval_seed"], "n_tasks": sine["eval_tasks"]}
