"""The workflow's configuration: validated against config/schema.yaml, defaults filled in.

Errors name the offending key as a dotted path (``task.ways``) and, where the schema has
them, the allowed values, so a typo stops the run before any job starts.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# Inside the package (in the repository a link to config/schema.yaml), so an installed wheel has it.
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.yaml"


class ConfigError(ValueError):
    """A configuration value the schema (or a cross-key rule) does not allow."""


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
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"config key {key!r} is not a known key here; allowed: {allowed}"
    if error.validator == "required":
        return f"config key {key!r} is required: {error.message}"
    if error.validator == "enum":
        return f"config key {key!r}: {error.instance!r} is not allowed; allowed values: {error.validator_value}"
    return f"config key {key!r}: {error.message}"


def _with_defaults(validator_class):
    set_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from set_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": fill_defaults})


def load_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults into ``config`` in place and check it; raise :class:`ConfigError`.

    All schema violations are reported together, each with its key.
    """
    validator = _with_defaults(jsonschema.Draft202012Validator)(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_explain(e) for e in errors))
    _check_cross_keys(config)
    return config


def _check_cross_keys(config: dict[str, Any]) -> None:
    """Rules that involve more than one key."""
    for name, options in config["algorithm_options"].items():
        low, high = options.get("lr_init_low"), options.get("lr_init_high")
        if low is not None and high is not None and low > high:
            raise ConfigError(f"config key 'algorithm_options.{name}.lr_init_low': {low} is above lr_init_high {high}")
    if config["dataset"] not in config["datasets"]:
        raise ConfigError(f"config key 'dataset': {config['dataset']!r} has no entry under 'datasets' "
                          f"(an on-disk dataset needs 'datasets.{config['dataset']}.root', the directory it is read from)")
    for i, pair in enumerate(config["cross_domain"]):
        for end in ("train", "test"):
            if pair[end] not in config["datasets"]:
                raise ConfigError(f"config key 'cross_domain.{i}.{end}': {pair[end]!r} has no entry under 'datasets'; "
                                  f"configured datasets: {sorted(config['datasets'])}")
        if pair["train"] == pair["test"]:
            raise ConfigError(f"config key 'cross_domain.{i}': train and test are both {pair['train']!r}; "
                              "a cross-domain pair needs two different datasets")
    sweep = config.get("ablations", {}).get("inner_steps", {}).get("datasets") or []
    for i, name in enumerate(sweep):
        if name not in config["datasets"]:
            raise ConfigError(f"config key 'ablations.inner_steps.datasets.{i}': {name!r} has no entry under "
                              f"'datasets'; configured datasets: {sorted(config['datasets'])}")
    _check_task_fits(config)


def sweep_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets the inner-steps sweep trains on: ``ablations.inner_steps.datasets``, else the main one."""
    return list(config["ablations"]["inner_steps"].get("datasets") or [config["dataset"]])


def cross_domain_targets(config: dict[str, Any], train: str) -> list[str]:
    """Datasets the runs trained on ``train`` are also evaluated on (config ``cross_domain``)."""
    return [pair["test"] for pair in config["cross_domain"] if pair["train"] == train]


#: Classes per split of the datasets whose class split does not depend on the files read
#: (innerloop/data/<name>.py); mnist and cifar10 take theirs from `class_split`.
FIXED_SPLIT_CLASSES = {
    "miniimagenet": {"train": 64, "val": 16, "test": 20},
    "cifarfs": {"train": 64, "val": 16, "test": 20},
    "cub": {"train": 100, "val": 50, "test": 50},
    "digits": {"train": 0, "val": 0, "test": 10},
}


def _split_classes(name: str, options: dict[str, Any]) -> dict[str, int] | None:
    """Classes per split of dataset ``name`` as configured, where known before preparing it."""
    if name in FIXED_SPLIT_CLASSES:
        return FIXED_SPLIT_CLASSES[name]
    if name in ("mnist", "cifar10"):
        split = options.get("class_split") or {}
        return {k: len(split.get(k, [])) for k in ("train", "val", "test")}
    return None


def _check_task_fits(config: dict[str, Any]) -> None:
    """The task setting against what is known of the datasets before they are prepared
    (class counts per split, glyphs' images per class); the rest is checked when a
    dataset is prepared (innerloop.data.store.check_task_fits)."""
    task = config["task"]
    ways, images = task["ways"], max(task["shots"]) + task["queries"]
    trained = [config["dataset"]]
    if "ablations" in config:
        trained += [name for name in sweep_datasets(config) if name not in trained]
    used = [(train, ("train", "val", "test")) for train in trained]
    used += [(test, ("test",)) for train in trained for test in cross_domain_targets(config, train)]
    for name, splits in used:
        known = _split_classes(name, config["datasets"].get(name, {}))
        for split in splits if known else ():
            if known[split] < ways:
                raise ConfigError(f"config key 'task.ways': {ways} ways need {ways} classes in the {split!r} split "
                                  f"of dataset {name!r}, which has {known[split]}")
    for train in trained:
        per_class = config["datasets"].get(train, {}).get("images_per_class")
        if per_class is not None and images > per_class:
            raise ConfigError(f"config key 'task.queries': shots + queries = {max(task['shots'])} + "
                              f"{task['queries']} = {images} images per class, but "
                              f"'datasets.{train}.images_per_class' is {per_class}")


def load_config(*paths: Path | str) -> dict[str, Any]:
    """Merge YAML files left to right (later ones override, dicts merged key by key) and validate."""
    config: dict[str, Any] = {}
    for path in paths:
        merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return validate_config(config)


def merge(base: dict, update: dict) -> dict:
    """Recursive dict update, as Snakemake applies --configfile on top of the Snakefile's configfile."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base
