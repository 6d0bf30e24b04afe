# Paths, wildcard constraints and target functions of the tuning stage (rules/tune.smk).

from types import SimpleNamespace

from innerloop import tuning as _tuning

#: One algorithm and setting's tuning directory, and one candidate's run inside it.
TUNE_SETTING = "results/tuning/{dataset}/{algorithm}/{ways}w{shots}s"
TUNE_RUN = f"{TUNE_SETTING}/{{candidate}}"
TUNED_CHOICE = f"{TUNE_SETTING}/chosen.json"
TUNING_GRID = config["tuning"]["grid"]
TUNED = _tuning.tuned_algorithms(config)


wildcard_constraints:
    candidate=r"[a-z0-9_]+=[^/]+",


def tuned_choice(wildcards):
    """The train rule's `chosen` input: the tuning choice of the run's algorithm and
    setting, when the algorithm is tuned (an empty dict otherwise)."""
    if wildcards.algorithm not in TUNED:
        return {}
    return {"chosen": TUNED_CHOICE.format(**{k: getattr(wildcards, k) for k in ("dataset", "algorithm", "ways", "shots")})}


def tune_spec(wildcards):
    """The RunSpec dict of one tuning candidate: the run spec of the main runs with the
    tuning seed, the tuning budget and the candidate's options on top."""
    seed = config["tuning"]["seed"]
    spec = run_spec(SimpleNamespace(**{k: getattr(wildcards, k) for k in ("dataset", "algorithm", "ways", "shots")},
                                    seed=seed))
    return {**spec, "iterations": config["tuning"]["iterations"],
            "options": {**spec["options"], **tune_candidate(wildcards)}}


def tune_candidate(wildcards):
    """The options a tuning candidate sets (its path component, read back against the grid)."""
    return _tuning.candidate_options(TUNING_GRID[wildcards.algorithm], wildcards.candidate)


def tuning_results(wildcards):
    """Every candidate's result of one algorithm and setting, in grid order."""
    return [f"{TUNE_SETTING}/{cid}/result.json".format(**{k: getattr(wildcards, k) for k in
                                                          ("dataset", "algorithm", "ways", "shots")})
            for cid in _tuning.candidate_ids(TUNING_GRID[wildcards.algorithm])]


def tuning_choices():
    """The choice of every tuned algorithm and setting of the main runs."""
    return expand(TUNED_CHOICE, dataset=config["dataset"], algorithm=TUNED, ways=config["task"]["ways"],
                  shots=config["task"]["shots"])


def tuning_benchmarks():
    """Benchmark files of every tuning run (the report's time per rule)."""
    return [f"results/benchmarks/tune_run/{config['dataset']}/{algorithm}/{ways}w{shots}s/{cid}.tsv"
            for algorithm in TUNED for ways in [config["task"]["ways"]] for shots in config["task"]["shots"]
            for cid in _tuning.candidate_ids(TUNING_GRID[algorithm])]
