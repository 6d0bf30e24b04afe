"""Dataset registry: dataset name -> builder, and preparing a named dataset into a store.

A builder is a function whose keyword arguments are the preparation
parameters and which returns ``(images uint8 (N, C, H, W), labels int64 (N,),
classes DataFrame)``.  :func:`prepare_dataset` calls it and writes the result
with :func:`innerloop.data.store.write_store`, recording every parameter
(defaults included) in the manifest.

Two kinds of dataset are registered:

* embedded (:data:`EMBEDDED`): built from files inside installed packages;
* on disk (:data:`SOURCES`): read from the directory ``root`` named in the
  config, never downloaded.  Each has a *source function* ``(root, ...) ->
  paths`` returning the files and folders its builder reads (checked to exist).
  Their manifest also records the source: the resolved ``root``, the number of
  source files and the sha256 of their listing (paths, sizes, modification
  times; :func:`innerloop.data.sources.source_fingerprint`), so a changed
  source is detected (:func:`is_stale`) and a workflow can re-prepare it when
  :func:`source_fingerprint_of` changes.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innerloop.data import cifarfs, cub, miniimagenet, omniglot, torchvision_sets
from innerloop.data.digits import load_digits_dataset
from innerloop.data.glyphs import render_glyphs
from innerloop.data.sources import DatasetSourceError, source_fingerprint
from innerloop.data.store import MANIFEST, SPLITS, check_task_fits, write_store

Builder = Callable[..., tuple[np.ndarray, np.ndarray, pd.DataFrame]]

EMBEDDED: dict[str, Builder] = {
    "glyphs": render_glyphs,
    "digits": load_digits_dataset,
}
ON_DISK: dict[str, Builder] = {
    "omniglot": omniglot.load_omniglot,
    "miniimagenet": miniimagenet.load_miniimagenet,
    "cub": cub.load_cub,
    "cifarfs": cifarfs.load_cifarfs,
    "mnist": torchvision_sets.load_mnist,
    "cifar10": torchvision_sets.load_cifar10,
}
DATASETS: dict[str, Builder] = {**EMBEDDED, **ON_DISK}

#: On-disk dataset -> its source function ``(root, [options]) -> files and folders it reads``.
SOURCES: dict[str, Callable[..., list[Path]]] = {
    "omniglot": omniglot.source_paths,
    "miniimagenet": miniimagenet.source_paths,
    "cub": cub.source_paths,
    "cifarfs": cifarfs.source_paths,
    "mnist": torchvision_sets.mnist_source_paths,
    "cifar10": torchvision_sets.cifar10_source_paths,
}


def get_builder(name: str) -> Builder:
    """The builder registered under ``name``."""
    if name not in DATASETS:
        raise ValueError(
            f"unknown dataset {name!r}; known datasets: {sorted(EMBEDDED)} (embedded) and "
            f"{sorted(ON_DISK)} (read from datasets.<name>.root)"
        )
    return DATASETS[name]


def _bind(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """All parameters of dataset ``name``'s builder, defaults filled in."""
    builder = get_builder(name)
    try:
        bound = inspect.signature(builder).bind(**params)
    except TypeError as error:
        accepted = list(inspect.signature(builder).parameters)
        raise ValueError(
            f"bad parameters for dataset {name!r}: {error}; accepted: {accepted}"
        ) from error
    bound.apply_defaults()
    return dict(bound.arguments)


def _source_paths(name: str, arguments: Mapping[str, Any]) -> tuple[Path, list[Path]]:
    """The root and the source paths of on-disk dataset ``name`` (checked to exist)."""
    function = SOURCES[name]
    accepted = inspect.signature(function).parameters
    paths = function(**{k: v for k, v in arguments.items() if k in accepted})
    return Path(arguments["root"]).expanduser(), paths


def check_source(name: str, options: Mapping[str, Any]) -> list[Path]:
    """The files and folders on-disk dataset ``name`` reads with ``options`` (its config
    block), checked to exist in the loader's layout; :class:`DatasetSourceError` otherwise.
    Cheap (no image is read): the workflow calls it before planning any job."""
    return _source_paths(name, _bind(name, options))[1]


