"""Which library code a workflow script runs, and the record of it that every job leaves.

A rule's output depends on its script and on every ``innerloop`` module that script imports,
directly or through other modules (imports inside functions included). The workflow passes
:func:`source_hash` of a script as a rule parameter, so editing one of those modules changes
the parameter and Snakemake reruns the rule's jobs and, through their outputs, everything
downstream; a module the script never imports leaves its jobs alone.

Each job also writes a code record for each of its outputs (:func:`write_job_record`):
the commit, whether the tree had uncommitted changes, and the source hash. The report reads
them back (:func:`read_records`) to say when results were made by different code.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from innerloop.io import write_text_atomic

PACKAGE = "innerloop"
#: Code records mirror the result tree: results/x/y.csv -> results/code_versions/x/y.csv.json.
RECORDS = Path("results/code_versions")
#: Modules that change no result: this one only writes the records.
NOT_HASHED = frozenset({"innerloop.code_version", "innerloop.devices"})


@functools.cache
def _module_file(root: Path, module: str) -> Path | None:
    """The source file of ``module`` (dotted) under ``root``, the directory holding the package."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy_names(tree: ast.Module) -> dict[str, str]:
    """A package's ``_LAZY = {"name": "module"}`` table (names its ``__getattr__`` imports on use)."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            return {k.value: v.value for k, v in zip(node.value.keys, node.value.values)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
    return {}


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(module, names imported from it) for every import statement anywhere in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield target, tuple(alias.name for alias in node.names)


# Parsed once per process and file: the workflow hashes some forty scripts at DAG time.
@functools.cache
def _parsed(path: Path, mtime_ns: int) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _tree(path: Path) -> ast.Module:
    return _parsed(path.resolve(), path.stat().st_mtime_ns)


@functools.cache
def _imports_cached(path: Path, mtime_ns: int, module: str, is_package: bool) -> tuple:
    return tuple(_imports(_parsed(path, mtime_ns), module, is_package))


def _imports_of(path: Path, module: str, is_package: bool) -> tuple:
    path = path.resolve()
    return _imports_cached(path, path.stat().st_mtime_ns, module, is_package)


def _lazy_of(package_file: Path) -> dict[str, str]:
    return _lazy_names(_tree(package_file))


def _loads_all_modules(package_file: Path) -> bool:
    """Whether a package imports every module of its own (``pkgutil.iter_modules(__path__)``,
    as innerloop.algorithms does to find its learners): then it depends on all of them."""
    for node in ast.walk(_tree(package_file)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "iter_modules"
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "__path__"):
            return True
    return False


def imported_modules(script: Path | str, root: Path | str) -> dict[str, Path]:
    """Every ``innerloop`` module that ``script`` imports, transitively: name -> source file.

    ``root`` is the directory that holds the ``innerloop`` package. Importing ``a.b.c`` runs
    ``a/__init__.py`` and ``a/b/__init__.py`` too, so those count; ``from pkg import name``
    also counts the module a package's lazy ``_LAZY`` table loads for ``name``, and a package
    that imports all of its modules (:func:`_loads_all_modules`) counts them all. The modules
    of :data:`NOT_HASHED` (and what only they import) do not count.
    """
    root = Path(root)
    found: dict[str, Path] = {}
    queue: list[tuple[Path, str, bool]] = [(Path(script), "__main__", False)]
    while queue:
        path, module, is_package = queue.pop()
        if is_package and _loads_all_modules(path):
            for file in sorted(path.parent.glob("*.py")):
                name = f"{module}.{file.stem}"
                if file.name != "__init__.py" and name not in found and name not in NOT_HASHED:
                    found[name] = file
                    queue.append((file, name, False))
        for target, names in _imports_of(path, module, is_package):
            if target.split(".")[0] != PACKAGE:
                continue
            parts = target.split(".")
            candidates = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
            candidates += [f"{target}.{name}" for name in names]  # from pkg import submodule
            package_file = _module_file(root, target)
            lazy = (_lazy_of(package_file) if names and package_file is not None
                    and package_file.name == "__init__.py" else {})
            candidates += [lazy[name] for name in names if name in lazy]
            for name in candidates:
                if name in NOT_HASHED:
                    continue
                file = _module_file(root, name)
                if file is not None and name not in found:
                    found[name] = file
                    queue.append((file, name, file.name == "__init__.py"))
    return dict(sorted(found.items()))


def source_hash(script: Path | str, root: Path | str) -> str:
    """sha256 (first 16 hex digits) of the sources of every ``innerloop`` module ``script`` imports.

    Only the modules' bytes and names count, not their paths on disk or mtimes, so a fresh
    clone of the same commit gives the same hash. The script itself does not count: Snakemake
    already reruns a rule whose script changed.
    """
    return _digest(imported_modules(script, root).items())


def _digest(named_files: Iterable[tuple[str, Path]]) -> str:
    """sha256 (first 16 hex digits) of each file's name and bytes, in the order given."""
    digest = hashlib.sha256()
    for name, file in named_files:
        digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def files_hash(paths: Iterable[Path | str], root: Path | str) -> str:
    """sha256 (first 16 hex digits) of the files at ``paths`` (relative to ``root``; a directory
    stands for every file under it): their relative names and bytes, not their mtimes.

    For what a script reads besides modules, such as the report's templates, style sheet and
    captions: as a rule parameter it reruns the rule when one of them changes.
    """
    root = Path(root)
    files: set[Path] = set()
    for path in paths:
        path = root / path
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: it was named as a source of a rule")
        if path.is_dir():
            files.update(f for f in path.rglob("*") if f.is_file())
        else:
            files.add(path)
    return _digest((file.relative_to(root).as_posix(), file) for file in sorted(files))


