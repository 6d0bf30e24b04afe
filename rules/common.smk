# Configuration check, wildcard constraints, and the functions that turn the config into
# lists of target files. Every other rule file reads its paths from here.

import datetime
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from snakemake.logging import logger

from innerloop import devices, runs as plan, tuning
from innerloop.catalog import LEARNS_RATES
from innerloop.config import cross_domain_targets as config_targets
from innerloop.config import validate_config
from innerloop.reporting.sections.representations import visual_algorithms, visual_models
from innerloop.runs import RUN_KEY, RunId

validate_config(config, files=workflow.configfiles)

# Jobs import innerloop from this workflow's own tree, first on their path, with or without
# --sdm conda (whose environment does not install the package): the code that
# rules/code_version.smk hashes is the code the jobs run.
os.environ.update(PYTHONPATH=os.pathsep.join(
    [workflow.basedir, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]))


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    algorithm=r"[a-z0-9_]+",
    ways=r"\d+",
    shots=r"\d+",
    seed=r"\d+",
    target=r"[a-z0-9_]+",
    study=r"positive_rates|steps\d+",  # an ablation study's runs (innerloop.runs.study_spec)
    method=r"maml|alpha_maml",  # the convergence grid's
    candidate=r"[a-z0-9_]+=[^/]+",  # a tuning candidate's options (innerloop.tuning.candidate_id)


#: One training run, as a path: results/runs/<RUN_ID>/..., logs/<rule>/<RUN_ID>.log, ...
#: (innerloop.runs.RunId: the jobs know their run from these wildcards, its tables say it)
RUN_ID = RUN_KEY
RUN = f"results/runs/{RUN_ID}"
CHECKPOINT = f"results/checkpoints/{RUN_ID}/checkpoint.pt"
#: A training run of an ablation study: "positive_rates" (Meta-SGD with positive rates) or
#: "steps<K>" (the inner-steps sweep), in the run directory layout of RUN.
ABLATION_RUN = f"results/ablations/{{study}}/runs/{RUN_ID}"
ABLATION_RUN_ID = f"{{study}}/{RUN_ID}"
#: A run's evaluation on cross-domain dataset {target}: its meta-test split, with {target}'s
#: images converted to the network's input shape.
CROSS = f"{RUN}/cross_domain/{{target}}"
#: One sine-wave run (innerloop.runs: the experiments' variants, their specs and identities).
SINE_RUN = plan.RUN_DIR
SINE_RUN_ID = SINE_RUN.removeprefix("results/sine/")
SINE_CHECKPOINT = f"results/checkpoints/sine/{SINE_RUN_ID}/checkpoint.pt"
REPRESENTATIONS = config["representations"]
#: The tuning stage's directories (innerloop.tuning).
TUNE_SETTING, TUNE_RUN, TUNED_CHOICE = tuning.TUNE_SETTING, tuning.TUNE_RUN, tuning.TUNED_CHOICE
TUNE_BENCHMARK = tuning.TUNE_BENCHMARK
ABLATIONS = config["ablations"]
SWEEP = ABLATIONS["inner_steps"]
GRID = ABLATIONS["convergence"]
#: The inner-steps sweep's studies: "steps<K>" -> K inner steps; the datasets it trains on.
SWEEP_STUDIES = plan.sweep_studies(config)
SWEEP_DATASETS = plan.sweep_datasets(config)
#: The algorithms the tuning stage tunes.
TUNED = tuning.tuned_algorithms(config)
TRAIN_BENCHMARK = f"results/benchmarks/train/{RUN_ID}.tsv"
STORE_FILES = ["images.npy", "labels.npy", "classes.csv", "manifest.json", "content.sha256"]
ENV = "../environment.yml"


def store_files(dataset):
    """Every file of a prepared store (the outputs of rule prepare_dataset)."""
    return {f.split(".")[0]: f"results/data/{dataset}/{f}" for f in STORE_FILES}


def store(dataset):
    """The input by which a job reads the store of ``dataset`` (the directory of `store`).

    Only the store's content digest (innerloop.data.store.content_digest): Snakemake
    compares a small input's checksum before rerunning on a newer mtime, so a store that
    is prepared again with the same content reruns nothing downstream.
    """
    return {"store": store_files(dataset)["content"]}


def _runs_on_gpu():
    device = config["train"]["device"]
    if device == "auto":
        if not devices.may_have_cuda():  # no GPU driver: no need to import torch to know
            return False
        import torch

        return torch.cuda.is_available()
    return device.startswith("cuda")


