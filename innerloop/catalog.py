"""The registered algorithms' declarations, read from their source without importing torch.

Planning the workflow, the statistics and the figures need what an algorithm declares (its
config name, label, family, colour, and whether it learns inner rates), not its code. Importing
:mod:`innerloop.algorithms` means importing torch, about 1.3 CPU-s per process: a cost that
every Snakemake start and each of a run's statistics, figure and report jobs would pay for five
strings. So this module reads the declarations from the package's source instead:

* a learner is a class of the package that assigns its own ``name`` and has a base class in
  the package (so not :class:`~innerloop.algorithms.base.MetaLearner` itself), as
  :mod:`innerloop.algorithms` registers them; the order is their declared ``order``;
* each field is the class-level literal assignment (``label = "MAML"``) in the learner's class,
  or else in the nearest base class of the package that assigns it, down to
  :class:`~innerloop.algorithms.base.MetaLearner`'s defaults, as Python's attribute lookup does;
* its options are the annotated fields of its ``Options`` dataclass (its own, or the nearest
  base class's), with those of the ``X.Options`` it extends first, as dataclasses order them.

The learner classes stay the one place where an algorithm says these things; this is a second
way of reading them. tests/algorithms/test_declarations.py checks that the two readings agree
for every registered learner, and this module fails loudly on a declaration it cannot read (a
field that is not a literal, a class with two bases).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

#: The package whose source is read.
PACKAGE = Path(__file__).resolve().parent / "algorithms"
#: The declared fields read here (innerloop/algorithms/base.py documents each).
FIELDS = ("name", "label", "order", "family", "color", "learns_rates", "sine_comparison", "inner_steps_sweep")


@dataclasses.dataclass(frozen=True)
class Option:
    """One field of a learner's ``Options``: its name, its annotation (as written) and default."""

    name: str
    annotation: str
    default: object


@dataclasses.dataclass(frozen=True)
class Declaration:
    """What one learner class declares (see :class:`innerloop.algorithms.base.MetaLearner`)."""

    name: str
    label: str
    order: int
    family: str
    color: str
    learns_rates: bool
    sine_comparison: bool
    inner_steps_sweep: bool
    #: Its class and the file that defines it.
    class_name: str = ""
    module: str = ""
    options: tuple[Option, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Class:
    module: str
    base: str | None
    assigned: dict
    #: Its own ``Options``: (the class whose Options it extends, or None; its fields), a
    #: class whose options it takes (``Options = NoOptions``: "NoOptions"), or None.
    options: tuple[str | None, tuple[Option, ...]] | str | None = None


def _literal_assignments(node: ast.ClassDef, where: str) -> dict:
    assigned = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in FIELDS:
            try:
                assigned[target.id] = ast.literal_eval(value)
            except ValueError:
                raise ValueError(f"{where}: {node.name}.{target.id} is not a literal; innerloop.catalog reads "
                                 "declarations without running the module") from None
    return assigned


def _options(node: ast.ClassDef, where: str) -> tuple[str | None, tuple[Option, ...]] | str | None:
    """The ``Options`` a learner class defines in its body (see :attr:`_Class.options`)."""
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Options":
            extends = None
            if statement.bases:
                base = statement.bases[0]
                if not (isinstance(base, ast.Attribute) and base.attr == "Options" and isinstance(base.value, ast.Name)):
                    raise ValueError(f"{where}: {node.name}.Options extends {ast.unparse(base)}; innerloop.catalog "
                                     "follows only another learner's X.Options")
                extends = base.value.id
            fields = []
            for field in statement.body:
                if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name):
                    try:
                        default = ast.literal_eval(field.value) if field.value is not None else dataclasses.MISSING
                    except ValueError:
                        raise ValueError(f"{where}: the default of {node.name}.Options.{field.target.id} is not a "
                                         "literal") from None
                    fields.append(Option(field.target.id, ast.unparse(field.annotation), default))
            return extends, tuple(fields)
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == "Options"
                and isinstance(statement.value, ast.Name)):
            return statement.value.id
    return None


def _classes() -> dict[str, _Class]:
    """Every class defined at the top of a module of the package, by name."""
    classes: dict[str, _Class] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        where = f"innerloop/algorithms/{path.name}"
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            if len(node.bases) > 1:
                raise ValueError(f"{where}: {node.name} has {len(node.bases)} bases; innerloop.catalog follows one")
            if node.name in classes:
                raise ValueError(f"{where}: a second class named {node.name} (also in {classes[node.name].module})")
            classes[node.name] = _Class(where, bases[0] if bases else None, _literal_assignments(node, where),
                                        _options(node, where))
    return classes


def _registered_class_names(classes: dict[str, _Class]) -> list[str]:
    """The learners (a class with its own ``name`` and a base in the package), by ``order``."""
    learners = [name for name, cls in classes.items() if "name" in cls.assigned and cls.base in classes]
    return sorted(learners, key=lambda name: _field(classes, name, "order"))


def _field(classes: dict[str, _Class], class_name: str, field: str):
    name = class_name
    while name is not None and name in classes:
        if field in classes[name].assigned:
            return classes[name].assigned[field]
        name = classes[name].base
    raise ValueError(f"{class_name} declares no {field!r}, nor does a base class of innerloop/algorithms")


def _option_fields(classes: dict[str, _Class], class_name: str) -> tuple[Option, ...]:
    """The fields of the ``Options`` that ``class_name`` has, as ``dataclasses.fields`` lists them."""
    name = class_name
    while name is not None and name in classes and classes[name].options is None:
        name = classes[name].base
    if name is None or name not in classes:
        return ()
    options = classes[name].options
    if isinstance(options, str):  # Options = NoOptions (or another class's): no fields of its own
        return () if options not in classes else _option_fields(classes, options)
    extends, own = options
    inherited = list(_option_fields(classes, extends)) if extends else []
    names = [o.name for o in inherited]
    for option in own:  # a redefined field keeps its place, as in a dataclass
        if option.name in names:
            inherited[names.index(option.name)] = option
        else:
            inherited.append(option)
            names.append(option.name)
    return tuple(inherited)


def _declarations() -> tuple[Declaration, ...]:
    classes = _classes()
    return tuple(Declaration(**{field: _field(classes, cls, field) for field in FIELDS}, class_name=cls,
                             module=classes[cls].module, options=_option_fields(classes, cls))
                 for cls in _registered_class_names(classes))


#: Every registered learner's declaration, by ``order`` (the order tables list them, as ``LEARNERS``).
DECLARATIONS: tuple[Declaration, ...] = _declarations()
#: Config name -> label (as :data:`innerloop.algorithms.DISPLAY_NAMES`).
DISPLAY_NAMES: dict[str, str] = {d.name: d.label for d in DECLARATIONS}
#: The algorithms whose inner rates are learned (as :data:`innerloop.algorithms.LEARNS_RATES`).
LEARNS_RATES: frozenset[str] = frozenset(d.name for d in DECLARATIONS if d.learns_rates)
#: Config name -> family ("transfer" or "meta").
FAMILIES: dict[str, str] = {d.name: d.family for d in DECLARATIONS}
#: Config name -> the algorithm's colour in every figure.
COLORS: dict[str, str] = {d.name: d.color for d in DECLARATIONS}
