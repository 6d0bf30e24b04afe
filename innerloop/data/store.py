"""The prepared store: the single on-disk format every dataset is prepared into.

Every dataset, whatever its source (fonts rendered on the fly, a bundled
scikit-learn array, later on-disk image collections), is converted once into a
*store* directory, and everything downstream (the episodic task sampler in
particular) reads only stores.  Keeping one format means the sampler, the
checks and the provenance record are written once.

Layout of a store directory::

    images.npy     uint8 (N, C, H, W); ink is bright (255) on black (0)
    labels.npy     int64 (N,), class ids 0..K-1
    classes.csv    class_id,name,alphabet,split  (one row per class, sorted)
    manifest.json  dataset name, format version, shape, counts per split,
                   sha256 of the three data files, preparation parameters and,
                   for datasets read from disk, their source (root, file count,
                   listing checksum; see innerloop.data.sources)

Each file is written under a temporary name in the same directory and then
``os.replace``-d into place, and ``manifest.json`` is written last: a directory
without a manifest is an incomplete store, and a store whose files do not match
the manifest's checksums is corrupt (:class:`StoreCorruptError`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innerloop.io import sha256_file, write_bytes_atomic

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
CLASS_COLUMNS = ("class_id", "name", "alphabet", "split")
DATA_FILES = ("images.npy", "labels.npy", "classes.csv")
MANIFEST = "manifest.json"
LAYOUT = ", ".join((*DATA_FILES, MANIFEST))


class StoreCorruptError(ValueError):
    """A store's files do not match its manifest (checksum, shape or format)."""


class DatasetTooSmallError(ValueError):
    """A dataset has too few classes in a split, or images in a class, for the tasks asked of it."""


