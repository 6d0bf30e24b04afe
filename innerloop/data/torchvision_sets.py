"""Few-shot tasks from torchvision's on-disk MNIST and CIFAR-10 files (the MAML feature study).

Agarwal's "Investigating MAML" builds few-shot tasks from MNIST and CIFAR-10 by
selecting examples of each class for the training, validation and test data.
Here the files are read where torchvision keeps them (nothing is downloaded;
``torchvision.datasets.MNIST(root, download=True)`` or
``CIFAR10(root, download=True)`` fetches them once), and a fixed class split
decides which classes each split samples tasks from.

**Layouts** (``datasets.<name>.root``: torchvision's root, or the folder below it):

* ``mnist``: ``MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (the
  uncompressed IDX files; the ``.gz`` files next to them are read when only
  those are present); 60,000 + 10,000 images of 28x28.
* ``cifar10``: ``cifar-10-batches-py/data_batch_1..5``, ``test_batch`` (pickled
  dicts with ``data`` uint8 (10000, 3072) and ``labels``) and ``batches.meta``
  (``label_names``); 50,000 + 10,000 images of 32x32 RGB.

The counts (:data:`EXPECTED`) and the IDX headers / pickle contents are checked.

**Class split** (``class_split``: split -> list of labels 0..9, default
:data:`DEFAULT_CLASS_SPLIT`: train 0-4, val 0-4, test 5-9).  A store class is a
(label, split) pair; its images:

* a label listed in one split only: all its images (train file, then test file);
* a label listed in ``train`` and other splits: ``train`` gets its train-file
  images, the other splits share its test-file images;
* the images shared by ``val`` and ``test`` are divided into two contiguous
  halves in file order (``numpy.array_split``): the first to val, the second to test.

So image sets never overlap, the default meta-tests on classes never seen in
training or validation (validation uses held-out images of the training
classes), and ``{train: [0..9], val: [0..9], test: [0..9]}`` reproduces the
study's all-classes setting with disjoint images.

**Images.** MNIST: 1 channel, ink bright on black as stored; CIFAR-10: RGB.
Resized to ``image_size`` with PIL's Lanczos filter (kept when already that
size), uint8.  Class ids follow (label, train/val/test); ``name`` is the
torchvision class name (``"3 - three"``, ``"cat"``), ``alphabet`` the dataset name.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.data.sources import Source, check_image_size, read_pickle, resize_array

SPLIT_NAMES = ("train", "val", "test")
N_LABELS = 10
DEFAULT_CLASS_SPLIT = {"train": [0, 1, 2, 3, 4], "val": [0, 1, 2, 3, 4], "test": [5, 6, 7, 8, 9]}

MNIST = Source(
    "mnist",
    "torchvision: torchvision.datasets.MNIST(root, download=True) "
    "(files from https://ossci-datasets.s3.amazonaws.com/mnist/)",
)
MNIST_NESTED = ("MNIST/raw", "raw")
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_NAMES = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine")
MNIST_LAYOUT = "MNIST/raw/ with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"

CIFAR10 = Source(
    "cifar10",
    "torchvision: torchvision.datasets.CIFAR10(root, download=True) "
    "(https://www.cs.toronto.edu/~kriz/cifar.html, cifar-10-python.tar.gz)",
)
CIFAR10_NESTED = ("cifar-10-batches-py",)
CIFAR10_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10_LAYOUT = "cifar-10-batches-py/ with data_batch_1..5, test_batch and batches.meta"


@dataclass(frozen=True)
class Expected:
    mnist: tuple[int, int] = (60000, 10000)  # train, test images
    cifar10_batch: int = 10000  # images per CIFAR-10 batch file


EXPECTED = Expected()


# ---------------------------------------------------------------- class split


def check_class_split(class_split: Mapping[str, Sequence[int]] | None) -> dict[str, list[int]]:
    """``class_split`` with every split present (missing ones empty), validated."""
    if class_split is None:
        class_split = DEFAULT_CLASS_SPLIT
    if not isinstance(class_split, Mapping) or set(class_split) - set(SPLIT_NAMES):
        raise ValueError(f"class_split must map some of {list(SPLIT_NAMES)} to label lists, got {class_split!r}")
    result = {}
    for split in SPLIT_NAMES:
        labels = list(class_split.get(split) or [])
        if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x < N_LABELS
               for x in labels) or len(set(labels)) != len(labels):
            raise ValueError(
                f"class_split.{split} must list distinct labels in 0..{N_LABELS - 1}, got {labels}"
            )
        result[split] = sorted(int(x) for x in labels)
    if not any(result.values()):
        raise ValueError("class_split lists no labels at all")
    return result


def split_images(
    labels: np.ndarray, in_test_file: np.ndarray, class_split: Mapping[str, Sequence[int]]
) -> list[tuple[int, str, np.ndarray]]:
    """``(label, split, image indices)`` of every store class, following the module's rules."""
    classes = []
    for label in range(N_LABELS):
        splits = [s for s in SPLIT_NAMES if label in class_split[s]]
        if not splits:
            continue
        members = np.flatnonzero(labels == label)
        test_file = members[in_test_file[members]]
        if "train" in splits and len(splits) > 1:
            classes.append((label, "train", members[~in_test_file[members]]))
            shared, others = test_file, splits[1:]
        else:
            shared, others = members, splits
        for split, part in zip(others, np.array_split(shared, len(others))):
            classes.append((label, split, part))
    return classes


