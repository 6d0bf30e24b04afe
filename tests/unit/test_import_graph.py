"""The library's layers point one way: no module of innerloop/ imports a layer above its own.

Every import counts: at module level and inside functions, ``import innerloop.x``,
``from innerloop.x import y`` (``y`` a submodule counts as ``innerloop.x.y``), relative
imports, and the names a package's ``_LAZY`` table imports on first use (as
:func:`innerloop.code_version.imported_modules` counts them). Importing a submodule also
runs its parents' ``__init__``; those implicit imports are not counted, so a package's
``__init__`` is checked only for what it imports itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "innerloop"

#: The layers, lowest first. A module may import its own layer and those below it.
LAYERS = (
    # Knows nothing of data, networks or learners: file layout and atomic, checked files,
    # run statuses (convergence, divergence), intervals, devices, job records, published numbers.
    "foundation",
    "data",
    "models",
    "algorithms",
    # Runs learners: the outer loop, scoring tasks (validation uses it), the sine study's
    # runs, tuning's choice among candidates; the package itself offers training's load.
    "training",
    "evaluation",
    "stats",
    "reporting",
    # The workflow's configuration, checked against what every layer knows.
    "workflow",
)

#: Module or sub-package (covering its submodules) -> layer; the longest matching name wins.
LAYER_OF = {
    "innerloop": "training",
    "innerloop.catalog": "foundation",  # reads the algorithms' source; imports none of it
    "innerloop.checkpoints": "foundation",
    "innerloop.code_version": "foundation",
    "innerloop.convergence": "foundation",
    "innerloop.devices": "foundation",
    "innerloop.divergence": "foundation",
    "innerloop.intervals": "foundation",
    "innerloop.io": "foundation",
    "innerloop.progress": "foundation",
    "innerloop.reference": "foundation",
    "innerloop.runs": "foundation",
    "innerloop.data": "data",
    "innerloop.models": "models",
    "innerloop.algorithms": "algorithms",
    "innerloop.scoring": "training",
    "innerloop.training": "training",
    "innerloop.tuning": "training",
    "innerloop.evaluation": "evaluation",
    "innerloop.job": "evaluation",  # a workflow job of one run: loads it for evaluation
    "innerloop.sine": "evaluation",
    "innerloop.stats": "stats",
    "innerloop.reporting": "reporting",
    "innerloop.config": "workflow",
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def layer_of(module: str, table: dict[str, str] = LAYER_OF) -> str | None:
    """The layer of ``module``: its own entry, else that of the longest sub-package holding it
    (the top package's entry covers only its ``__init__``); None when there is none."""
    if module in table:
        return table[module]
    parts = module.split(".")
    for i in range(len(parts) - 1, 1, -1):
        if ".".join(parts[:i]) in table:
            return table[".".join(parts[:i])]
    return None


def _lazy_table(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets)):
            return {name: target for name, target in _lazy_entries(node.value)}
    return {}


def _lazy_entries(node: ast.expr):
    """(name, module) pairs of a ``_LAZY`` dict literal, ``**dict.fromkeys([...], "module")`` included."""
    if not isinstance(node, ast.Dict):
        return
    for key, value in zip(node.keys, node.values):
        if key is None and isinstance(value, ast.Call) and len(value.args) == 2:  # **dict.fromkeys(names, module)
            names, target = value.args
            if isinstance(names, (ast.List, ast.Tuple)) and isinstance(target, ast.Constant):
                for name in names.elts:
                    yield name.value, target.value
        elif isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
            yield key.value, value.value


def imports(path: Path, module: str, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported innerloop module) for every import in ``path``, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            submodules = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known]
            found += [(node.lineno, name) for name in submodules or [target]]
    found += [(0, target) for target in _lazy_table(tree).values()]
    return [(line, name) for line, name in found if name.split(".")[0] == "innerloop"]


def upward_imports(package: Path = PACKAGE, table: dict[str, str] = LAYER_OF) -> list[str]:
    files = module_files(package)
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    problems = []
    for module, path in files.items():
        own = layer_of(module, table)
        for line, target in imports(path, module, set(files)):
            theirs = layer_of(target, table)
            if own is not None and theirs is not None and rank[theirs] > rank[own]:
                where = f"{path.relative_to(package.parent)}:{line}" if line else f"{path.relative_to(package.parent)} (_LAZY)"
                problems.append(f"{where}: {module} ({own}) imports {target} ({theirs})")
    return problems


def test_every_module_has_a_layer():
    unassigned = [m for m in module_files() if layer_of(m) is None]
    assert not unassigned, f"modules without a layer in LAYER_OF: {unassigned}"
    assert set(LAYER_OF.values()) <= set(LAYERS)


def test_no_module_imports_a_layer_above_its_own():
    problems = upward_imports()
    assert not problems, "imports of a higher layer:\n  " + "\n  ".join(problems)


def test_an_upward_import_inside_a_function_is_named(tmp_path):
    package = tmp_path / "innerloop"
    (package / "stats").mkdir(parents=True)
    (package / "__init__.py").write_text('_LAZY = {"load": "innerloop.reporting.render"}\n')
    (package / "io.py").write_text("def f():\n    from innerloop.stats import order\n")
    (package / "stats" / "__init__.py").write_text("from . import order\n")
    (package / "stats" / "order.py").write_text("import innerloop.reporting\n")
    (package / "reporting.py").write_text("from innerloop.io import f\n")
    table = {"innerloop": "training", "innerloop.io": "foundation", "innerloop.stats": "stats",
             "innerloop.reporting": "reporting"}
    assert upward_imports(package, table) == [
        "innerloop/__init__.py (_LAZY): innerloop (training) imports innerloop.reporting.render (reporting)",
        "innerloop/io.py:2: innerloop.io (foundation) imports innerloop.stats.order (stats)",
        "innerloop/stats/order.py:1: innerloop.stats.order (stats) imports innerloop.reporting (reporting)",
    ]


@pytest.mark.parametrize("module, layer", [("innerloop.stats.claims", "stats"), ("innerloop.runs", "foundation"),
                                           ("innerloop.evaluation", "evaluation"), ("innerloop", "training"),
                                           ("innerloop.nowhere", None)])
def test_a_module_takes_its_own_layer_or_its_sub_packages(module, layer):
    assert layer_of(module) == layer
