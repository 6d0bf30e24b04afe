"""The registered algorithms' declarations, read from their source without importing torch.

Planning the workflow, the statistics and the figures need what an algorithm declares (its
config name, label, family, colour, and whether it learns inner rates), not its code. Importing
:mod:`innerloop.algorithms` means importing torch, about 1.3 CPU-s per process: a cost that
every Snakemake start and each of a run's statistics, figure and report jobs would pay for five
strings. So this module reads the declarations from the package's source instead:

* the order is that of the ``LEARNERS`` tuple in ``innerloop/algorithms/__init__.py``;
* each field is the class-level literal assignment (``label = "MAML"``) in the learner's class,
  or else in the nearest base class of the package that assigns it, down to
  :class:`~innerloop.algorithms.base.MetaLearner`'s defaults, as Python's attribute lookup does.

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
FIELDS = ("name", "label", "family", "color", "learns_rates")


@dataclasses.dataclass(frozen=True)
class Declaration:
    """What one learner class declares (see :class:`innerloop.algorithms.base.MetaLearner`)."""

    name: str
    label: str
    family: str
    color: str
    learns_rates: bool


@dataclasses.dataclass(frozen=True)
class _Class:
    module: str
    base: str | None
    assigned: dict


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
            classes[node.name] = _Class(where, bases[0] if bases else None, _literal_assignments(node, where))
    return classes


def _registered_class_names() -> list[str]:
    """The class names of the ``LEARNERS`` tuple, in its order."""
    init = PACKAGE / "__init__.py"
    for node in ast.parse(init.read_text(), filename=str(init)).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "LEARNERS" and isinstance(node.value, ast.Tuple):
            return [element.id for element in node.value.elts]
    raise ValueError("innerloop/algorithms/__init__.py has no LEARNERS tuple of class names")


def _field(classes: dict[str, _Class], class_name: str, field: str):
    name = class_name
    while name is not None and name in classes:
        if field in classes[name].assigned:
            return classes[name].assigned[field]
        name = classes[name].base
    raise ValueError(f"{class_name} declares no {field!r}, nor does a base class of innerloop/algorithms")


def _declarations() -> tuple[Declaration, ...]:
    classes = _classes()
    return tuple(Declaration(**{field: _field(classes, cls, field) for field in FIELDS})
                 for cls in _registered_class_names())


#: Every registered learner's declaration, in the order of ``LEARNERS`` (the order tables list them).
DECLARATIONS: tuple[Declaration, ...] = _declarations()
#: Config name -> label (as :data:`innerloop.algorithms.DISPLAY_NAMES`).
DISPLAY_NAMES: dict[str, str] = {d.name: d.label for d in DECLARATIONS}
#: The algorithms whose inner rates are learned (as :data:`innerloop.algorithms.LEARNS_RATES`).
LEARNS_RATES: frozenset[str] = frozenset(d.name for d in DECLARATIONS if d.learns_rates)
#: Config name -> family ("transfer" or "meta").
FAMILIES: dict[str, str] = {d.name: d.family for d in DECLARATIONS}
#: Config name -> the algorithm's colour in every figure.
COLORS: dict[str, str] = {d.name: d.color for d in DECLARATIONS}