def _assemble(pixels, labels, in_test_file, names, mode, image_size, class_split, alphabet, source, base):
    class_split = check_class_split(class_split)
    images, store_labels, rows = [], [], []
    for class_id, (label, split, members) in enumerate(split_images(labels, in_test_file, class_split)):
        if len(members) == 0:
            raise source.error(base, f"images of label {label} for the {split} split", "there are none")
        images += [resize_array(pixels[i], mode, image_size) for i in members]
        store_labels.append(np.full(len(members), class_id, dtype=np.int64))
        rows.append((class_id, names[label], alphabet, split))
    classes = pd.DataFrame(rows, columns=["class_id", "name", "alphabet", "split"])
    return np.stack(images), np.concatenate(store_labels), classes


# ---------------------------------------------------------------- MNIST


def _find_mnist(root) -> Path:
    base = MNIST.root(root, MNIST_LAYOUT)
    marker = MNIST_FILES["train"][0]
    for folder in (base, *(base / n for n in MNIST_NESTED)):
        if (folder / marker).exists() or (folder / f"{marker}.gz").exists():
            return folder
    raise MNIST.error(base, f"{MNIST_LAYOUT} (torchvision's layout below the root)",
                      f"MNIST/raw/{marker} is missing")


def _mnist_file(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise MNIST.error(folder / name, f"the MNIST IDX file {name} (or {name}.gz) of {MNIST_LAYOUT}",
                      "the file is missing")


def mnist_source_paths(root: str | os.PathLike | None) -> list[Path]:
    folder = _find_mnist(root)
    return [_mnist_file(folder, name) for pair in MNIST_FILES.values() for name in pair]


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """A uint8 IDX file (LeCun's MNIST format, big-endian header) as a numpy array."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    expected = f"an IDX file of unsigned bytes with {ndim} dimension(s) (magic 0x0000080{ndim})"
    if len(raw) < 4 + 4 * ndim or raw[:4] != bytes([0, 0, 8, ndim]):
        raise MNIST.error(path, expected, f"the header is {raw[:4].hex() or 'missing'}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise MNIST.error(path, f"{expected} holding {shape} bytes after the header",
                          f"found {data.size} bytes (truncated or padded)")
    return data.reshape(shape)


def load_mnist(
    root: str | os.PathLike | None = None,
    image_size: int = 28,
    class_split: Mapping[str, Sequence[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 1, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    check_class_split(class_split)
    mnist_source_paths(root)
    folder = _find_mnist(root)
    pixels, labels, in_test = [], [], []
    for (part, (image_name, label_name)), expected in zip(MNIST_FILES.items(), EXPECTED.mnist):
        image_path, label_path = _mnist_file(folder, image_name), _mnist_file(folder, label_name)
        images, targets = read_idx(image_path, 3), read_idx(label_path, 1)
        MNIST.count(image_path, "images", len(images), expected)
        MNIST.count(label_path, "labels", len(targets), expected)
        if images.shape[1:] != (28, 28):
            raise MNIST.error(image_path, "28x28 images", f"the images are {images.shape[1:]}")
        if targets.size and targets.max() >= N_LABELS:
            raise MNIST.error(label_path, f"labels 0..{N_LABELS - 1}", f"found label {targets.max()}")
        pixels.append(images)
        labels.append(targets.astype(np.int64))
        in_test.append(np.full(len(images), part == "test"))
    return _assemble(np.concatenate(pixels), np.concatenate(labels), np.concatenate(in_test),
                     MNIST_NAMES, "L", image_size, class_split, "mnist", MNIST, folder)


# ---------------------------------------------------------------- CIFAR-10


def _cifar10_base(root) -> Path:
    return CIFAR10.nested(CIFAR10.root(root, CIFAR10_LAYOUT), "batches.meta", CIFAR10_NESTED, CIFAR10_LAYOUT)


def cifar10_source_paths(root: str | os.PathLike | None) -> list[Path]:
    base = _cifar10_base(root)
    names = (*CIFAR10_BATCHES["train"], *CIFAR10_BATCHES["test"], "batches.meta")
    return [CIFAR10.file(base / n, f"the CIFAR-10 pickle {n} ({CIFAR10_LAYOUT})") for n in names]


def load_cifar10(
    root: str | os.PathLike | None = None,
    image_size: int = 32,
    class_split: Mapping[str, Sequence[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 3, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    check_class_split(class_split)
    cifar10_source_paths(root)
    base = _cifar10_base(root)
    meta = read_pickle(CIFAR10, base / "batches.meta", ("label_names",))
    names = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in meta["label_names"]]
    CIFAR10.count(base / "batches.meta", "label_names", len(names), N_LABELS)
    pixels, labels, in_test = [], [], []
    for part, batches in CIFAR10_BATCHES.items():
        for name in batches:
            path = base / name
            batch = read_pickle(CIFAR10, path, ("data", "labels"))
            data = np.asarray(batch["data"])
            targets = np.asarray(batch["labels"], dtype=np.int64)
            if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
                raise CIFAR10.error(path, "data: uint8 rows of 3072 bytes (3x32x32)",
                                    f"data is {data.dtype} {data.shape}")
            CIFAR10.count(path, "images", len(data), EXPECTED.cifar10_batch)
            if targets.shape != (len(data),) or (targets.size and not 0 <= targets.min() <= targets.max() < N_LABELS):
                raise CIFAR10.error(path, f"one label in 0..{N_LABELS - 1} per image", "the labels do not match")
            pixels.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(targets)
            in_test.append(np.full(len(data), part == "test"))
    return _assemble(np.concatenate(pixels), np.concatenate(labels), np.concatenate(in_test),
                     names, "RGB", image_size, class_split, "cifar10", CIFAR10, base)