def _source_record(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    root, paths = _source_paths(name, arguments)
    fingerprint = source_fingerprint(paths, root)
    return {
        "root": str(root.resolve()),
        "paths": [p.relative_to(root).as_posix() for p in paths],
        "files": fingerprint.files,
        "listing_sha256": fingerprint.listing_sha256,
    }


def _plain(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def prepare_dataset(name: str, params: Mapping[str, Any], out_dir: str | os.PathLike,
                    requirements: Mapping[str, Any] | None = None) -> Path:
    """Build dataset ``name`` with keyword arguments ``params`` and write it as a store.

    For an on-disk dataset the source is checked and fingerprinted first, and
    again after building; nothing is written unless the build succeeded on an
    unchanged source. ``requirements`` (:func:`task_requirements`: ways, shots, queries,
    splits), when given, are checked before anything is written
    (:class:`innerloop.data.store.DatasetTooSmallError`, with the numbers).
    """
    arguments = _bind(name, params)
    source = _source_record(name, arguments) if name in SOURCES else None
    images, labels, classes = DATASETS[name](**arguments)
    if requirements:
        check_task_fits(labels, classes, dataset=name, **requirements)
    if source is not None and _source_record(name, arguments) != source:
        raise RuntimeError(
            f"dataset {name!r}: the files under {source['root']} changed while the store was "
            "being prepared; nothing was written. Prepare it again once the source is complete."
        )
    params_json = {key: _plain(value) for key, value in arguments.items()}
    return write_store(out_dir, images, labels, classes, dataset=name, params=params_json,
                       source=source)


def task_requirements(config: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """What the workflow configured by ``config`` asks of dataset ``name``: the largest
    task (ways, the most shots, queries) on every split of the training dataset, and on
    the test split of a cross-domain test dataset; for the training dataset also the
    feature maps' (classes, images per class) of its test split; ``None`` for a dataset
    no task uses."""
    task = config["task"]
    if name == config["dataset"]:
        splits = list(SPLITS)
    elif any(pair["train"] == config["dataset"] and pair["test"] == name for pair in config.get("cross_domain", [])):
        splits = ["test"]
    else:
        return None
    requirements = {"ways": task["ways"], "shots": max(task["shots"]), "queries": task["queries"], "splits": splits}
    if name == config["dataset"] and "representations" in config:  # the feature maps' meta-test images
        requirements["embedded"] = (config["representations"]["classes"], config["representations"]["images_per_class"])
    return requirements


def source_fingerprint_of(name: str, options: Mapping[str, Any]) -> str:
    """A short string that changes whenever the source of dataset ``name`` changes.

    For the workflow: a rule parameter whose change makes Snakemake re-prepare
    the store.  ``""`` for embedded datasets; for on-disk ones
    ``"<files>:<listing sha256>"`` of the current source, or ``"unavailable"``
    when it is missing or malformed (preparing it then fails with the full message).
    """
    if name not in SOURCES:
        get_builder(name)
        return ""
    try:
        record = _source_record(name, _bind(name, options))
    except DatasetSourceError:
        return "unavailable"
    return f"{record['files']}:{record['listing_sha256']}"


def stale_reason(store_path: str | os.PathLike, source_dir: str | os.PathLike | None = None) -> str | None:
    """Why the store at ``store_path`` no longer matches its source, or ``None`` if it does.

    ``source_dir`` is the dataset's root as configured now (default: the root
    recorded in the store).  A store is stale when it is incomplete, when it was
    prepared from another root, or when the file count or listing checksum of
    the source files differs from the recorded one.  A store of an embedded
    dataset has no source and is never stale by its source (unless a
    ``source_dir`` is given, which it cannot match).
    """
    manifest_path = Path(store_path) / MANIFEST
    if not manifest_path.is_file():
        return f"no complete store at {store_path} ({MANIFEST} is missing)"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"{manifest_path} cannot be read ({error})"
    recorded = manifest.get("source")
    if recorded is None:
        return None if source_dir is None else f"the store at {store_path} records no source directory"
    name = manifest.get("dataset")
    if name not in SOURCES:
        return f"the store at {store_path} is of dataset {name!r}, which has no source function"
    root = Path(source_dir if source_dir is not None else recorded["root"]).expanduser()
    if str(root.resolve()) != recorded["root"]:
        return f"the store was prepared from {recorded['root']}, not {root.resolve()}"
    arguments = {**manifest.get("params", {}), "root": str(root)}
    try:
        current = _source_record(name, arguments)
    except DatasetSourceError as error:
        return f"the source is no longer usable: {error}"
    if current["files"] != recorded["files"]:
        return f"the source now has {current['files']} files, the store was prepared from {recorded['files']}"
    if current["listing_sha256"] != recorded["listing_sha256"]:
        return "files of the source were changed (their names, sizes or modification times differ)"
    return None


def is_stale(store_path: str | os.PathLike, source_dir: str | os.PathLike | None = None) -> bool:
    """Whether the store at ``store_path`` must be prepared again (see :func:`stale_reason`)."""
    return stale_reason(store_path, source_dir) is not None
