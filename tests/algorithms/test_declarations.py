"""Each learner's declaration (innerloop/algorithms/base.py) against config/schema.yaml and the
tables derived from it: a schema that names, offers or defaults an algorithm differently fails.
The declarations as innerloop.catalog reads them from the source (without torch) must be the
classes' own."""

import dataclasses
import inspect
import re

import pytest

from innerloop import catalog
from innerloop.algorithms import ALGORITHMS, DISPLAY_NAMES, LEARNERS, LEARNS_RATES
from innerloop.config import load_schema
from innerloop.reporting.style import ALGORITHM_COLORS, algorithm_color
from innerloop.stats.order import GROUP_LABELS, TRANSFER_BASELINES, algorithm_group

SCHEMA = load_schema()
OPTIONS = SCHEMA["properties"]["algorithm_options"]["properties"]
CLIP = {"$ref": "#/$defs/clip_grad_norm"}
#: Where the schema lists algorithms (path of the enum's parent) -> the names it must list.
ENUMS = {
    "properties/algorithms/items": set(ALGORITHMS),
    "properties/sine/properties/comparison/properties/algorithms/items":
        {name for name, cls in ALGORITHMS.items() if cls.sine_comparison},
    "properties/ablations/properties/inner_steps/properties/algorithms/items":
        {name for name, cls in ALGORITHMS.items() if cls.inner_steps_sweep},
}


def algorithm_enums(node, path=""):
    """(path, enum) of every enum in the schema that names a registered algorithm."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and set(node["enum"]) & set(ALGORITHMS):
            yield path, node["enum"]
        for key, value in node.items():
            yield from algorithm_enums(value, f"{path}/{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from algorithm_enums(value, f"{path}/{i}")


def plain(value):
    """A default as YAML writes it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def test_registry_is_the_table_order_of_distinct_learners():
    assert list(ALGORITHMS.values()) == list(LEARNERS) and len(set(LEARNERS)) == len(LEARNERS)
    assert list(DISPLAY_NAMES) == [cls.name for cls in LEARNERS]


def test_schema_enums_list_the_registry():
    found = dict(algorithm_enums(SCHEMA))
    assert set(found) == set(ENUMS), "an enum of algorithms the declarations do not describe (or a missing one)"
    for path, expected in ENUMS.items():
        assert len(found[path]) == len(set(found[path])), f"{path} repeats a name"
        assert set(found[path]) == expected, (
            f"{path}: schema only {sorted(set(found[path]) - expected)}, declared only {sorted(expected - set(found[path]))}")


def test_schema_has_one_options_block_per_algorithm():
    assert set(OPTIONS) == set(ALGORITHMS)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_options_block_matches_the_dataclass(name):
    cls = ALGORITHMS[name]
    block = OPTIONS[name]
    assert block["additionalProperties"] is False and block["default"] == {}
    schema = dict(block["properties"])
    assert schema.pop("clip_grad_norm") == CLIP, "every algorithm takes the shared clip_grad_norm"
    fields = {f.name: f.default for f in dataclasses.fields(cls.Options)}
    assert list(schema) == list(fields), f"{name}: schema options {list(schema)}, {cls.__name__}.Options {list(fields)}"
    for key, default in fields.items():
        assert default is not dataclasses.MISSING, f"{name}.{key} has no default"
        assert "default" in schema[key], f"{name}.{key}: no default in the schema"
        want = schema[key]["default"]
        assert (type(plain(default)), plain(default)) == (type(want), want), (
            f"{name}.{key}: schema default {want!r}, {cls.__name__}.Options {default!r}")


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_constructor_takes_the_options_with_their_defaults(name):
    cls = ALGORITHMS[name]
    parameters = inspect.signature(cls.__init__).parameters
    for field in dataclasses.fields(cls.Options):
        assert field.name in parameters, f"{cls.__name__}() does not take option {field.name}"
        default = parameters[field.name].default
        if default is not inspect.Parameter.empty and field.name != "inner_steps":  # the run's, not an option
            assert default == field.default, f"{cls.__name__}({field.name}={default!r}), Options: {field.default!r}"
    with pytest.raises(TypeError, match="unknown options"):
        cls.with_defaults({"no_such_option": 1})


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_learner_declares_itself(name):
    cls = ALGORITHMS[name]
    own = vars(cls)
    for attribute in ("name", "label", "family", "color", "Options"):
        assert attribute in own, f"{cls.__name__} inherits {attribute} instead of declaring its own"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert cls.label.strip() == cls.label and cls.label
    assert cls.family in GROUP_LABELS
    assert re.fullmatch(r"#[0-9a-f]{6}", cls.color)
    assert dataclasses.is_dataclass(cls.Options) and cls.Options.__dataclass_params__.frozen
    assert algorithm_group(name) == cls.family and algorithm_color(name) == cls.color
    assert (name in LEARNS_RATES) == cls.learns_rates


def test_labels_and_colours_are_distinct():
    assert len(set(DISPLAY_NAMES.values())) == len(DISPLAY_NAMES)
    assert len(set(ALGORITHM_COLORS.values())) == len(ALGORITHM_COLORS) == len(ALGORITHMS)


def test_transfer_baselines_are_chen_et_als():
    assert TRANSFER_BASELINES == ("scratch", "finetune", "baselinepp")
    assert LEARNS_RATES == {"metasgd", "alpha_maml", "turtle", "fo_turtle"}


def test_the_catalog_reads_what_the_classes_declare():
    assert [d.name for d in catalog.DECLARATIONS] == list(ALGORITHMS)
    for declared, cls in zip(catalog.DECLARATIONS, LEARNERS):
        assert declared == catalog.Declaration(**{field: getattr(cls, field) for field in catalog.FIELDS}), cls
    assert catalog.DISPLAY_NAMES == DISPLAY_NAMES and catalog.LEARNS_RATES == LEARNS_RATES


def test_the_catalog_fails_on_a_declaration_it_cannot_read(tmp_path, monkeypatch):
    (tmp_path / "__init__.py").write_text("LEARNERS = (Odd,)\n")
    (tmp_path / "odd.py").write_text("class Odd(Base):\n    label = 'o' + 'dd'\n")
    monkeypatch.setattr(catalog, "PACKAGE", tmp_path)
    with pytest.raises(ValueError, match="Odd.label is not a literal"):
        catalog._declarations()
    (tmp_path / "odd.py").write_text("class Odd(Base):\n    label = 'odd'\n")
    with pytest.raises(ValueError, match="Odd declares no 'name'"):
        catalog._declarations()
