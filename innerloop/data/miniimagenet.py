"""miniImageNet with the split of Ravi & Larochelle (2017), from either of its two usual forms.

**Layouts** (``datasets.miniimagenet.root``), chosen by ``format``:

* ``"csv"``: the split files ``train.csv``, ``val.csv``, ``test.csv`` of Ravi &
  Larochelle (https://github.com/twitter/meta-learning-lstm, ``data/miniImagenet``;
  header ``filename,label``, one row per image, the label a WordNet id) and an
  ``images/`` folder holding every listed file (the ImageNet images renamed as
  in the CSVs, e.g. ``n0153282900000005.jpg``).
* ``"pickle"``: ``mini-imagenet-cache-train.pkl``, ``-val.pkl``, ``-test.pkl`` (as
  distributed with https://github.com/renmengye/few-shot-ssl-public), each a dict
  with ``image_data`` (uint8 array (N, 84, 84, 3)) and ``class_dict`` (WordNet id
  -> list of row indices of ``image_data``).
* ``"auto"`` (default): the pickles when all three are present, else the CSVs.

**Counts** (checked, :data:`EXPECTED`): 64 / 16 / 20 classes in train / val /
test with 600 images each; a class in more than one split file, an image in
two classes or a missing image is an error.

**Images.** RGB, resized to ``image_size`` (84 by default) with PIL's Lanczos
filter (images already of that size are kept as they are); uint8 (3, S, S).

**Order.** Class ids follow the sorted WordNet ids (all splits together);
images within a class are sorted by file name (CSV) or by row index (pickle).
``name`` is the WordNet id, ``alphabet`` is ``miniimagenet``.

The pickles are read with :mod:`pickle`, which can run code from the file:
point ``root`` only at files from a trusted source.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.data.sources import Source, check_image_size, read_pickle, resize_array

SOURCE = Source(
    "miniimagenet",
    "the Ravi & Larochelle split files (https://github.com/twitter/meta-learning-lstm, "
    "data/miniImagenet/*.csv) plus the listed ImageNet images in images/, or the "
    "mini-imagenet-cache-{train,val,test}.pkl pickles (https://github.com/renmengye/few-shot-ssl-public)",
)
SPLIT_NAMES = ("train", "val", "test")
FORMATS = ("auto", "csv", "pickle")
ALPHABET = "miniimagenet"


@dataclass(frozen=True)
class Expected:
    classes: dict[str, int] = field(default_factory=lambda: {"train": 64, "val": 16, "test": 20})
    images_per_class: int = 600


EXPECTED = Expected()


def _pickle_name(split: str) -> str:
    return f"mini-imagenet-cache-{split}.pkl"


def _layouts() -> str:
    csvs = ", ".join(f"{s}.csv" for s in SPLIT_NAMES)
    pickles = ", ".join(_pickle_name(s) for s in SPLIT_NAMES)
    return f"either {csvs} with an images/ folder, or {pickles}"


def _format(base: Path, format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
    if format != "auto":
        return format
    if all((base / _pickle_name(s)).is_file() for s in SPLIT_NAMES):
        return "pickle"
    if any((base / f"{s}.csv").exists() for s in SPLIT_NAMES):
        return "csv"
    raise SOURCE.error(base, _layouts(), "found neither the split CSVs nor the pickles")


def source_paths(root: str | os.PathLike | None, format: str = "auto") -> list[Path]:
    """The files (and the images folder) the chosen format reads, checked to exist."""
    base = SOURCE.root(root, _layouts())
    if _format(base, format) == "pickle":
        return [SOURCE.file(base / _pickle_name(s), f"the {s} pickle ({_layouts()})") for s in SPLIT_NAMES]
    files = [SOURCE.file(base / f"{s}.csv", f"the Ravi-Larochelle {s} split file ({_layouts()})")
             for s in SPLIT_NAMES]
    return [*files, SOURCE.directory(base / "images", "the images listed in the split CSVs")]


def _read_csv(path: Path) -> dict[str, list[str]]:
    """WordNet id -> file names of one split CSV."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]] != ["filename", "label"]:
        raise SOURCE.error(path, "a CSV with the header 'filename,label'", "the header is missing or different")
    by_class: dict[str, list[str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0] or not row[1]:
            raise SOURCE.error(path, "rows 'filename,label'", f"line {number} is malformed: {row}")
        by_class.setdefault(row[1], []).append(row[0])
    return by_class


def _check_counts(path: Path, split: str, by_class: dict[str, list]) -> None:
    SOURCE.count(path, f"{split} classes", len(by_class), EXPECTED.classes[split])
    for wnid, members in by_class.items():
        SOURCE.count(path, f"images of class {wnid}", len(members), EXPECTED.images_per_class)
        if len(set(members)) != len(members):
            raise SOURCE.error(path, f"distinct images of class {wnid}", "an image is listed twice")


def _from_csv(base: Path, image_size: int) -> dict[str, tuple[str, np.ndarray]]:
    images_dir = base / "images"
    on_disk = {p.name for p in images_dir.iterdir()}
    listed: dict[str, tuple[str, list[str]]] = {}
    for split in SPLIT_NAMES:
        path = base / f"{split}.csv"
        by_class = _read_csv(path)
        _check_counts(path, split, by_class)
        for wnid, names in by_class.items():
            listed[wnid] = _add(listed, wnid, split, sorted(names), path)
            missing = [n for n in names if n not in on_disk]
            if missing:
                raise SOURCE.error(images_dir / missing[0], f"the image {missing[0]} listed in {path.name}",
                                   "the image file is missing")
    return {
        wnid: (split, np.stack([SOURCE.image(images_dir / n, "RGB", image_size) for n in names]))
        for wnid, (split, names) in listed.items()
    }


def _from_pickles(base: Path, image_size: int) -> dict[str, tuple[str, np.ndarray]]:
    result = {}
    for split in SPLIT_NAMES:
        path = base / _pickle_name(split)
        data = read_pickle(SOURCE, path, ("image_data", "class_dict"))
        pixels, class_dict = np.asarray(data["image_data"]), data["class_dict"]
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3:
            raise SOURCE.error(path, "image_data: a uint8 array (N, H, W, 3)",
                               f"image_data is {pixels.dtype} {pixels.shape}")
        if not isinstance(class_dict, dict):
            raise SOURCE.error(path, "class_dict: a dict WordNet id -> row indices",
                               f"class_dict is a {type(class_dict).__name__}")
        by_class = {str(k): [int(i) for i in v] for k, v in class_dict.items()}
        _check_counts(path, split, by_class)
        seen = np.zeros(len(pixels), dtype=bool)
        for wnid, rows in by_class.items():
            rows = sorted(rows)
            if rows[0] < 0 or rows[-1] >= len(pixels) or seen[rows].any() or len(set(rows)) != len(rows):
                raise SOURCE.error(path, f"class_dict indices into the {len(pixels)} rows of image_data, "
                                   "each row in one class", f"class {wnid} has invalid or shared indices")
            seen[rows] = True
            resized = np.stack([resize_array(pixels[i], "RGB", image_size) for i in rows])
            result[wnid] = _add(result, wnid, split, resized, path)
    return result


def _add(result: dict, wnid: str, split: str, members, path: Path) -> tuple:
    """``(split, members)`` for a class not yet seen in another split file."""
    if wnid in result:
        raise SOURCE.error(path, "each class in exactly one split",
                           f"class {wnid} is also in the {result[wnid][0]} split")
    return split, members


def load_miniimagenet(
    root: str | os.PathLike | None = None, image_size: int = 84, format: str = "auto"
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 3, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    source_paths(root, format)
    base = Path(root).expanduser()
    chosen = _format(base, format)
    by_class = _from_pickles(base, image_size) if chosen == "pickle" else _from_csv(base, image_size)
    wnids = sorted(by_class)
    images = np.concatenate([by_class[w][1] for w in wnids])
    labels = np.repeat(np.arange(len(wnids), dtype=np.int64), [len(by_class[w][1]) for w in wnids])
    classes = pd.DataFrame({
        "class_id": np.arange(len(wnids), dtype=np.int64),
        "name": wnids,
        "alphabet": ALPHABET,
        "split": [by_class[w][0] for w in wnids],
    })
    return images, labels, classes