#: What a job that runs a network asks for. On a GPU it requests one unit of the `gpu`
#: resource (locally `--resources gpu=N` lets N of them share the card; the SLURM executor
#: turns it into `--gpus` of each job) and two CPU threads; on the CPU no GPU and one thread,
#: so `--cores N` runs N of them side by side, which on small networks is faster than giving
#: one job N threads. Both depend on whether the jobs compute on CUDA, known only when the
#: workflow starts, so the rules state them; runtime, memory, and any other per-rule request
#: of a scheduler are the profiles' (`set-resources` in profiles/slurm; `set-threads` overrides).
ON_GPU = _runs_on_gpu()
NETWORK_RESOURCES = {"gpu": 1 if ON_GPU else 0}
NETWORK_THREADS = 2 if ON_GPU else 1


def _missing_system_packages():
    """Rule -> the system package it needs that this machine lacks (tools/system_packages.sh).

    Under --sdm conda the environment brings both (graphviz, and pango with weasyprint)."""
    import ctypes.util
    import shutil

    from snakemake.settings.types import DeploymentMethod

    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        return {}
    missing = {}
    if not shutil.which("dot"):
        missing["rulegraph"] = "graphviz (apt-get install graphviz)"
    if not all(ctypes.util.find_library(lib) for lib in ("pango-1.0", "pangoft2-1.0", "harfbuzz-subset")):
        missing["report_pdf"] = ("Pango, which WeasyPrint needs (apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                                 "libharfbuzz-subset0)")
    return missing


#: Optional outputs whose system package is missing here: skipped, and said so, while every
#: other job runs (the report then says the rule graph was not rendered; there is no PDF).
SKIPPED = _missing_system_packages()
for _rule, _package in SKIPPED.items():
    logger.warning(f"skipped: rule {_rule} and its outputs, because this machine lacks {_package}")


def unless_skipped(rule, **paths):
    """``paths`` when ``rule`` runs here, else nothing (see SKIPPED)."""
    return {} if rule in SKIPPED else paths


#: Where each real (not dry) invocation records its command line, for the report's provenance.
COMMAND_RECORD = "results/logs/command.txt"


onstart:
    Path(COMMAND_RECORD).parent.mkdir(parents=True, exist_ok=True)
    with open(COMMAND_RECORD, "a") as f:
        print(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              shlex.join(["snakemake", *sys.argv[1:]]), sep="\t", file=f)


def expand_runs(pattern, algorithms=None):
    """``pattern`` (with the run wildcards) for every main run: algorithm x setting x seed
    (innerloop.runs.run_ids)."""
    return [run.format(pattern) for run in plan.run_ids(config, algorithms)]


def runs(filename, algorithms=None):
    """Paths of ``filename`` in the directory of every run."""
    return expand_runs(f"{RUN}/{filename}", algorithms)


def cross_domain_targets(dataset=None):
    """Datasets the runs trained on ``dataset`` (default: the configured one) are also evaluated on."""
    return config_targets(config, dataset or config["dataset"])


def cross_domain_runs(filename):
    """``filename`` of every run's cross-domain evaluation on every target dataset."""
    return [path for target in cross_domain_targets()
            for path in expand_runs(f"{RUN}/cross_domain/{target}/{filename}")]


def rate_learning_algorithms():
    return [a for a in config["algorithms"] if a in LEARNS_RATES]


def run_spec(wildcards):
    """The spec of the main run a set of wildcards names (innerloop.runs.run_spec)."""
    return plan.run_spec(config, RunId.from_wildcards(wildcards))


def study_spec(wildcards):
    """The spec of the ablation study's run a set of wildcards names (innerloop.runs.study_spec)."""
    return plan.study_spec(config, RunId.from_wildcards(wildcards))


def tune_spec(wildcards):
    """The spec of the tuning candidate a set of wildcards names (innerloop.tuning.tune_spec)."""
    return tuning.tune_spec(config, wildcards.dataset, wildcards.algorithm, int(wildcards.ways), int(wildcards.shots),
                            wildcards.candidate)


def tuned_choice(wildcards):
    """The train rules' `chosen` input: the tuning choice of the run's algorithm and setting,
    when the algorithm is tuned (an empty dict otherwise)."""
    if wildcards.algorithm not in TUNED:
        return {}
    return {"chosen": TUNED_CHOICE.format(**{k: wildcards[k] for k in ("dataset", "algorithm", "ways", "shots")})}


def tuning_results(wildcards):
    """Every candidate's result of one algorithm and setting, in grid order."""
    setting = TUNE_SETTING.format(**{k: wildcards[k] for k in ("dataset", "algorithm", "ways", "shots")})
    candidates = tuning.candidate_ids(config["tuning"]["grid"][wildcards.algorithm])
    return [f"{setting}/{cid}/result.json" for cid in candidates]


def tuning_choices():
    """The choice of every tuned algorithm and setting of the main runs."""
    return [TUNED_CHOICE.format(**setting) for setting in tuning.tuned_settings(config)]


