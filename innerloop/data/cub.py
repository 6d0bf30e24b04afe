"""CUB-200-2011 birds, split by class index as in Chen et al. (2019), "A Closer Look at Few-shot Classification".

**Layout** (``datasets.cub.root``: the extracted ``CUB_200_2011/`` folder or
the folder containing it)::

    classes.txt              "<class id> <class folder>"         200 lines
    images.txt               "<image id> <class folder>/<file>"  11,788 lines
    image_class_labels.txt   "<image id> <class id>"             11,788 lines
    images/<class folder>/<file>.jpg

from ``CUB_200_2011.tgz`` (https://www.vision.caltech.edu/datasets/cub_200_2011/,
https://data.caltech.edu/records/65de6-vp158).  The counts (:data:`EXPECTED`),
that every listed image exists, and that each image's folder is the folder of
its class are checked.

**Splits.** As Chen et al.'s ``write_CUB_filelist.py``: the class folders are
sorted by name and class ``i`` (0-based) of that order is *base* (train) when
``i % 2 == 0``, *val* when ``i % 4 == 1`` and *novel* (test) when
``i % 4 == 3``: 100 / 50 / 50 classes.

**Images.** RGB (the few grayscale photographs are converted), resized to
``image_size`` x ``image_size`` (84 by default) with PIL's Lanczos filter,
without cropping; uint8 (3, S, S).  Class ids follow the sorted folder names,
images within a class the sorted file names; ``name`` is the class folder's
name (``001.Black_footed_Albatross``), ``alphabet`` is ``cub``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.data.sources import Source, check_image_size

SOURCE = Source(
    "cub",
    "https://www.vision.caltech.edu/datasets/cub_200_2011/ (CUB_200_2011.tgz, "
    "also at https://data.caltech.edu/records/65de6-vp158)",
)
NESTED = ("CUB_200_2011",)
LISTS = ("classes.txt", "images.txt", "image_class_labels.txt")
ALPHABET = "cub"


@dataclass(frozen=True)
class Expected:
    classes: int = 200
    images: int = 11788


EXPECTED = Expected()

LAYOUT = "classes.txt, images.txt, image_class_labels.txt and images/<class folder>/*.jpg of CUB_200_2011"


def split_of(index: int) -> str:
    """Chen et al.'s split of the class at position ``index`` of the sorted class folders."""
    if index % 2 == 0:
        return "train"
    return "val" if index % 4 == 1 else "test"


def _base(root: str | os.PathLike | None) -> Path:
    return SOURCE.nested(SOURCE.root(root, LAYOUT), "images.txt", NESTED, LAYOUT)


def source_paths(root: str | os.PathLike | None) -> list[Path]:
    """The three list files and the images folder, checked to exist."""
    base = _base(root)
    files = [SOURCE.file(base / name, f"the CUB list file {name} ({LAYOUT})") for name in LISTS]
    return [*files, SOURCE.directory(base / "images", f"the class folders of images ({LAYOUT})")]


def _read_pairs(path: Path, expected_count: int, what: str) -> dict[int, str]:
    """``id -> value`` of a ``"<id> <value>"`` list file."""
    pairs: dict[int, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        key, _, value = line.strip().partition(" ")
        if not key.isdigit() or not value or int(key) in pairs:
            raise SOURCE.error(path, f"lines '<id> <{what}>' with distinct ids", f"line {number} is {line!r}")
        pairs[int(key)] = value.strip()
    SOURCE.count(path, "lines", len(pairs), expected_count)
    return pairs


def load_cub(
    root: str | os.PathLike | None = None, image_size: int = 84
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 3, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    source_paths(root)
    base = _base(root)
    class_names = _read_pairs(base / "classes.txt", EXPECTED.classes, "class folder")
    image_paths = _read_pairs(base / "images.txt", EXPECTED.images, "class folder/file")
    image_labels = _read_pairs(base / "image_class_labels.txt", EXPECTED.images, "class id")
    if set(image_labels) != set(image_paths):
        raise SOURCE.error(base / "image_class_labels.txt", "a class for every image id of images.txt",
                           "the image ids differ from those of images.txt")

    folders = sorted(class_names.values())
    if len(set(folders)) != len(folders):
        raise SOURCE.error(base / "classes.txt", "distinct class folder names", "a class name repeats")
    members: dict[str, list[str]] = {folder: [] for folder in folders}
    for image_id, relative in image_paths.items():
        label = image_labels[image_id]
        folder = class_names.get(int(label)) if label.isdigit() else None
        if folder is None or Path(relative).parts[0] != folder:
            raise SOURCE.error(base / "images.txt", f"image {image_id} in the folder of its class {label}",
                               f"image {image_id} is {relative!r}, its class folder is {folder!r}")
        members[folder].append(relative)
    for folder in folders:
        SOURCE.directory(base / "images" / folder, f"the images of class {folder}")
        if not members[folder]:
            raise SOURCE.error(base / "images.txt", f"images of class {folder}", "the class has no images")
        for relative in members[folder]:
            SOURCE.file(base / "images" / relative, f"the image {relative} listed in images.txt")

    images, labels = [], []
    for class_id, folder in enumerate(folders):
        files = sorted(members[folder])
        images += [SOURCE.image(base / "images" / f, "RGB", image_size) for f in files]
        labels += [class_id] * len(files)
    classes = pd.DataFrame({
        "class_id": np.arange(len(folders), dtype=np.int64),
        "name": folders,
        "alphabet": ALPHABET,
        "split": [split_of(i) for i in range(len(folders))],
    })
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes
