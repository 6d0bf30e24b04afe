"""What the report says about how it was made: the setup as configured, and provenance
(commit, package versions, hardware, command, timestamps)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any


from innerloop.catalog import DISPLAY_NAMES
from innerloop.models import Conv4, embedding_size

from .render import ProvenanceInfo, SetupInfo

PACKAGES = ("torch", "torchvision", "numpy", "snakemake", "pandas", "scipy", "statsmodels", "matplotlib",
            "jinja2", "scikit-learn", "weasyprint", "tqdm", "jsonschema", "pyyaml")

DATASET_DESCRIPTIONS = {
    "glyphs": ("glyphs (embedded: letters rendered from matplotlib's fonts)",
               "alphabet-disjoint (every letter of a Unicode script in one split)"),
    "digits": ("digits (scikit-learn's handwritten digits)", "all ten classes in the meta-test split"),
    "omniglot": ("Omniglot (Lake et al. 2015)", None),
    "miniimagenet": ("miniImageNet (Vinyals et al. 2016)", "Ravi and Larochelle's 64/16/20 class split"),
    "cub": ("CUB-200-2011 (Wah et al. 2011)",
            "by sorted class index as in Chen et al. 2019 (train i % 2 = 0, val i % 4 = 1, test i % 4 = 3)"),
    "cifarfs": ("CIFAR-FS (Bertinetto et al. 2019)", "the standard 64/16/20 split of CIFAR-100's classes"),
    "mnist": ("MNIST", "a fixed class split (config/schema.yaml: datasets.mnist)"),
    "cifar10": ("CIFAR-10", "a fixed class split (config/schema.yaml: datasets.cifar10)"),
}
OMNIGLOT_SPLITS = {
    "background": "alphabet-disjoint: Lake's background/evaluation sets, the last background alphabets held out "
                  "for validation",
    "vinyals": "Vinyals et al.'s 1,028/172/423 characters, in sorted (set, alphabet, character) order",
}


def dataset_description(name: str, params: dict[str, Any]) -> tuple[str, str]:
    """The report's name and split rule of dataset ``name`` prepared with ``params``."""
    label, rule = DATASET_DESCRIPTIONS.get(name, (name, "as prepared"))
    if name == "omniglot":
        rule = OMNIGLOT_SPLITS.get(params.get("split", "background"), "as prepared")
        rotations = [r for r in params.get("rotations", [0]) if r]
        if rotations:
            rule += f", with rotations by {', '.join(map(str, rotations))} degrees as new classes"
    return label, rule


