"""Malformed configurations: each fails in validate_config, before any job starts, naming its key."""

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from innerloop.config import ConfigError, load_config, load_schema, read_config_file, validate_config

ROOT = Path(__file__).resolve().parents[2]
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


def copy_workflow(dest):
    for name in ("Snakefile", "rules", "workflow_scripts", "config", "report", "environment.yml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    load_config(dest / "config" / "config.yaml")  # the copy itself is valid
    return dest


def dry_run(workdir, *configfiles):
    args = ["--configfile", *configfiles] if configfiles else []
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
                          cwd=workdir, capture_output=True, text=True, timeout=300)


CONFIG_TEXT = (ROOT / "config" / "config.yaml").read_text()

#: (case, files written into the workflow's copy, --configfile arguments, key, more the message says)
DRY_RUNS = [
    ("more ways than the digits' classes", {"bad.yaml": "task: {ways: 11}\n"}, ["bad.yaml"], "task.ways", []),
    ("an on-disk dataset without a root",
     {"bad.yaml": yaml.safe_dump({"dataset": "omniglot", "cross_domain": [], "datasets": {"omniglot": {"image_size": 28}}})},
     ["bad.yaml"], "datasets.omniglot.root", []),
    ("a key twice in the second config file given",
     {"a.yaml": "model: {filters: 8}\n", "b.yaml": "train:\n  iterations: 5\ntrain:\n  meta_batch: 2\n"},
     ["a.yaml", "b.yaml"], "train", ["b.yaml", "lines 1 and 3"]),
    ("a key twice in the workflow's own config file", {"config/config.yaml": CONFIG_TEXT + "seeds: [0]\n"}, [],
     "seeds", ["config/config.yaml", "given twice"]),
    ("the paper preset without its data", {}, ["config/presets/paper.yaml"], "datasets.miniimagenet.root",
     ["does not exist", "https://github.com/twitter/meta-learning-lstm"]),
]


@pytest.mark.parametrize("files, configfiles, key, fragments", [c[1:] for c in DRY_RUNS], ids=[c[0] for c in DRY_RUNS])
def test_snakemake_dry_run_stops_before_any_job(tmp_path, files, configfiles, key, fragments):
    workdir = copy_workflow(tmp_path)
    for name, text in files.items():
        (workdir / name).write_text(text)
    result = dry_run(workdir, *configfiles)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"'{key}'" in output, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in output, result.stderr[-3000:]
    assert not (workdir / "results").exists()


def test_the_paper_preset_plans_on_miniimagenet_with_cub_once_its_roots_are_given(tmp_path):
    """The README's command: the preset, then a file naming the two roots."""
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    roots = {name: tmp_path / name for name in ("miniimagenet", "cub")}
    for name, root in roots.items():
        make_layout(name, root)
    (workdir / "my_paths.yaml").write_text(yaml.safe_dump({"datasets": {n: {"root": str(r)} for n, r in roots.items()}}))
    # the whole DAG is the README's command; the cross-domain table (every training run, its
    # meta-test on CUB and both stores) plans without the sine runs
    result = dry_run(workdir, "config/presets/paper.yaml", "my_paths.yaml", "--", "results/tables/cross_domain_table.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, flags=re.M))
    config = load_config(ROOT / "config/config.yaml", ROOT / "config/presets/paper.yaml", sources=False)
    runs = len(config["algorithms"]) * len(config["seeds"])  # every algorithm and seed, 1 target
    assert counts["train"] == counts["cross_domain_evaluation"] == str(runs)
    runs = set(re.findall(r"results/runs/(\w+)/", result.stdout))
    assert runs == {"miniimagenet"}
    assert "results/runs/miniimagenet/maml/5w1s/seed0/cross_domain/cub/meta_test.csv" in result.stdout


# ---------------------------------------------------------------------------------------------
# Rules for every key of the schema, generated from it: a key added later is covered unseen.

SCHEMA = load_schema()


def _resolve(schema):
    if "$ref" in schema:
        target = SCHEMA
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _types(schema):
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def leaves(schema=SCHEMA, path=()):
    """(path, schema) of every scalar value the schema describes; an array's item is index 0,
    a map's (additionalProperties) entry its first allowed name."""
    schema = _resolve(schema)
    kinds = _types(schema)
    if "object" in kinds:
        for name, sub in schema.get("properties", {}).items():
            yield from leaves(sub, (*path, name))
        if isinstance(schema.get("additionalProperties"), dict):
            name = schema.get("propertyNames", {}).get("enum", ["any"])[0]
            yield from leaves(schema["additionalProperties"], (*path, name))
    elif "array" in kinds:
        yield from leaves(schema["items"], (*path, "0"))
    else:
        yield path, schema


ON_DISK = ("omniglot", "miniimagenet", "cub", "cifarfs", "mnist", "cifar10")


def base_for(path):
    """A valid config in which the key at ``path`` is read: an on-disk dataset's block is
    selected as the dataset, with a root (not inspected by these tests)."""
    if path[0] == "datasets" and path[1] in ON_DISK:
        return selected(path[1], "/nonexistent")
    return DEFAULT


def selected(name, root):
    """The default config training on on-disk dataset ``name`` read from ``root``."""
    # 5 embedded classes: mnist's and cifar10's default class split has 5 test classes
    return changed(dataset=name, cross_domain=[], **{f"datasets__{name}": {"root": str(root)}},
                   representations__classes=5)


def with_value(path, value, base=None):
    """``base`` (default: :func:`base_for`) with ``value`` at ``path``; an index ``0`` makes a one-item list."""
    config = copy.deepcopy(base_for(path) if base is None else base)
    node = config
    for i, key in enumerate(path[:-1]):
        if key == "0":
            continue  # the list was made one step above
        if path[i + 1] == "0":
            node[key] = [value] if i + 2 == len(path) else [{}]
            if i + 2 == len(path):
                return config
            node = node[key][0]
        else:
            node = node.setdefault(key, {})
    node[path[-1]] = value
    return config


def whole_number(schema):
    """An integer the key allows, ignoring its type: its default, else its smallest value."""
    if "enum" in schema:
        return next(v for v in schema["enum"] if isinstance(v, int) and not isinstance(v, bool) and v)
    if isinstance(schema.get("default"), int) and not isinstance(schema.get("default"), bool):
        return schema["default"]
    return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)