def positive_runs(filename):
    """``filename`` of every Meta-SGD run trained with positive rates (innerloop.runs.positive_run_ids)."""
    return [f"{run.directory}/{filename}" for run in plan.positive_run_ids(config)]


def sweep_runs(filename, algorithms=None, datasets=None):
    """``filename`` in every inner-steps sweep run (innerloop.runs.sweep_run_ids)."""
    return [f"{run.directory}/{filename}" for run in plan.sweep_run_ids(config, algorithms, datasets)]


def sweep_cross_runs(filename):
    """``filename`` of every sweep run's evaluation on the cross-domain test datasets of its training dataset."""
    if not SWEEP["cross_domain"]:
        return []
    return [path for dataset in SWEEP_DATASETS for target in cross_domain_targets(dataset)
            for path in sweep_runs(f"cross_domain/{target}/{filename}", datasets=[dataset])]


def eval_inner_steps():
    """Adaptation steps at meta-test and in the probe; None: each learner's own
    (the training inner steps for meta-learners, the fine-tuning steps of the baselines)."""
    return config["evaluation"]["inner_steps"]


def evaluation_settings():
    """The sizes and the fixed task set of every analysis of a run (innerloop.evaluation.run.Settings)."""
    evaluation = config["evaluation"]
    return dict(seed=evaluation["seed"], inner_steps=eval_inner_steps(), meta_test_tasks=evaluation["meta_test_tasks"],
                probe_iterations=evaluation["probe_iterations"], centroid_shots=evaluation["probe_centroid_shots"],
                cka_tasks=config["representations"]["cka_tasks"], test_time_tasks=config["ablations"]["test_time_tasks"])


def train_benchmarks():
    """Benchmark files of every training run (wall time per run, for the report)."""
    return [run.benchmark("train") for run in plan.run_ids(config)]


def train_benchmark_runs():
    """The identity columns of the run of each of train_benchmarks(), in its order."""
    return [run.columns() for run in plan.run_ids(config)]


def all_benchmarks():
    """Benchmark files of every benchmarked job in the DAG (the report's time per rule).
    Called at DAG time (rule rule_times), when the ablation rules' target functions exist."""
    bench = "results/benchmarks"
    files = [f for stage in ("train", "evaluate_run") for f in expand_runs(f"{bench}/{stage}/{RUN_ID}.tsv")]
    files += [f for target in cross_domain_targets()
              for f in expand_runs(f"{bench}/cross_domain_evaluation/{RUN_ID}/{target}.tsv")]
    if "metasgd" in config["algorithms"]:
        files += expand_runs(f"{bench}/rate_sign_probe/{RUN_ID}.tsv", ["metasgd"])
    # Ablation runs: results/ablations/<study>/runs/<run>/... -> benchmarks/<rule>/<study>/<run>.tsv
    for run in plan.sweep_run_ids(config) + plan.positive_run_ids(config):
        files += [run.benchmark(rule) for rule in ("ablation_train", "ablation_probe")]
    if SWEEP["cross_domain"]:
        files += [run.benchmark("ablation_cross_probe", target) for run in plan.sweep_run_ids(config)
                  for target in cross_domain_targets(run.dataset)]
    files += [f"{bench}/convergence_grid/{method}.tsv" for method in ("maml", "alpha_maml")]
    files += tuning.tuning_benchmarks(config)
    datasets = {config["dataset"], *cross_domain_targets(), *SWEEP_DATASETS}
    if SWEEP["cross_domain"]:
        datasets |= {target for dataset in SWEEP_DATASETS for target in cross_domain_targets(dataset)}
    files += [f"{bench}/prepare_dataset/{dataset}.tsv" for dataset in sorted(datasets)]
    files += [str(Path(bench) / Path(f).parent.relative_to("results")) + ".tsv"
              for experiment in plan.EXPERIMENTS for f in plan.run_files(config["sine"], experiment, "mse.csv")]
    return files


def figure_report(name, category):
    """The SVG of figure ``name``, registered for `snakemake --report` with its caption."""
    return report(f"results/figures/{name}.svg", caption=f"../report/captions/{name}.rst", category=category)


def figure_rule(figure, section):
    """The rule figure_<key> of a figure a report section declares (rules/figures.smk)."""
    # A function's scope, so that each rule's script path is its own figure's (a rule's body
    # reads the names around it when the job runs, not when the rule is made).
    rule:
        name:
            figure.rule_name
        input:
            **figure.input_files(config),
        output:
            png=figure.png,
            svg=figure_report(figure.key, section.title),
        log:
            f"results/logs/figures/{figure.key}.log",
        conda:
            ENV
        script:
            f"../workflow_scripts/figure_{figure.key}.py"
