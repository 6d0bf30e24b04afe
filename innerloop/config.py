"""The workflow's configuration: validated against config/schema.yaml, defaults filled in.

Errors name the offending key as a dotted path (``task.ways``) and, where the schema has
them, the allowed values, so a typo stops the run before any job starts.

Rules that hold for every key, whenever it was added to the schema:

* a ``number`` is finite (no ``.nan``, ``.inf``);
* an ``integer`` is written as one: ``5.0`` is refused where an integer is meant;
* a config file repeats no key (:func:`read_config_file`), since YAML would keep
  only the last of two and drop the first without a word.

Rules between keys are in :func:`_check_cross_keys`; the tuning grid is checked against
the algorithms' options (:func:`_check_tuning_grid`); the on-disk datasets' roots are
inspected last (:func:`check_dataset_sources`).

Since it checks what the library knows (dataset loaders, tuning grids), this module sits
in the library's top layer, with nothing importing it (tests/unit/test_import_graph.py).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from innerloop import catalog
from innerloop.runs import cross_domain_targets, sweep_datasets
from innerloop.tuning import candidate_id, candidates

# Inside the package (in the repository a link to config/schema.yaml), so an installed wheel has it.
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.yaml"
#: Where the workflow prepares its stores (rules/common.smk): results/data/<name>/.
STORES = Path("results/data")


class ConfigError(ValueError):
    """A configuration value the schema (or a cross-key rule) does not allow."""


#: Top-level keys the config no longer reads, and where what they set lives now.
MOVED = {
    "resources": "what a job asks a scheduler for (runtime, memory, GPU model, CPUs per rule) is in the "
                 "Snakemake profiles (profiles/slurm/config.yaml: set-resources, set-threads); network jobs "
                 "request a GPU when they compute on CUDA (train.device), with no key of their own",
}


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        path = ".".join(filter(None, [path, *missing[:1]]))
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path = ".".join(filter(None, [path, *extra]))
    return path or "<top level>"


def _explain(error: jsonschema.ValidationError) -> str:
    key = _key_path(error)
    if error.validator == "type":
        return f"config key {key!r}: {_type_problem(error.instance, error.validator_value)}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"config key {key!r} is not a known key here; allowed: {allowed}"
    if error.validator == "required":
        return f"config key {key!r} is required: {error.message}"
    if error.validator == "enum":
        return f"config key {key!r}: {error.instance!r} is not allowed; allowed values: {error.validator_value}"
    return f"config key {key!r}: {error.message}"


def _is_integer(checker, instance) -> bool:
    """Only ints: JSON Schema would also take 5.0, which then fails deep inside a job."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker, instance) -> bool:
    """Finite ints and floats: a NaN or infinite rate would train to NaN and still "succeed"."""
    return (isinstance(instance, (int, float)) and not isinstance(instance, bool)
            and math.isfinite(instance))


def _type_problem(instance: Any, types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else list(types)
    wanted = " or ".join(repr(t) for t in names)
    if isinstance(instance, float) and not math.isfinite(instance) and {"number", "integer"} & set(names):
        return f"{instance!r} is not a finite number (expected {wanted})"
    if isinstance(instance, float) and instance.is_integer() and "integer" in names:
        return f"{instance!r} is not an integer; write {int(instance)} (expected {wanted})"
    return f"{instance!r} is not of type {wanted}"


def _with_defaults(validator_class):
    set_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from set_properties(validator, properties, instance, schema)

    type_checker = validator_class.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number})
    return jsonschema.validators.extend(validator_class, {"properties": fill_defaults}, type_checker=type_checker)


def value_errors(value: Any, schema: dict) -> list[str]:
    """What ``schema`` (a sub-schema, e.g. one option's) refuses in ``value``, by the same
    rules as the config (finite numbers, true integers); empty when it is allowed."""
    strict = _with_defaults(jsonschema.Draft202012Validator)(schema)
    return [error.message for error in strict.iter_errors(copy.deepcopy(value))]