NUMERIC = [(".".join(path), path, schema) for path, schema in leaves()
           if {"number", "integer"} & set(_types(schema))]
INTEGER = [(key, path, schema) for key, path, schema in NUMERIC if "integer" in _types(schema)]


def test_the_schema_walk_finds_the_keys():
    keys = {key for key, _, _ in NUMERIC}
    assert {"train.outer_lr", "task.ways", "task.shots.0", "algorithm_options.maml.inner_lr",
            "sine.algorithm_options.metasgd.lr_init_low", "ablations.convergence.alphas.0",
            "evaluation.probe_iterations", "datasets.omniglot.rotations.0"} <= keys
    assert len(INTEGER) > 40 and len(NUMERIC) - len(INTEGER) > 30


def assert_refused(config, key, *fragments, **kwargs):
    with pytest.raises(ConfigError) as caught:
        validate_config(config, **kwargs)
    message = str(caught.value)
    assert f"'{key}'" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("key, path", [(k, p) for k, p, _ in NUMERIC], ids=[k for k, _, _ in NUMERIC])
def test_every_number_is_finite(key, path, value):
    assert_refused(with_value(path, value), key, "not a finite number")


@pytest.mark.parametrize("key, path, schema", INTEGER, ids=[k for k, _, _ in INTEGER])
def test_every_integer_is_written_as_one(key, path, schema):
    value = whole_number(schema)
    assert_refused(with_value(path, float(value)), key, f"write {value}")
    try:  # the same number as an integer is no error of this key (a one-item list may break another rule)
        validate_config(with_value(path, value), sources=False)
    except ConfigError as error:
        assert f"'{key}'" not in str(error), str(error)


def test_finite_numbers_and_true_integers_still_pass():
    validate_config(changed(train__outer_lr=1e-3, algorithm_options__maml__inner_lr=-0.5, model__filters=16))
    validate_config(changed(algorithm_options__baselinepp={"temperature": 10}))  # an integer is a number


# ---------------------------------------------------------------------------------------------
# Duplicate keys, in any config file: every key line of the shipped files, repeated in place.

CONFIG_FILES = sorted((ROOT / "config").glob("*.yaml")) + sorted((ROOT / "config" / "presets").glob("*.yaml"))
CONFIG_FILES = [p for p in CONFIG_FILES if p.name != "schema.yaml"]