@dataclass(frozen=True, eq=False)
class Store:
    """A loaded store.  ``images`` and ``labels`` are read-only arrays."""

    images: np.ndarray
    labels: np.ndarray
    classes: pd.DataFrame
    manifest: dict[str, Any]
    path: Path
    _index_cache: dict[str, dict[int, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def dataset(self) -> str:
        return self.manifest["dataset"]

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    def class_ids(self, split: str) -> np.ndarray:
        """Sorted class ids of ``split``."""
        _check_split(split)
        ids = self.classes.loc[self.classes["split"] == split, "class_id"]
        return np.sort(ids.to_numpy(dtype=np.int64))

    def indices_by_class(self, split: str) -> dict[int, np.ndarray]:
        """Sorted image indices of each class of ``split`` (computed once per split)."""
        if split not in self._index_cache:
            ids = self.class_ids(split)
            order = np.argsort(self.labels, kind="stable")
            sorted_labels = self.labels[order]
            starts = np.searchsorted(sorted_labels, ids, side="left")
            ends = np.searchsorted(sorted_labels, ids, side="right")
            index = {}
            for class_id, start, end in zip(ids.tolist(), starts, ends):
                members = order[start:end]
                members.setflags(write=False)
                index[class_id] = members
            self._index_cache[split] = index
        return dict(self._index_cache[split])


def write_store(
    out_dir: str | os.PathLike,
    images: np.ndarray,
    labels: np.ndarray,
    classes: pd.DataFrame,
    dataset: str,
    params: dict[str, Any],
    source: dict[str, Any] | None = None,
) -> Path:
    """Validate the arrays and write them as a store in ``out_dir``; return its path.

    An existing store in ``out_dir`` is replaced: its manifest is removed first,
    so an interrupted rewrite leaves an incomplete (manifest-less) directory.
    ``source`` (JSON-serialisable), when given, is recorded as the manifest's
    ``source`` entry.
    """
    labels, classes = _validate(images, labels, classes)
    try:
        params_json = json.loads(json.dumps(params))
    except TypeError as error:
        raise ValueError(f"params must be JSON-serialisable: {error}") from error

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)

    csv_text = classes.to_csv(index=False, lineterminator="\n")
    digests = {
        "images.npy": _write_atomic(out / "images.npy", _npy_bytes(images)),
        "labels.npy": _write_atomic(out / "labels.npy", _npy_bytes(labels)),
        "classes.csv": _write_atomic(out / "classes.csv", csv_text.encode("utf-8")),
    }
    split_of_image = classes["split"].to_numpy()[labels]
    manifest = {
        "dataset": dataset,
        "format_version": FORMAT_VERSION,
        "shape": list(images.shape),
        "n_images": int(images.shape[0]),
        "n_classes": int(len(classes)),
        "split_counts": {
            split: {
                "classes": int((classes["split"] == split).sum()),
                "images": int((split_of_image == split).sum()),
            }
            for split in SPLITS
        },
        "sha256": digests,
        "params": params_json,
    }
    if source is not None:
        manifest["source"] = json.loads(json.dumps(source))
    _write_atomic(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return out


def content_digest(manifest: dict[str, Any]) -> str:
    """The sha256 of what a store holds: its format, shape and the sha256 of its data files.

    Not the preparation parameters or the source listing (file mtimes), so preparing the
    same images again gives the same digest.
    """
    content = {key: manifest[key] for key in ("format_version", "shape", "sha256")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def load_store(path: str | os.PathLike, verify: bool = True) -> Store:
    """Load the store at ``path``; with ``verify``, check every file's sha256."""
    root = Path(path)
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise FileNotFoundError(
            f"No prepared store at {root}: the directory does not exist. "
            f"A store is a directory holding {LAYOUT}; prepare the dataset first."
        )
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"No complete store at {root}: {manifest_path} is missing. A store is a "
            f"directory holding {LAYOUT}, and the manifest is written last, so the "
            "preparation did not finish; delete the directory and prepare it again."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), dict):
            raise ValueError("not a manifest object with a sha256 entry")
    except (ValueError, UnicodeDecodeError) as error:
        raise StoreCorruptError(
            f"{manifest_path} cannot be read ({error}): it is corrupt or truncated. "
            f"Delete the store directory {root} to re-prepare it."
        ) from error
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StoreCorruptError(
            f"{manifest_path} has format_version {manifest.get('format_version')!r}, "
            f"expected {FORMAT_VERSION}; delete {root} to re-prepare the store."
        )
    for name in DATA_FILES:
        file = root / name
        if not file.is_file():
            raise FileNotFoundError(
                f"Store {root} is incomplete: {file} is missing (expected {LAYOUT}); "
                "delete the directory to re-prepare it."
            )
        if verify:
            actual = sha256_file(file)
            expected = manifest["sha256"][name]
            if actual != expected:
                raise StoreCorruptError(
                    f"{name} in store {root} does not match manifest.json "
                    f"(sha256 {actual}, expected {expected}): the file is corrupt or was "
                    f"modified. Delete the store directory {root} to re-prepare it."
                )

    images = np.load(root / "images.npy", allow_pickle=False)
    labels = np.load(root / "labels.npy", allow_pickle=False)
    classes = pd.read_csv(
        root / "classes.csv",
        dtype={"class_id": np.int64, "name": str, "alphabet": str, "split": str},
        keep_default_na=False,
        encoding="utf-8",
    )
    if list(images.shape) != manifest["shape"] or labels.shape != (images.shape[0],):
        raise StoreCorruptError(
            f"Store {root}: images {images.shape} / labels {labels.shape} do not match "
            f"the manifest shape {manifest['shape']}; delete the store directory to "
            "re-prepare it."
        )
    images.setflags(write=False)
    labels.setflags(write=False)
    return Store(images=images, labels=labels, classes=classes, manifest=manifest, path=root)


def split_capacity(labels: np.ndarray, classes: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per split: (number of classes, fewest images of any of its classes; 0 without classes)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    out = {}
    for split in SPLITS:
        ids = classes.loc[classes["split"] == split, "class_id"].to_numpy(dtype=np.int64)
        out[split] = (int(len(ids)), int(counts[ids].min()) if len(ids) else 0)
    return out


def check_task_fits(
    labels: np.ndarray,
    classes: pd.DataFrame,
    *,
    dataset: str,
    ways: int,
    shots: int,
    queries: int,
    splits=SPLITS,
    embedded: tuple[int, int] | None = None,
) -> None:
    """Raise :class:`DatasetTooSmallError` unless every split in ``splits`` has at least
    ``ways`` classes and every class in it at least ``shots + queries`` images (a task
    draws distinct images for its support and query sets), and, with ``embedded`` =
    (classes, images per class) of the feature maps, the test split holds that many."""
    capacity = split_capacity(labels, classes)
    problems = []
    if embedded is not None:
        n_classes, fewest = capacity["test"]
        if n_classes < embedded[0]:
            problems.append(f"the 'test' split has {n_classes} classes, fewer than representations.classes = "
                            f"{embedded[0]}")
        elif fewest < embedded[1]:
            problems.append(f"a class of the 'test' split has only {fewest} images, fewer than "
                            f"representations.images_per_class = {embedded[1]}")
    for split in splits:
        n_classes, fewest = capacity[split]
        if n_classes < ways:
            problems.append(f"the {split!r} split has {n_classes} classes, fewer than ways = {ways}")
        elif fewest < shots + queries:
            problems.append(f"a class of the {split!r} split has only {fewest} images, fewer than "
                            f"shots + queries = {shots} + {queries} = {shots + queries}")
    if problems:
        raise DatasetTooSmallError(
            f"dataset {dataset!r} is too small for {ways}-way {shots}-shot tasks with {queries} queries: "
            + "; ".join(problems) + ". Lower the key named (task.ways / task.shots / task.queries / "
            "representations.*), or prepare more classes or images per class."
        )


def _validate(
    images: np.ndarray, labels: np.ndarray, classes: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """Check the store invariants; return int64 labels and classes sorted by id."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        got = getattr(images, "dtype", type(images).__name__)
        raise ValueError(f"images must be a uint8 numpy array, got {got}")
    if images.ndim != 4:
        raise ValueError(f"images must be 4-D (N, C, H, W), got shape {images.shape}")
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.shape != (images.shape[0],):
        raise ValueError(
            f"labels must have shape ({images.shape[0]},) to match images, got {labels.shape}"
        )
    missing = [c for c in CLASS_COLUMNS if c not in classes.columns]
    if missing:
        raise ValueError(
            f"classes is missing column(s) {missing}; expected {list(CLASS_COLUMNS)}"
        )
    classes = classes.loc[:, list(CLASS_COLUMNS)].sort_values("class_id", kind="stable")
    classes = classes.reset_index(drop=True)

    ids = classes["class_id"].to_numpy()
    duplicated = classes[classes["class_id"].duplicated(keep=False)]
    if len(duplicated):
        first = duplicated["class_id"].iloc[0]
        splits = sorted(set(duplicated.loc[duplicated["class_id"] == first, "split"]))
        raise ValueError(
            f"class {first} appears in more than one row of classes (splits {splits}); "
            "each class must have exactly one row and one split"
        )
    if not np.array_equal(ids, np.arange(len(classes))):
        gaps = sorted(set(range(len(classes))) - set(ids.tolist()))[:5]
        raise ValueError(
            f"class ids must be exactly 0..{len(classes) - 1} (one row per class); "
            f"missing ids include {gaps}"
        )
    bad_split = ~classes["split"].isin(SPLITS)
    if bad_split.any():
        row = classes[bad_split].iloc[0]
        raise ValueError(
            f"class {row['class_id']} ({row['name']!r}) has split {row['split']!r}; "
            f"every class needs one of {list(SPLITS)}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(
            f"labels must lie in 0..{len(classes) - 1}, got range {labels.min()}..{labels.max()}"
        )
    classes = classes.astype({"class_id": np.int64, "name": str, "alphabet": str, "split": str})
    return labels.astype(np.int64, copy=False), classes


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _write_atomic(target: Path, data: bytes) -> str:
    """Write ``data`` atomically to ``target``; return its sha256."""
    write_bytes_atomic(target, data)
    return hashlib.sha256(data).hexdigest()


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