def load_schema() -> dict:
    return copy.deepcopy(_schema())


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    """The parsed schema, read once per process (with libyaml's parser where PyYAML has it),
    with the algorithms filled in from their declarations (:func:`with_algorithms`)."""
    return with_algorithms(yaml.load(SCHEMA_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


#: JSON Schema types of the annotations an ``Options`` field may have.
_JSON_TYPES = {"float": "number", "int": "integer", "bool": "boolean", "str": "string"}


def option_schema(option: catalog.Option, declaration: catalog.Declaration) -> dict:
    """The schema of one field of a learner's ``Options``: its type and default, from the class."""
    kinds = [kind.strip() for kind in option.annotation.split("|")]
    types, items = [], None
    for kind in kinds:
        if kind == "None":
            types.append("null")
        elif kind in _JSON_TYPES:
            types.append(_JSON_TYPES[kind])
        elif kind.startswith("tuple[") and kind.endswith(", ...]") and kind[6:-6] in _JSON_TYPES:
            types.append("array")
            items = {"type": _JSON_TYPES[kind[6:-6]]}
        else:
            raise ValueError(f"{declaration.module}: {declaration.class_name}.Options.{option.name}: annotation "
                             f"{option.annotation!r} has no config type; give algorithm_options.{declaration.name} "
                             "a block in config/schema.yaml")
    if option.default is dataclasses.MISSING:
        raise ValueError(f"{declaration.module}: {declaration.class_name}.Options.{option.name} has no default; "
                         "every option needs one")
    default = list(option.default) if isinstance(option.default, tuple) else option.default
    block = {"description": f"{declaration.label}: {option.name} ({declaration.module}, "
                            f"{declaration.class_name}.Options).",
             "type": types[0] if len(types) == 1 else types, "default": default}
    return {**block, "items": items} if items else block


def with_algorithms(schema: dict, declarations: tuple[catalog.Declaration, ...] | None = None) -> dict:
    """``schema`` with each ``x-algorithms`` list made an enum of the registered algorithms
    (``registered``: all; a flag such as ``sine_comparison``: those whose class sets it), and
    a block under ``algorithm_options`` for each algorithm the schema has none for, made from
    its ``Options`` (:func:`option_schema`). ``declarations``: the registry's (catalog.DECLARATIONS)."""
    declarations = catalog.DECLARATIONS if declarations is None else declarations

    def fill(node):
        if isinstance(node, dict):
            if "x-algorithms" in node:
                flag = node["x-algorithms"]
                if flag != "registered" and flag not in catalog.FIELDS:
                    raise ValueError(f"config/schema.yaml: x-algorithms {flag!r} is neither 'registered' nor a "
                                     f"declared field ({', '.join(catalog.FIELDS)})")
                node["enum"] = [d.name for d in declarations if flag == "registered" or getattr(d, flag)]
            for value in node.values():
                fill(value)
        elif isinstance(node, list):
            for value in node:
                fill(value)

    fill(schema)
    blocks = schema["properties"]["algorithm_options"]["properties"]
    for d in declarations:
        if d.name not in blocks:
            blocks[d.name] = {"type": "object", "additionalProperties": False, "default": {},
                              "properties": {"clip_grad_norm": {"$ref": "#/$defs/clip_grad_norm"},
                                             **{o.name: option_schema(o, d) for o in d.options}}}
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    return _with_defaults(jsonschema.Draft202012Validator)(_schema())


def validate_config(config: dict[str, Any], files: Iterable[str | os.PathLike] = (),
                    sources: bool = True, stores: str | os.PathLike | None = STORES) -> dict[str, Any]:
    """Fill defaults into ``config`` in place and check it; raise :class:`ConfigError`.

    ``files`` are the YAML files ``config`` was merged from (Snakemake's
    ``workflow.configfiles``): read again, since a loader that keeps the last of two
    equal keys cannot tell that a block was dropped. All schema violations are reported
    together, each with its key; then the rules between keys; then, with ``sources``,
    the root of every on-disk dataset is inspected (:func:`check_dataset_sources`).
    Class counts a loader does not fix (glyphs, Omniglot's 'background' train and val)
    are taken from a store already prepared under ``stores`` with the same options.
    """
    for path in files:
        read_config_file(path)
    for key, where in MOVED.items():
        if key in config:
            raise ConfigError(f"config key {key!r} is no longer read: {where}")
    errors = sorted(_validator().iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_explain(e) for e in errors))
    _check_cross_keys(config, None if stores is None else Path(stores))
    _check_tuning(config)
    if sources:
        check_dataset_sources(config)
    return config


def _check_tuning(config: dict[str, Any]) -> None:
    """The tuning grid names algorithms, their options and values they accept."""
    _check_tuning_grid(config, _schema()["properties"]["algorithm_options"]["properties"])


def _check_tuning_grid(config: Mapping[str, Any], option_schema: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuses a grid entry for an algorithm that does not exist or an option it does not
    have, a value its option's schema refuses, a candidate listed twice, and a
    ``tuning.algorithms`` entry that is not configured or has no grid (``option_schema``:
    the schema's ``algorithm_options`` properties)."""
    tuning = config["tuning"]
    for i, algorithm in enumerate(tuning.get("algorithms") or []):
        if algorithm not in config["algorithms"]:
            raise ConfigError(f"config key 'tuning.algorithms.{i}': {algorithm!r} is not one of the configured "
                              f"algorithms {list(config['algorithms'])}")
        if algorithm not in tuning["grid"]:
            raise ConfigError(f"config key 'tuning.algorithms.{i}': {algorithm!r} has no candidates under "
                              f"'tuning.grid.{algorithm}'")
    for algorithm, spec in tuning["grid"].items():
        key = f"tuning.grid.{algorithm}"
        if algorithm not in option_schema:
            raise ConfigError(f"config key {key!r}: {algorithm!r} is not an algorithm; known: {sorted(option_schema)}")
        known = option_schema[algorithm].get("properties", {})
        found = candidates(spec)
        if not found:
            raise ConfigError(f"config key {key!r}: give at least one candidate")
        for options in found:
            for name, value in options.items():
                if name not in known:
                    raise ConfigError(f"config key '{key}.{name}': {algorithm} has no option {name!r}; its options: "
                                      f"{sorted(known) or 'none'}")
                problems = value_errors(value, known[name])
                if problems:
                    raise ConfigError(f"config key '{key}.{name}': candidate value {value!r}: {problems[0]}")
        ids = [candidate_id(c) for c in found]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ConfigError(f"config key {key!r}: candidate {repeated[0]} is listed twice")


def _check_cross_keys(config: dict[str, Any], stores: Path | None = None) -> None:
    """Rules that involve more than one key."""
    for name, options in config["algorithm_options"].items():
        low, high = options.get("lr_init_low"), options.get("lr_init_high")
        if low is not None and high is not None and low > high:
            raise ConfigError(f"config key 'algorithm_options.{name}.lr_init_low': {low} is above lr_init_high {high}")
    reference = config["statistics"]["reference"]
    if reference not in config["algorithms"]:
        # Without its reference every paired test and claim would be left out, silently.
        raise ConfigError(f"config key 'statistics.reference': {reference!r} is not one of the configured "
                          f"'algorithms' {config['algorithms']}; name one of them")
    if config["dataset"] not in config["datasets"]:
        raise ConfigError(f"config key 'dataset': {config['dataset']!r} has no entry under 'datasets' "
                          f"(an on-disk dataset needs 'datasets.{config['dataset']}.root', the directory it is read from)")
    sweep = config["ablations"]["inner_steps"].get("datasets") or []
    for i, name in enumerate(sweep):
        if name not in config["datasets"]:
            raise ConfigError(f"config key 'ablations.inner_steps.datasets.{i}': {name!r} has no entry under "
                              f"'datasets'; configured datasets: {sorted(config['datasets'])}")
    _check_cross_domain(config)
    _check_unused_datasets(config)
    _check_task_fits(config, stores)
    _check_representations(config, stores)
    _check_device(config)
    centroid, shots = config["evaluation"]["probe_centroid_shots"], min(config["task"]["shots"])
    if centroid > shots:
        # A centroid averages the first shots of the support set: more would silently be fewer.
        raise ConfigError(f"config key 'evaluation.probe_centroid_shots': {centroid} support examples per centroid, "
                          f"but the {shots}-shot setting of 'task.shots' has only {shots}")


def trained_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets some runs are trained on: ``dataset``, then the inner-steps sweep's."""
    return [config["dataset"], *(name for name in sweep_datasets(config) if name != config["dataset"])]


def _cross_domain_trains(config: dict[str, Any]) -> list[str]:
    """Training datasets whose runs are evaluated on their cross-domain pairs: the main
    one, and the sweep's when ``ablations.inner_steps.cross_domain`` is set."""
    if config["ablations"]["inner_steps"]["cross_domain"]:
        return trained_datasets(config)
    return [config["dataset"]]


def _check_cross_domain(config: dict[str, Any]) -> None:
    trains = _cross_domain_trains(config)
    seen: dict[tuple[str, str], int] = {}
    for i, pair in enumerate(config["cross_domain"]):
        for end in ("train", "test"):
            if pair[end] not in config["datasets"]:
                raise ConfigError(f"config key 'cross_domain.{i}.{end}': {pair[end]!r} has no entry under 'datasets'; "
                                  f"configured datasets: {sorted(config['datasets'])}")
        if pair["train"] == pair["test"]:
            raise ConfigError(f"config key 'cross_domain.{i}': train and test are both {pair['train']!r}; "
                              "a cross-domain pair needs two different datasets")
        key = (pair["train"], pair["test"])
        if key in seen:
            # A repeated pair would enter the statistics twice: n doubled, intervals too narrow.
            raise ConfigError(f"config key 'cross_domain.{i}': the pair {pair['train']} -> {pair['test']} "
                              f"repeats 'cross_domain.{seen[key]}'; list each pair once")
        seen[key] = i
        if pair["train"] not in trains:
            raise ConfigError(
                f"config key 'cross_domain.{i}.train': {pair['train']!r} is not a dataset the runs are trained on "
                f"({trains}: 'dataset'" + (", 'ablations.inner_steps.datasets'" if len(trains) > 1 else "")
                + "), so the pair would be ignored; set 'dataset' or the pair's train accordingly")


def _check_unused_datasets(config: dict[str, Any]) -> None:
    """An on-disk dataset whose root is set but that nothing trains or tests on.

    An error, not a warning: the usual cause is a root set for the dataset one meant to
    run while 'dataset' still names another, and the run would then go ahead on the other
    dataset, with a warning lost above hundreds of planned jobs.
    """
    trained = trained_datasets(config)
    used = set(trained) | {test for train in _cross_domain_trains(config) for test in cross_domain_targets(config, train)}
    for name in config["datasets"]:
        if name in EMBEDDED_DATASETS or name in used:
            continue
        raise ConfigError(
            f"config key 'datasets.{name}.root' is set, but {name!r} is neither 'dataset' (now {config['dataset']!r}) "
            f"nor a cross-domain test of it ('cross_domain'), nor in 'ablations.inner_steps.datasets': nothing "
            f"would use it. Set 'dataset: {name}' to train on it, add it to 'cross_domain', or remove "
            f"'datasets.{name}'")


def _check_representations(config: dict[str, Any], stores: Path | None) -> None:
    """The feature maps (rule feature_maps) draw ``classes`` x ``images_per_class`` meta-test
    images of the training dataset and run t-SNE on them."""
    rep = config["representations"]
    points = rep["classes"] * rep["images_per_class"]
    if not rep["tsne_perplexity"] < points:
        raise ConfigError(
            f"config key 'representations.tsne_perplexity': {rep['tsne_perplexity']} must be below the number of "
            f"embedded images, representations.classes x images_per_class = {rep['classes']} x "
            f"{rep['images_per_class']} = {points} (t-SNE's requirement)")
    name = config["dataset"]
    options = config["datasets"].get(name, {})
    known = _split_classes(name, options, stores)
    if "test" in known and rep["classes"] > known["test"]:
        raise ConfigError(f"config key 'representations.classes': {rep['classes']} classes are embedded, but the "
                          f"'test' split of dataset {name!r} has {known['test']}")
    per_class = _images_per_class(name, options)
    if per_class is not None and rep["images_per_class"] > per_class:
        raise ConfigError(f"config key 'representations.images_per_class': {rep['images_per_class']} images of "
                          f"each class are embedded, but dataset {name!r} has {per_class} per class")


def _check_device(config: dict[str, Any]) -> None:
    """``cuda:N`` against the devices visible here; not checkable where none is (a SLURM
    submit host without a GPU, whose jobs run on GPU nodes)."""
    device = config["train"]["device"]
    if not device.startswith("cuda:"):
        return
    import torch

    index = int(device.partition(":")[2])
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count and index >= count:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise ConfigError(f"config key 'train.device': {device!r} names CUDA device {index}, but {count} "
                          f"device(s) are visible here (cuda:0 to cuda:{count - 1}"
                          + (f"; CUDA_VISIBLE_DEVICES={visible}" if visible is not None else "") + ")")


#: Datasets built from installed packages; every other one is read from ``datasets.<name>.root``.
EMBEDDED_DATASETS = ("glyphs", "digits")


def check_dataset_sources(config: dict[str, Any]) -> None:
    """Inspect the root of every configured on-disk dataset: it must exist, be a directory
    and hold the files its loader reads (innerloop/data/<name>.py ``source_paths``);
    the loader's own message says what was expected where and where to get the data."""
    names = [name for name in config["datasets"] if name not in EMBEDDED_DATASETS]
    if not names:
        return
    from innerloop.data.registry import check_source
    from innerloop.data.sources import DatasetSourceError

    for name in names:
        try:
            check_source(name, config["datasets"][name])
        except DatasetSourceError as error:
            raise ConfigError(f"config key 'datasets.{name}.root': {error}") from None


#: Classes per split of the datasets whose class split does not depend on the files read
#: (innerloop/data/<name>.py); mnist and cifar10 take theirs from `class_split`.
FIXED_SPLIT_CLASSES = {
    "miniimagenet": {"train": 64, "val": 16, "test": 20},
    "cifarfs": {"train": 64, "val": 16, "test": 20},
    "cub": {"train": 100, "val": 50, "test": 50},
    "digits": {"train": 0, "val": 0, "test": 10},
}


#: Images per class of the datasets whose loader checks that count (innerloop/data/<name>.py).
FIXED_IMAGES_PER_CLASS = {"omniglot": 20, "miniimagenet": 600, "cifarfs": 600}
#: Omniglot's characters per split (innerloop/data/omniglot.py EXPECTED), before rotations;
#: split 'background' takes train and val from the files, so only its test split is known.
OMNIGLOT_SPLIT_CLASSES = {"vinyals": {"train": 1028, "val": 172, "test": 423}, "background": {"test": 659}}


def _split_classes(name: str, options: dict[str, Any], stores: Path | None = None) -> dict[str, int]:
    """Classes per split of dataset ``name`` as configured: what its loader fixes, else what
    its store under ``stores`` records if prepared with ``options`` (a split left out is not known)."""
    return {**_prepared_split_classes(name, options, stores), **_fixed_split_classes(name, options)}


def _prepared_split_classes(name: str, options: dict[str, Any], stores: Path | None) -> dict[str, int]:
    if stores is None:
        return {}
    try:
        manifest = json.loads((stores / name / "manifest.json").read_text(encoding="utf-8"))
        params, counts = manifest["params"], manifest["split_counts"]
        if any(params.get(key) != value for key, value in options.items() if key != "root"):
            return {}
        if "root" in options and manifest["source"]["root"] != str(Path(options["root"]).expanduser().resolve()):
            return {}
        return {split: int(count["classes"]) for split, count in counts.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no store, or not one this check can read: the preparation checks it


def _fixed_split_classes(name: str, options: dict[str, Any]) -> dict[str, int]:
    if name in FIXED_SPLIT_CLASSES:
        return FIXED_SPLIT_CLASSES[name]
    if name in ("mnist", "cifar10"):
        split = options.get("class_split") or {}
        return {k: len(split.get(k, [])) for k in ("train", "val", "test")}
    if name == "omniglot":
        rotations = len(options.get("rotations", [0]))
        return {k: n * rotations for k, n in OMNIGLOT_SPLIT_CLASSES[options.get("split", "background")].items()}
    return {}


def _images_per_class(name: str, options: dict[str, Any]) -> int | None:
    """Images of every class of dataset ``name``, where known before preparing it."""
    return options.get("images_per_class", FIXED_IMAGES_PER_CLASS.get(name))


def _check_task_fits(config: dict[str, Any], stores: Path | None) -> None:
    """The task setting against what is known of the datasets before they are prepared
    (class counts per split, images per class); the rest is checked when a
    dataset is prepared (innerloop.data.store.check_task_fits)."""
    task = config["task"]
    ways, images = task["ways"], max(task["shots"]) + task["queries"]
    trained = trained_datasets(config)
    used = [(train, ("train", "val", "test")) for train in trained]
    used += [(test, ("test",)) for train in trained for test in cross_domain_targets(config, train)]
    for name, splits in used:
        known = _split_classes(name, config["datasets"].get(name, {}), stores)
        for split in splits:
            if known.get(split, ways) < ways:
                raise ConfigError(f"config key 'task.ways': {ways} ways need {ways} classes in the {split!r} split "
                                  f"of dataset {name!r}, which has {known[split]}")
    for train in trained:
        options = config["datasets"].get(train, {})
        per_class = _images_per_class(train, options)
        if per_class is not None and images > per_class:
            where = (f"'datasets.{train}.images_per_class' is {per_class}" if "images_per_class" in options
                     else f"dataset {train!r} has {per_class} per class")
            raise ConfigError(f"config key 'task.queries': shots + queries = {max(task['shots'])} + "
                              f"{task['queries']} = {images} images per class, but {where}")


def read_config_file(path: str | os.PathLike) -> Any:
    """The YAML (or JSON) file at ``path``, loaded; a key given twice in one mapping is a
    :class:`ConfigError` naming the file, the key and both lines."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        _check_duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader), str(path), [], set())
    except yaml.YAMLError:
        pass  # not YAML: the loader below says why, with its own position
    return yaml.safe_load(text)


def _check_duplicate_keys(node: yaml.Node | None, path: str, keys: list[str], seen_nodes: set[int]) -> None:
    if node is None or id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _check_duplicate_keys(value_node, path, keys, seen_nodes)
                continue
            name = str(key_node.value)
            line = key_node.start_mark.line + 1
            if (key_node.tag, name) in lines:
                dotted = ".".join([*keys, name])
                raise ConfigError(f"config file {path}: key {dotted!r} is given twice, on lines "
                                  f"{lines[key_node.tag, name]} and {line}; YAML keeps only the last and would "
                                  "silently drop the first. Merge the two into one")
            lines[key_node.tag, name] = line
            _check_duplicate_keys(value_node, path, [*keys, name], seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, path, [*keys, str(i)], seen_nodes)


def load_config(*paths: Path | str, sources: bool = True) -> dict[str, Any]:
    """Merge YAML files left to right (later ones override, dicts merged key by key) and
    validate (``sources``: see :func:`validate_config`)."""
    config: dict[str, Any] = {}
    for path in paths:
        merge(config, read_config_file(path) or {})
    return validate_config(config, sources=sources)


def merge(base: dict, update: dict) -> dict:
    """Recursive dict update, as Snakemake applies --configfile on top of the Snakefile's configfile."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base