def key_lines(node, keys=()):
    """(0-based line, dotted key) of every key that starts its line (block style)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            yield key_node.start_mark.line, key_node.start_mark.column, ".".join((*keys, key_node.value))
            yield from key_lines(value, (*keys, key_node.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from key_lines(item, (*keys, str(i)))


def duplicate_cases():
    for path in CONFIG_FILES:
        lines = path.read_text().splitlines(keepends=True)
        for line, column, key in key_lines(yaml.compose(path.read_text())):
            if lines[line][:column].strip() == "":
                yield pytest.param(path, line, key, id=f"{path.relative_to(ROOT)}:{key}")


def test_the_shipped_config_files_repeat_no_key():
    assert len(CONFIG_FILES) >= 5
    for path in CONFIG_FILES:
        read_config_file(path)


@pytest.mark.parametrize("path, line, key", list(duplicate_cases()))
def test_a_repeated_key_names_the_key_and_both_lines(tmp_path, path, line, key):
    lines = path.read_text().splitlines(keepends=True)
    bad = tmp_path / path.name
    bad.write_text("".join(lines[:line + 1] + lines[line:]))
    with pytest.raises(ConfigError) as caught:
        read_config_file(bad)
    assert f"key '{key}' is given twice, on lines {line + 1} and {line + 2}" in str(caught.value)
    assert str(bad) in str(caught.value)


def test_repeated_keys_are_found_in_every_file_given_and_apart():
    text = "train:\n  iterations: 5\nmodel: {filters: 8}\ntrain:\n  meta_batch: 2\n"
    with pytest.raises(ConfigError, match=r"'train' is given twice, on lines 1 and 4"):
        validate_config(changed(), files=[ROOT / "config" / "config.yaml", _write(text)])
    with pytest.raises(ConfigError, match=r"'task.shots.0.a' is given twice, on lines 1 and 1"):
        read_config_file(_write("task: {shots: [{a: 1, a: 2}]}\n"))
    with pytest.raises(ConfigError, match=r"'algorithm_options.maml.inner_lr' is given twice, on lines 3 and 4"):
        load_config(_write("algorithm_options:\n  maml:\n    inner_lr: 0.1\n    inner_lr: 0.2\n"))


def _write(text, name="user.yaml"):
    import tempfile

    path = Path(tempfile.mkdtemp()) / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# Rules between keys.

ALGORITHMS = SCHEMA["properties"]["algorithms"]["items"]["enum"]


@pytest.mark.parametrize("reference", ALGORITHMS + ["mamll", "MAML"])
def test_the_statistics_reference_is_a_configured_algorithm(reference):
    others = [a for a in ALGORITHMS if a != reference][:5]
    assert_refused(changed(algorithms=others, statistics__reference=reference), "statistics.reference", "algorithms")
    if reference in ALGORITHMS:
        validate_config(changed(algorithms=[*others, reference], statistics__reference=reference))


#: Cross-domain pairs of the glyph-trained default runs, each valid on its own.
PAIRS = [{"train": "glyphs", "test": "digits"}, {"train": "glyphs", "test": "mnist"},
         {"train": "glyphs", "test": "cub"}]
WITH_TESTS = changed(datasets__mnist={"root": "/m"}, datasets__cub={"root": "/c"}, cross_domain=PAIRS)


@pytest.mark.parametrize("repeated", range(len(PAIRS)))
@pytest.mark.parametrize("at", range(len(PAIRS) + 1))
def test_a_cross_domain_pair_is_listed_once(repeated, at):
    validate_config(copy.deepcopy(WITH_TESTS), sources=False)
    pairs = copy.deepcopy(PAIRS)
    pairs.insert(at, dict(PAIRS[repeated]))
    second = max(at, repeated + (at <= repeated))
    assert_refused({**copy.deepcopy(WITH_TESTS), "cross_domain": pairs}, f"cross_domain.{second}", "repeats",
                   sources=False)


@pytest.mark.parametrize("train", ["digits", "mnist", "cub"])
def test_a_cross_domain_pair_trains_on_a_trained_dataset(train):
    pairs = [*PAIRS, {"train": train, "test": "glyphs"}]
    assert_refused({**copy.deepcopy(WITH_TESTS), "cross_domain": pairs}, f"cross_domain.{len(PAIRS)}.train",
                   "'dataset'", sources=False)


def test_a_sweep_dataset_may_have_cross_domain_pairs_unless_the_sweep_skips_them():
    config = changed(datasets__omniglot={"root": "/o"}, ablations__inner_steps={"datasets": ["glyphs", "omniglot"]},
                     cross_domain=[{"train": "glyphs", "test": "digits"}, {"train": "omniglot", "test": "digits"}])
    validate_config(copy.deepcopy(config), sources=False)
    config["ablations"]["inner_steps"]["cross_domain"] = False
    assert_refused(config, "cross_domain.1.train", sources=False)


@pytest.mark.parametrize("name", ON_DISK)
def test_a_dataset_root_nothing_uses_is_an_error(name):
    """The default trains on glyphs: a root set for another dataset would silently be ignored."""
    message = assert_refused(changed(**{f"datasets__{name}": {"root": "/data"}}), f"datasets.{name}.root",
                             f"dataset: {name}", sources=False)
    assert "'glyphs'" in message
    validate_config(selected(name, "/data"), sources=False)


# (dataset, classes of its test split, images per class) as the loaders guarantee them
SPLITS = [("miniimagenet", 20, 600), ("cifarfs", 20, 600), ("cub", 50, None), ("omniglot", 659, 20),
          ("mnist", 5, None), ("cifar10", 5, None), ("glyphs", None, 20)]


@pytest.mark.parametrize("name, test_classes, per_class", SPLITS, ids=[s[0] for s in SPLITS])
def test_the_embedded_images_fit_the_test_split(name, test_classes, per_class):
    base = DEFAULT if name == "glyphs" else selected(name, "/data")
    rep = dict(base["representations"]) if "representations" in base else {}
    fits = {**rep, "classes": 5, "images_per_class": 4, "tsne_perplexity": 3}
    validate_config({**copy.deepcopy(base), "representations": fits}, sources=False)
    if test_classes is not None:
        assert_refused({**copy.deepcopy(base), "representations": {**fits, "classes": test_classes + 1}},
                       "representations.classes", f"has {test_classes}", sources=False)
        validate_config({**copy.deepcopy(base), "representations": {**fits, "classes": test_classes}}, sources=False)
    if per_class is not None:
        assert_refused({**copy.deepcopy(base), "representations": {**fits, "images_per_class": per_class + 1}},
                       "representations.images_per_class", f"{per_class} per class", sources=False)


@pytest.mark.parametrize("classes, per_class", [(2, 1), (4, 4), (10, 20), (5, 3)])
@pytest.mark.parametrize("above", [0, 0.5, 7])
def test_the_tsne_perplexity_is_below_the_embedded_images(classes, per_class, above):
    points = classes * per_class
    rep = {"classes": classes, "images_per_class": per_class}
    assert_refused(changed(representations={**rep, "tsne_perplexity": points + above}),
                   "representations.tsne_perplexity", f"= {points}")
    validate_config(changed(representations={**rep, "tsne_perplexity": points - 0.5}))


def test_the_omniglot_split_and_rotations_set_its_class_counts():
    vinyals = selected("omniglot", "/o")
    vinyals["datasets"]["omniglot"].update(split="vinyals", rotations=[0, 90])
    vinyals["representations"]["classes"] = 847
    assert_refused(copy.deepcopy(vinyals), "representations.classes", "has 846", sources=False)
    assert_refused(changed(dataset="omniglot", cross_domain=[], datasets__omniglot={"root": "/o"}, task__queries=20),
                   "task.queries", "20 per class", sources=False)


@pytest.mark.parametrize("device, visible, fails", [
    ("cuda:1", 1, True), ("cuda:2", 2, True), ("cuda:7", 4, True), ("cuda:0", 1, False), ("cuda:3", 4, False),
    ("cuda:5", 0, False),  # no CUDA here (a submit host): not checkable
    ("cuda", 1, False), ("cpu", 0, False),
])
def test_a_cuda_index_is_below_the_visible_devices(monkeypatch, device, visible, fails):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: visible > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: visible)
    config = changed(train__device=device)
    if fails:
        assert_refused(config, "train.device", f"{visible} device(s) are visible")
    else:
        validate_config(config)


# ---------------------------------------------------------------------------------------------
# Dataset roots, inspected before any job with the loaders' own messages.

def make_layout(name, root):
    """The files and folders the loader of ``name`` looks for first (empty: only the layout)."""
    from innerloop.data import cifarfs, cub, omniglot, torchvision_sets

    dirs = {"omniglot": list(omniglot.SETS), "miniimagenet": ["images"], "cub": ["CUB_200_2011/images"]}.get(name, [])
    files = {
        "miniimagenet": ["train.csv", "val.csv", "test.csv"],
        "cub": [f"CUB_200_2011/{f}" for f in cub.LISTS],
        "cifarfs": [f"cifar-100-python/{f}" for f in cifarfs.FILES],
        "mnist": [f"MNIST/raw/{f}" for pair in torchvision_sets.MNIST_FILES.values() for f in pair],
        "cifar10": [f"cifar-10-batches-py/{f}" for part in torchvision_sets.CIFAR10_BATCHES.values() for f in part]
        + ["cifar-10-batches-py/batches.meta"],
    }.get(name, [])
    for d in dirs:
        (root / d).mkdir(parents=True)
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_bytes(b"")
    return [root / p for p in dirs + files]


@pytest.mark.parametrize("name", ON_DISK)
def test_a_dataset_root_in_its_layout_passes_and_each_missing_part_fails(tmp_path, name):
    parts = make_layout(name, tmp_path)
    validate_config(selected(name, tmp_path))
    for part in parts:
        hidden = part.with_name(part.name + ".moved")
        part.rename(hidden)
        message = assert_refused(selected(name, tmp_path), f"datasets.{name}.root", "expected there",
                                 f"set datasets.{name}.root")
        assert part.name in message, message
        hidden.rename(part)


@pytest.mark.parametrize("name", ON_DISK)
def test_a_dataset_root_that_is_missing_a_file_or_empty_says_so(tmp_path, name):
    assert_refused(selected(name, tmp_path / "absent"), f"datasets.{name}.root", "does not exist", "obtain it from")
    (tmp_path / "file").write_text("not a folder\n")
    assert_refused(selected(name, tmp_path / "file"), f"datasets.{name}.root", "a file, not a directory",
                   "obtain it from")
    (tmp_path / "empty").mkdir()
    assert_refused(selected(name, tmp_path / "empty"), f"datasets.{name}.root", "expected there")


def test_a_cross_domain_test_root_is_inspected_too(tmp_path):
    config = changed(datasets__cub={"root": str(tmp_path / "cub")}, cross_domain=[{"train": "glyphs", "test": "cub"}])
    assert_refused(config, "datasets.cub.root", "does not exist")


def test_class_counts_a_loader_leaves_open_come_from_a_store_prepared_with_the_same_options(tmp_path):
    """Glyphs' splits depend on the installed fonts: known before any job once its store exists."""
    import numpy as np
    import pandas as pd

    from innerloop.data.store import write_store

    split = ["train"] * 6 + ["val"] * 5 + ["test"] * 7
    classes = pd.DataFrame({"class_id": range(18), "name": [f"c{i}" for i in range(18)],
                            "alphabet": "a", "split": split})
    labels = np.repeat(np.arange(18), 20)
    params = validate_config(changed())["datasets"]["glyphs"]
    write_store(tmp_path / "glyphs", np.zeros((len(labels), 1, 8, 8), np.uint8), labels, classes,
                dataset="glyphs", params=params)
    validate_config(changed(representations__classes=7), stores=tmp_path)
    assert_refused(changed(representations__classes=8), "representations.classes", "has 7", stores=tmp_path)
    assert_refused(changed(task__ways=6), "task.ways", "'val' split of dataset 'glyphs', which has 5", stores=tmp_path)
    # prepared with other options (or not at all): not known here, the preparation checks it
    validate_config(changed(representations__classes=8, datasets__glyphs__seed=1), stores=tmp_path)
    validate_config(changed(representations__classes=8), stores=tmp_path / "none")


