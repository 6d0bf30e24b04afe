"""Each learner's declaration (innerloop/algorithms/base.py) against config/schema.yaml and the
tables derived from it: a schema that names, offers or defaults an algorithm differently fails.
The declarations as innerloop.catalog reads them from the source (without torch) must be the
classes' own. A learner is registered by its module alone: the registry finds it, and the
schema's algorithm lists and its options block are made from its declaration."""

import copy
import dataclasses
import inspect
import re
import sys
import textwrap

import pytest

import innerloop.algorithms as registry
from innerloop import catalog, config
from innerloop.algorithms import ALGORITHMS, DISPLAY_NAMES, LEARNERS, LEARNS_RATES
from innerloop.config import ConfigError, load_schema, validate_config
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
    orders = [cls.order for cls in LEARNERS]
    assert orders == sorted(orders) and len(set(orders)) == len(orders), "two learners share an order"


def test_the_registry_is_every_class_of_the_package_that_states_its_name():
    """And only those: a base class (MetaLearner, CoordinatewiseLearner) or an optimiser is not
    registered, and the names are distinct."""
    modules = [m for name, m in sys.modules.items() if name.startswith("innerloop.algorithms.")]
    stated = {cls for m in modules for cls in vars(m).values() if isinstance(cls, type)
              and issubclass(cls, registry.MetaLearner) and cls is not registry.MetaLearner and "name" in vars(cls)}
    assert stated == set(LEARNERS)
    assert len(ALGORITHMS) == len(LEARNERS)


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
    for attribute in ("name", "label", "order", "family", "color", "Options"):
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
        assert {field: getattr(declared, field) for field in catalog.FIELDS} == \
            {field: getattr(cls, field) for field in catalog.FIELDS}, cls
        assert declared.class_name == cls.__name__ and declared.module == f"innerloop/algorithms/{cls.__module__.rsplit('.', 1)[1]}.py"
        fields = dataclasses.fields(cls.Options)
        assert [(o.name, o.default) for o in declared.options] == [(f.name, f.default) for f in fields], cls
        assert [o.annotation for o in declared.options] == [str(f.type) for f in fields], cls
    assert catalog.DISPLAY_NAMES == DISPLAY_NAMES and catalog.LEARNS_RATES == LEARNS_RATES


def write_package(tmp_path, **modules):
    """A stand-in of innerloop/algorithms for the catalog: the real modules plus ``modules``."""
    for path in catalog.PACKAGE.glob("*.py"):
        (tmp_path / path.name).write_text(path.read_text())
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path


SKETCH = """
    from dataclasses import dataclass

    from innerloop.algorithms.maml import MAML


    class Sketch(MAML):
        name = "sketch"
        label = "Sketch"
        order = 15
        family = "meta"
        color = "#123456"
        sine_comparison = True
        inner_steps_sweep = False

        @dataclass(frozen=True)
        class Options:
            inner_lr: float = 0.05
            steps: int = 3
            tags: tuple[str, ...] = ("a",)
            rate: float | None = None
"""


@pytest.fixture
def fresh_schema():
    """The config's schema cache is cleared before and after the test."""
    config._schema.cache_clear(), config._validator.cache_clear()
    yield
    config._schema.cache_clear(), config._validator.cache_clear()