def setup_info(config: dict[str, Any], manifest: dict[str, Any]) -> SetupInfo:
    """The report's setup section from the config as run and the dataset's manifest."""
    train, evaluation, task = config["train"], config["evaluation"], config["task"]
    n, channels, size, _ = manifest["shape"]
    filters, ways = config["model"]["filters"], task["ways"]
    model = Conv4(in_channels=channels, ways=ways, filters=filters, image_size=size)
    name, split_rule = dataset_description(manifest["dataset"], config["datasets"].get(manifest["dataset"], {}))
    eval_steps = (f"{train['inner_steps']} (or the algorithm's own: the baselines' fine-tuning steps)"
                  if evaluation["inner_steps"] is None else evaluation["inner_steps"])
    return SetupInfo(
        dataset={"name": name, "image_size": f"{size}×{size} px, {'greyscale' if channels == 1 else 'RGB'}",
                 "split_rule": split_rule,
                 "splits": [{"split": s, **c} for s, c in manifest["split_counts"].items()]},
        task={"ways": ways, "shots": ", ".join(map(str, task["shots"])), "queries": task["queries"],
              "meta_batch_size": train["meta_batch"]},
        model={"description": f"4 × [3×3 conv, {filters} filters → BatchNorm (batch statistics) → ReLU → "
                              f"2×2 max-pool] → linear to {ways} ways",
               "n_parameters": sum(p.numel() for p in model.parameters()),
               "embedding_dim": embedding_size(size, filters)},
        probe={"iterations": evaluation["probe_iterations"], "inner_steps": eval_steps,
               "queries": task["queries"], "split": "meta-test"},
        algorithms=[DISPLAY_NAMES.get(a, a) for a in config["algorithms"]],
        seeds=list(config["seeds"]),
        iterations=train["iterations"],
        inner_steps=train["inner_steps"],
        inner_steps_eval=eval_steps,
        validation_every=train["val_every"],
        n_val_tasks=train["val_tasks"],
        n_test_tasks=evaluation["meta_test_tasks"],
        hyperparameters={
            "outer optimiser": f"Adam, learning rate {train['outer_lr']}",
            "meta-batch": train["meta_batch"],
            # null options fall back as config/schema.yaml describes (e.g. alpha_maml outer_lr: train.outer_lr)
            **{f"{DISPLAY_NAMES.get(a, a)} {k.replace('_', ' ')}": "null (schema fallback)" if v is None else v
               for a in config["algorithms"] for k, v in config["algorithm_options"].get(a, {}).items()},
            "evaluation task seed": evaluation["seed"],
            "probe centroid shots": evaluation["probe_centroid_shots"],
        },
    )


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance_info(*, config_yaml: str, devices: list[str], command: str, started: str) -> ProvenanceInfo:
    """Commit, versions, hardware and timing of the run that made the report."""
    import torch  # here, not above: the report's other parts need no torch

    gpu = (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "")
    packages = {}
    for pkg in PACKAGES:
        try:
            packages[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            packages[pkg] = "not installed"
    return ProvenanceInfo(
        config_yaml=config_yaml,
        git_commit=_git("rev-parse", "HEAD") or "unknown (not a git checkout)",
        git_dirty=bool(_git("status", "--porcelain", "--untracked-files=no")),
        packages=packages,
        device="training ran on " + ", ".join(sorted(set(devices))) + gpu,
        hostname=socket.gethostname(),
        cpu=f"{_cpu_name()} ({os.cpu_count()} logical cores)",
        python=platform.python_version(),
        platform=platform.platform(),
        command=command,
        started=started,
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def earliest_mtime(paths) -> str:
    """ISO time of the oldest file among ``paths`` (when the run's first outputs appeared)."""
    t = min(Path(p).stat().st_mtime for p in paths)
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")


def last_command(record: Path) -> str:
    """The newest command line in the workflow's command record (one "time<TAB>command" per line)."""
    try:
        lines = record.read_text().strip().splitlines()
    except OSError:
        return "unknown (no command record)"
    return lines[-1].split("\t", 1)[-1] if lines else "unknown (empty command record)"


def code_versions(paths, script_dir: Path, *, optional=()) -> dict[str, Any]:
    """What code made the results ``paths``, from their code records (innerloop.code_version).

    ``versions``: one row per (commit, dirty) with the number of results and the rules that
    made them. ``stale``: results whose record's library source hash differs from what the
    current code gives for their script, i.e. made by other code than the code now in the
    tree (e.g. after ``--rerun-triggers mtime`` or copied in). ``unrecorded``: results
    among ``paths`` without a record (``optional`` paths are read when they have one). ``mixed``: more than one commit; ``dirty``: any result made from a
    tree with uncommitted changes.
    """
    from innerloop.code_version import read_records, source_hash

    paths = [str(p) for p in paths]
    records = read_records([*paths, *map(str, optional)])
    current: dict[str, str] = {}
    groups: dict[tuple[str, bool], dict[str, Any]] = {}
    stale = []
    for path, record in sorted(records.items()):
        group = groups.setdefault((record["commit"], record["dirty"]),
                                  {"commit": record["commit"], "dirty": record["dirty"], "n": 0, "rules": set()})
        group["n"] += 1
        group["rules"].add(record["rule"])
        script = script_dir / record["script"]
        if script.is_file():
            if record["script"] not in current:
                current[record["script"]] = source_hash(script, script_dir.parent)
            if record["source_hash"] != current[record["script"]]:
                stale.append({"path": path, "rule": record["rule"]})
    versions = [{**g, "rules": ", ".join(sorted(g["rules"]))} for g in groups.values()]
    versions.sort(key=lambda g: -g["n"])
    return {"versions": versions, "stale": stale, "unrecorded": sorted(set(paths) - set(records)),
            "mixed": len({g["commit"] for g in versions}) > 1, "dirty": any(g["dirty"] for g in versions)}


#: Report inputs that no library code makes: Snakemake's benchmark files and the rule graph
#: (Snakemake and graphviz, a shell rule).
NOT_LIBRARY_OUTPUTS = ("results/benchmarks/", "results/figures/rulegraph.")


def result_files(inputs, models) -> tuple[list[str], list[str]]:
    """(the report's inputs that the workflow's scripts made; every file in the run
    directory of each of ``models``)."""
    made = sorted({str(p) for p in inputs if not str(p).startswith(NOT_LIBRARY_OUTPUTS)})
    in_runs = sorted({str(p) for model in models for p in Path(model).parent.rglob("*") if p.is_file()})
    return made, in_runs
