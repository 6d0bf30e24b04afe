"""Malformed configurations: each fails in validate_config, before any job starts, naming its key."""

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from innerloop.config import ConfigError, load_config, validate_config

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def changed(**changes):
    """The default config with top-level keys replaced and ``a__b`` keys set inside ``a``."""
    config = copy.deepcopy(DEFAULT)
    for key, value in changes.items():
        *parents, leaf = key.split("__")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return config


DELETE = object()
MINI = {"root": "/data/mini"}

#: (case, malformed config, the key its error must name)
CASES = [
    # wrong types
    ("algorithms not a list", changed(algorithms="maml"), "algorithms"),
    ("seeds a string", changed(seeds="0"), "seeds"),
    ("task a string", changed(task="5way"), "task"),
    ("iterations a string", changed(train__iterations="many"), "train.iterations"),
    ("meta_batch a float", changed(train__meta_batch=2.5), "train.meta_batch"),
    ("outer_lr a string", changed(train__outer_lr="fast"), "train.outer_lr"),
    ("device a number", changed(train__device=3), "train.device"),
    ("inner_lr a string", changed(algorithm_options__maml__inner_lr="big"), "algorithm_options.maml.inner_lr"),
    ("shots a number", changed(task__shots=1), "task.shots"),
    # unknown names
    ("unknown algorithm", changed(algorithms=["maml", "mamll"]), "algorithms.1"),
    ("unknown dataset", changed(dataset="imagenet"), "dataset"),
    ("unknown dataset block", changed(datasets__imagenet={"root": "/x"}), "datasets.imagenet"),
    ("unknown algorithm options", changed(algorithm_options__mamll={"inner_lr": 0.1}), "algorithm_options.mamll"),
    ("unknown top-level key", changed(learning_rate=0.1), "learning_rate"),
    ("unknown nested key", changed(model__filtres=32), "model.filtres"),
    ("unknown sine algorithm", changed(sine__comparison__algorithms=["maml", "protonet"]),
     "sine.comparison.algorithms.1"),
    # negative or zero counts
    ("zero ways", changed(task__ways=0), "task.ways"),
    ("negative shots", changed(task__shots=[-1]), "task.shots.0"),
    ("negative queries", changed(task__queries=-3), "task.queries"),
    ("no seeds", changed(seeds=[]), "seeds"),
    ("negative seed", changed(seeds=[-1]), "seeds.0"),
    ("repeated seed", changed(seeds=[0, 0]), "seeds"),
    ("zero iterations", changed(train__iterations=0), "train.iterations"),
    ("negative meta-test tasks", changed(evaluation__meta_test_tasks=-1), "evaluation.meta_test_tasks"),
    ("one probe iteration", changed(evaluation__probe_iterations=1), "evaluation.probe_iterations"),
    ("zero filters", changed(model__filters=0), "model.filters"),
    ("tiny glyph images", changed(datasets__glyphs__image_size=4), "datasets.glyphs.image_size"),
    ("zero sine seeds", changed(sine__seeds=[]), "sine.seeds"),
    # impossible splits: more ways than classes, more shots + queries than images
    ("ways above miniimagenet's 16 val classes",
     changed(dataset="miniimagenet", datasets__miniimagenet=MINI, cross_domain=[], task__ways=17), "task.ways"),
    ("ways above the digits' 10 cross-domain classes", changed(task__ways=11), "task.ways"),
    ("ways above mnist's class split",
     changed(dataset="mnist", cross_domain=[],
             datasets__mnist={"root": "/x", "class_split": {"train": [0, 1, 2, 3, 4], "val": [0, 1], "test": [5, 6]}}),
     "task.ways"),
    ("shots + queries above glyphs' images per class",
     changed(task__shots=[1, 5], task__queries=16), "task.queries"),
    # datasets read from disk
    ("disk dataset without a root", changed(dataset="omniglot", cross_domain=[], datasets__omniglot={"image_size": 28}),
     "datasets.omniglot.root"),
    ("disk dataset not configured", changed(dataset="omniglot", cross_domain=[]), "dataset"),
    ("empty root", changed(dataset="cub", cross_domain=[], datasets__cub={"root": ""}), "datasets.cub.root"),
    # cross-domain pairs
    ("cross-domain test not configured", changed(cross_domain=[{"train": "glyphs", "test": "omniglot"}]),
     "cross_domain.0.test"),
    ("cross-domain pair without test", changed(cross_domain=[{"train": "glyphs"}]), "cross_domain.0.test"),
    ("cross-domain pair onto itself", changed(cross_domain=[{"train": "glyphs", "test": "glyphs"}]), "cross_domain.0"),
    ("cross-domain pair with an extra key", changed(cross_domain=[{"train": "glyphs", "test": "digits", "n": 1}]),
     "cross_domain.0.n"),
]


def test_the_base_of_the_cases_is_valid():
    validate_config(copy.deepcopy(DEFAULT))


@pytest.mark.parametrize("config, key", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_config_fails_naming_the_key(config, key):
    with pytest.raises(ConfigError) as caught:
        validate_config(copy.deepcopy(config))
    assert f"'{key}'" in str(caught.value), str(caught.value)


def test_enum_errors_list_the_allowed_values():
    with pytest.raises(ConfigError, match=r"allowed values: .*glyphs.*omniglot"):
        validate_config(changed(dataset="imagenet"))


def test_the_task_checks_report_the_numbers():
    with pytest.raises(ConfigError, match=r"'test' split of dataset 'digits', which has 10"):
        validate_config(changed(task__ways=11))
    with pytest.raises(ConfigError, match=r"5 \+ 16 = 21 .*images_per_class' is 20"):
        validate_config(changed(task__shots=[1, 5], task__queries=16))


@pytest.mark.parametrize("bad, key", [
    ({"task": {"ways": 11}}, "task.ways"),
    ({"dataset": "omniglot", "cross_domain": [], "datasets": {"omniglot": {"image_size": 28}}},
     "datasets.omniglot.root"),
])
def test_snakemake_dry_run_stops_before_any_job(tmp_path, bad, key):
    for name in ("Snakefile", "rules", "workflow_scripts", "config", "report", "environment.yml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    load_config(tmp_path / "config" / "config.yaml")  # the copy itself is valid
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", "bad.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"'{key}'" in result.stdout + result.stderr, result.stderr[-3000:]
    assert not (tmp_path / "results").exists()