def test_a_new_learner_needs_only_its_module(tmp_path, monkeypatch, fresh_schema):
    """A learner in a new module of the package, and nothing else: the catalog lists it at its
    order, the schema offers it where its flags say, with an options block from its Options,
    and a config that uses it validates (and a wrong option value is refused)."""
    monkeypatch.setattr(catalog, "PACKAGE", write_package(tmp_path, sketch=SKETCH))
    declarations = catalog._declarations()
    assert [d.name for d in declarations][:3] == ["maml", "sketch", "fomaml"]
    monkeypatch.setattr(catalog, "DECLARATIONS", declarations)
    schema = load_schema()
    assert "sketch" in schema["properties"]["algorithms"]["items"]["enum"]
    assert "sketch" in schema["properties"]["sine"]["properties"]["comparison"]["properties"]["algorithms"]["items"]["enum"]
    assert "sketch" not in schema["properties"]["ablations"]["properties"]["inner_steps"]["properties"]["algorithms"]["items"]["enum"]
    block = schema["properties"]["algorithm_options"]["properties"]["sketch"]["properties"]
    assert block.pop("clip_grad_norm") == CLIP
    assert {k: (v["type"], v["default"]) for k, v in block.items()} == {
        "inner_lr": ("number", 0.05), "steps": ("integer", 3), "tags": ("array", ["a"]), "rate": (["number", "null"], None)}
    assert "Sketch.Options" in block["steps"]["description"]
    checked = validate_config({"algorithms": ["maml", "sketch"], "algorithm_options": {"sketch": {"steps": 4}}},
                              sources=False, stores=None)
    assert checked["algorithm_options"]["sketch"] == {"inner_lr": 0.05, "steps": 4, "tags": ["a"], "rate": None}
    with pytest.raises(ConfigError, match="'algorithm_options.sketch.steps'"):
        validate_config({"algorithms": ["sketch"], "algorithm_options": {"sketch": {"steps": 4.5}}},
                        sources=False, stores=None)


def test_the_registry_finds_a_learner_in_a_new_module(tmp_path, monkeypatch):
    """What innerloop.algorithms does at import, for a module it has not seen: it is registered
    at its order, with no line added to the package's __init__."""
    (tmp_path / "sketch.py").write_text(textwrap.dedent(SKETCH))
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "innerloop.algorithms.sketch", raising=False)
    try:
        found = registry._registered()
    finally:
        sys.modules.pop("innerloop.algorithms.sketch", None)
    assert [cls.name for cls in found] == ["maml", "sketch", *[cls.name for cls in LEARNERS[1:]]]


def test_an_option_the_schema_cannot_be_made_for_is_an_error_naming_it(tmp_path, monkeypatch, fresh_schema):
    odd = SKETCH.replace("rate: float | None = None", "rate: complex = 1j").replace("1j", "0")
    monkeypatch.setattr(catalog, "PACKAGE", write_package(tmp_path, sketch=odd))
    raw = copy.deepcopy(config.yaml.safe_load(config.SCHEMA_PATH.read_text()))
    with pytest.raises(ValueError, match="Sketch.Options.rate: annotation 'complex' has no config type; give "
                                         "algorithm_options.sketch a block"):
        config.with_algorithms(raw, catalog._declarations())
    no_default = SKETCH.replace("steps: int = 3", "steps: int")
    monkeypatch.setattr(catalog, "PACKAGE", write_package(tmp_path, sketch=no_default))
    with pytest.raises(ValueError, match="Sketch.Options.steps has no default"):
        config.with_algorithms(copy.deepcopy(raw), catalog._declarations())
    raw["properties"]["algorithms"]["items"]["x-algorithms"] = "sine_comparisons"
    with pytest.raises(ValueError, match="x-algorithms 'sine_comparisons' is neither 'registered' nor a declared field"):
        config.with_algorithms(raw, catalog.DECLARATIONS)


def test_the_catalog_fails_on_a_declaration_it_cannot_read(tmp_path, monkeypatch):
    (tmp_path / "base.py").write_text("class MetaLearner:\n    name = 'base'\n    label = ''\n    order = 0\n"
                                      "    family = 'meta'\n    learns_rates = False\n    sine_comparison = False\n"
                                      "    inner_steps_sweep = False\n")
    (tmp_path / "odd.py").write_text("class Odd(MetaLearner):\n    name = 'odd'\n    label = 'o' + 'dd'\n")
    monkeypatch.setattr(catalog, "PACKAGE", tmp_path)
    with pytest.raises(ValueError, match="Odd.label is not a literal"):
        catalog._declarations()
    (tmp_path / "odd.py").write_text("class Odd(MetaLearner):\n    name = 'odd'\n    label = 'odd'\n")
    with pytest.raises(ValueError, match="Odd declares no 'color'"):
        catalog._declarations()
