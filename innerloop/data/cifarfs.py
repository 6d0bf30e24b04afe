"""CIFAR-FS (Bertinetto et al. 2019) built from the CIFAR-100 python pickles.

**Layout** (``datasets.cifarfs.root``: the extracted ``cifar-100-python/``
folder or the folder containing it, e.g. torchvision's CIFAR-100 root)::

    train   pickled dict: data uint8 (50000, 3072), fine_labels, coarse_labels
    test    the same with 10,000 images
    meta    pickled dict: fine_label_names (100), coarse_label_names (20)

from ``cifar-100-python.tar.gz`` (https://www.cs.toronto.edu/~kriz/cifar.html).
The counts are checked (:data:`EXPECTED`): 50,000 + 10,000 images, 100
classes of 600 images (train and test files together).

**Splits.** The standard CIFAR-FS class split (the lists of Bertinetto et
al.'s ``r2d2`` repository, as shipped with torchmeta): :data:`TRAIN`,
:data:`VAL`, :data:`TEST` with 64 / 16 / 20 fine classes.  Every fine-label name
of ``meta`` must be in exactly one list.

**Images.** Each 3072-byte row is (3, 32, 32) RGB planes; images are resized
to ``image_size`` (32 by default: kept as they are) with PIL's Lanczos
filter, uint8 (3, S, S).  Class ids follow the sorted fine-label names, images
within a class the train file's order then the test file's; ``name`` is the
fine label, ``alphabet`` the CIFAR-100 superclass (coarse label) of the class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.data.sources import Source, check_image_size, read_pickle, resize_array

SOURCE = Source("cifarfs", "https://www.cs.toronto.edu/~kriz/cifar.html (cifar-100-python.tar.gz)")
NESTED = ("cifar-100-python",)
FILES = ("train", "test", "meta")
LAYOUT = "the CIFAR-100 python pickles train, test and meta (the cifar-100-python/ folder)"

TRAIN = (
    "apple", "aquarium_fish", "bear", "bee", "bottle", "bowl", "boy", "bridge", "bus", "can",
    "castle", "caterpillar", "chair", "clock", "cloud", "cockroach", "couch", "cup", "dinosaur",
    "dolphin", "elephant", "forest", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lawn_mower", "lion", "lizard", "lobster", "mountain", "mouse", "mushroom", "oak_tree",
    "orange", "orchid", "palm_tree", "pear", "pine_tree", "plate", "porcupine", "possum",
    "rabbit", "raccoon", "ray", "road", "seal", "shrew", "skunk", "skyscraper", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "tank", "tiger", "train", "trout", "tulip",
    "turtle", "willow_tree", "wolf",
)
VAL = (
    "beaver", "beetle", "butterfly", "camel", "cattle", "crab", "crocodile", "flatfish", "lamp",
    "maple_tree", "motorcycle", "otter", "sea", "shark", "television", "tractor",
)
TEST = (
    "baby", "bed", "bicycle", "chimpanzee", "fox", "leopard", "man", "pickup_truck", "plain",
    "poppy", "rocket", "rose", "snail", "sweet_pepper", "table", "telephone", "wardrobe",
    "whale", "woman", "worm",
)
SPLIT_OF = {**{c: "train" for c in TRAIN}, **{c: "val" for c in VAL}, **{c: "test" for c in TEST}}


@dataclass(frozen=True)
class Expected:
    images: tuple[int, int] = (50000, 10000)  # train, test files
    images_per_class: int = 600
    side: int = 32


EXPECTED = Expected()


def _base(root: str | os.PathLike | None) -> Path:
    return SOURCE.nested(SOURCE.root(root, LAYOUT), "meta", NESTED, LAYOUT)


def source_paths(root: str | os.PathLike | None) -> list[Path]:
    base = _base(root)
    return [SOURCE.file(base / name, f"the CIFAR-100 pickle {name} ({LAYOUT})") for name in FILES]


def _names(values) -> list[str]:
    return [v.decode("latin1") if isinstance(v, bytes) else str(v) for v in values]


def load_cifarfs(
    root: str | os.PathLike | None = None, image_size: int = 32
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 3, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    source_paths(root)
    base = _base(root)
    meta = read_pickle(SOURCE, base / "meta", ("fine_label_names", "coarse_label_names"))
    fine_names, coarse_names = _names(meta["fine_label_names"]), _names(meta["coarse_label_names"])
    if sorted(fine_names) != sorted(SPLIT_OF):
        unknown = sorted(set(fine_names) - set(SPLIT_OF))[:3]
        absent = sorted(set(SPLIT_OF) - set(fine_names))[:3]
        raise SOURCE.error(base / "meta", "the 100 CIFAR-100 fine label names of the CIFAR-FS split",
                           f"found {len(fine_names)} names (unknown {unknown}, absent {absent})")

    side = EXPECTED.side
    pixels, fine, coarse = [], [], []
    for name, expected in zip(("train", "test"), EXPECTED.images):
        path = base / name
        data = read_pickle(SOURCE, path, ("data", "fine_labels", "coarse_labels"))
        array = np.asarray(data["data"])
        if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != 3 * side * side:
            raise SOURCE.error(path, f"data: uint8 rows of {3 * side * side} bytes",
                               f"data is {array.dtype} {array.shape}")
        SOURCE.count(path, "images", len(array), expected)
        labels = np.asarray(data["fine_labels"], dtype=np.int64)
        groups = np.asarray(data["coarse_labels"], dtype=np.int64)
        if labels.shape != (len(array),) or groups.shape != (len(array),) or len(array) == 0 or not (
            0 <= labels.min() and labels.max() < len(fine_names)
            and 0 <= groups.min() and groups.max() < len(coarse_names)
        ):
            raise SOURCE.error(path, f"fine_labels in 0..{len(fine_names) - 1} and coarse_labels in "
                               f"0..{len(coarse_names) - 1}, one per image", "the labels do not match")
        pixels.append(array.reshape(-1, 3, side, side))
        fine.append(labels)
        coarse.append(groups)
    pixels, fine, coarse = np.concatenate(pixels), np.concatenate(fine), np.concatenate(coarse)

    order = sorted(range(len(fine_names)), key=lambda i: fine_names[i])
    images, labels, rows = [], [], []
    for class_id, label in enumerate(order):
        members = np.flatnonzero(fine == label)
        SOURCE.count(base, f"images of class {fine_names[label]} (train and test files)",
                     len(members), EXPECTED.images_per_class)
        superclasses = np.unique(coarse[members])
        if len(superclasses) != 1:
            raise SOURCE.error(base / "train", f"one coarse label for class {fine_names[label]}",
                               f"found {len(superclasses)}")
        images += [resize_array(pixels[i].transpose(1, 2, 0), "RGB", image_size) for i in members]
        labels.append(np.full(len(members), class_id, dtype=np.int64))
        name = fine_names[label]
        rows.append((class_id, name, coarse_names[superclasses[0]], SPLIT_OF[name]))
    classes = pd.DataFrame(rows, columns=["class_id", "name", "alphabet", "split"])
    return np.stack(images), np.concatenate(labels), classes