def test_where_no_store_tells_the_counts_the_preparation_checks_the_embedded_images():
    import numpy as np
    import pandas as pd

    from innerloop.data.registry import task_requirements
    from innerloop.data.store import DatasetTooSmallError, check_task_fits

    classes = pd.DataFrame({"class_id": range(15), "name": [f"c{i}" for i in range(15)], "alphabet": "a",
                            "split": ["train"] * 5 + ["val"] * 5 + ["test"] * 5})
    labels = np.repeat(np.arange(15), 12)
    config = validate_config(changed(representations={"classes": 5, "images_per_class": 12, "tsne_perplexity": 5}))
    requirements = task_requirements(config, "glyphs")
    assert requirements["embedded"] == (5, 12) and "embedded" not in task_requirements(config, "digits")
    check_task_fits(labels, classes, dataset="glyphs", **requirements)
    for key, value, problem in [("classes", 6, "5 classes, fewer than representations.classes = 6"),
                                ("images_per_class", 13, "12 images, fewer than representations.images_per_class = 13")]:
        config["representations"][key] = value
        with pytest.raises(DatasetTooSmallError, match=problem):
            check_task_fits(labels, classes, dataset="glyphs", **task_requirements(config, "glyphs"))
        config["representations"].update(classes=5, images_per_class=12)


@pytest.mark.parametrize("shots, centroid", [([1], 2), ([1, 5], 5), ([5, 2], 3), ([3], 10)])
def test_a_probe_centroid_averages_no_more_shots_than_a_task_has(shots, centroid):
    assert_refused(changed(task__shots=shots, evaluation__probe_centroid_shots=centroid),
                   "evaluation.probe_centroid_shots", "task.shots")
    validate_config(changed(task__shots=shots, evaluation__probe_centroid_shots=min(shots)))