def git_state(directory: Path | str) -> tuple[str, bool]:
    """(commit, dirty) of the git checkout holding ``directory``; ("unknown", False) outside one.

    Dirty means a tracked file differs from the commit (untracked files do not count).
    """
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                                  check=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return "unknown", False
    return commit, bool(git("status", "--porcelain", "--untracked-files=no"))


def record_path(output: Path | str) -> Path:
    """Where the code record of ``output`` lives."""
    output = Path(output)
    relative = output.relative_to("results") if output.parts[:1] == ("results",) else output
    return RECORDS / relative.with_name(relative.name + ".json")


def job_record(rule: str, script: Path | str, root: Path | str) -> dict:
    """The code record of a job of ``rule`` that runs ``script`` with the package under ``root``."""
    commit, dirty = git_state(root)
    return {"rule": rule, "script": Path(script).name, "commit": commit, "dirty": dirty,
            "source_hash": source_hash(script, root),
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def running_script(script_dir: Path) -> Path:
    """The workflow script this process runs: Snakemake runs a copy named ``tmp<random>.<script name>``."""
    import __main__

    name = Path(getattr(__main__, "__file__", None) or "").name
    matches = [p for p in script_dir.glob("*.py") if name == p.name or name.endswith("." + p.name)]
    if len(matches) != 1:
        raise RuntimeError(f"cannot tell which script of {script_dir} the running {name or 'process'} is")
    return matches[0]


def write_job_record(snakemake) -> dict:
    """Write the code record of the running Snakemake script job for each of its outputs.

    The package root is the workflow's directory (the parent of ``workflow_scripts/``): the
    workflow puts it first on the jobs' ``PYTHONPATH``, so it is the code the job imports.
    """
    script_dir = Path(snakemake.scriptdir)
    record = job_record(snakemake.rule, running_script(script_dir), script_dir.parent)
    for output in snakemake.output:
        write_text_atomic(record_path(output), json.dumps(record, sort_keys=True) + "\n")
    return record


def open_job_log(snakemake):
    """The job's log, opened as ``sys.stderr`` and returned, after the job's code records
    (:func:`write_job_record`) are written; its first line names the code."""
    sys.stderr = open(snakemake.log[0], "w", buffering=1)
    log = sys.stderr
    record = write_job_record(snakemake)
    print(f"code: commit {record['commit']}{' (uncommitted changes)' if record['dirty'] else ''}, "
          f"library source {record['source_hash']}, innerloop from {Path(__file__).parent}", file=log)
    # A network job that asked for a GPU, on a machine with several: take one (innerloop.devices).
    if snakemake.resources.get("gpu", 0) and snakemake.params.get("device", "auto") in ("auto", "cuda"):
        from innerloop.devices import claim_gpu

        claimed = claim_gpu()
        if claimed is not None:
            print(f"gpu: CUDA device {claimed[0]} (slot {claimed[1]}), visible to this job as cuda", file=log)
    return log


def read_records(paths: Iterable[Path | str]) -> dict[str, dict]:
    """The code record of each of ``paths`` that has one: path -> record."""
    records = {}
    for path in paths:
        record = record_path(path)
        if record.is_file():
            records[str(path)] = json.loads(record.read_text())
    return records
