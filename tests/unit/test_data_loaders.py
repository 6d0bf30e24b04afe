"""On-disk dataset loaders: tiny fixtures in each real layout, built inside the tests.

Each loader refuses sources whose counts differ from the real dataset's
(module constant ``EXPECTED``); the fixtures have a handful of classes, so the
tests patch ``EXPECTED`` to the fixture's counts, and one test per loader
checks that the real counts are demanded by default.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import pathlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from innerloop.data import cifarfs, cub, miniimagenet, omniglot, torchvision_sets
from innerloop.data.registry import (
    DATASETS,
    is_stale,
    prepare_dataset,
    source_fingerprint_of,
    stale_reason,
)
from innerloop.data.sampler import TaskSampler
from innerloop.data.sources import DatasetSourceError, to_array
from innerloop.data.store import SPLITS, load_store, write_store


def _split_names(store) -> dict[str, set[str]]:
    return {s: set(store.classes.loc[store.classes["split"] == s, "name"]) for s in SPLITS}


def _assert_failed_cleanly(out: Path) -> None:
    """A failed preparation writes nothing (not even the directory)."""
    assert not out.exists()


def _prepare_fails(name, options, out, *fragments) -> str:
    with pytest.raises(DatasetSourceError) as caught:
        prepare_dataset(name, options, out)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    _assert_failed_cleanly(out)
    return message


def _sample(store, split, ways, shots=1, queries=1):
    task = TaskSampler(store, split, ways=ways, shots=shots, queries=queries, seed=0).task(3)
    assert task.support_x.shape == (ways * shots, *store.image_shape)
    assert task.support_x.dtype == torch.float32 and 0 <= task.support_x.min() <= task.support_x.max() <= 1
    assert set(task.classes) <= set(store.class_ids(split).tolist())
    return task


# ================================================================ Omniglot

# Background alphabets sort as ["Zeta", "alpha", "beta"] (upper case first), evaluation as
# ["Delta", "gamma"]; 4 drawings per character.
OMNI_BACKGROUND = {"alpha": 2, "Zeta": 2, "beta": 1}
OMNI_EVALUATION = {"gamma": 3, "Delta": 2}
OMNI_DRAWINGS = 4
OMNI_EXPECTED = omniglot.Expected(
    alphabets={"images_background": 3, "images_evaluation": 2},
    characters={"images_background": 5, "images_evaluation": 5},
    drawings=OMNI_DRAWINGS,
    vinyals=(4, 3, 3),
)


def write_omniglot(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for set_name, alphabets in (("images_background", OMNI_BACKGROUND), ("images_evaluation", OMNI_EVALUATION)):
        for alphabet, n_characters in alphabets.items():
            for c in range(1, n_characters + 1):
                folder = root / set_name / alphabet / f"character{c:02d}"
                folder.mkdir(parents=True)
                for d in range(OMNI_DRAWINGS):
                    strokes = rng.random((105, 105)) < 0.1  # black strokes on white, mode "1"
                    Image.fromarray(~strokes).save(folder / f"{c:02d}{d:02d}_{d + 1:02d}.png")
    return root


@pytest.fixture
def omni(tmp_path, monkeypatch):
    monkeypatch.setattr(omniglot, "EXPECTED", OMNI_EXPECTED)
    return write_omniglot(tmp_path / "omniglot")


def test_omniglot_background_split_and_images(omni, tmp_path):
    store = load_store(prepare_dataset("omniglot", {"root": omni, "val_alphabets": 1}, tmp_path / "s"))
    assert store.images.shape == (10 * OMNI_DRAWINGS, 1, 28, 28) and store.images.dtype == np.uint8
    names = _split_names(store)
    assert names["train"] == {"Zeta/character01", "Zeta/character02", "alpha/character01", "alpha/character02"}
    assert names["val"] == {"beta/character01"}  # the last background alphabet in sorted order
    assert names["test"] == {f"gamma/character0{i}" for i in (1, 2, 3)} | {"Delta/character01", "Delta/character02"}
    # Class ids follow the sorted (set, alphabet, character) order.
    assert store.classes["name"].tolist()[:3] == ["Zeta/character01", "Zeta/character02", "alpha/character01"]
    assert store.classes["alphabet"].tolist()[0] == "Zeta"
    # Image pixels: the drawing inverted (ink bright) and Lanczos-resized, drawings in name order.
    first = sorted((omni / "images_background" / "Zeta" / "character01").iterdir())[0]
    with Image.open(first) as image:
        expected = to_array(image, "L", 28, invert=True)
    assert np.array_equal(store.images[store.indices_by_class("train")[0][0]], expected)
    assert store.images.mean() < 80  # mostly dark background, bright strokes
    manifest = store.manifest
    assert manifest["params"] == {"root": str(omni), "image_size": 28, "split": "background",
                                  "rotations": [0], "val_alphabets": 1}
    assert manifest["source"]["files"] == 10 * OMNI_DRAWINGS
    assert manifest["source"]["root"] == str(omni.resolve())
    assert manifest["source"]["paths"] == ["images_background", "images_evaluation"]
    task = _sample(store, "train", ways=3, shots=2, queries=2)
    assert task.query_x.shape == (6, 1, 28, 28)


def test_omniglot_vinyals_split_follows_sorted_order(omni, tmp_path):
    store = load_store(prepare_dataset("omniglot", {"root": omni, "split": "vinyals", "image_size": 20},
                                       tmp_path / "s"))
    names = _split_names(store)
    # Sorted order: Zeta 1-2, alpha 1-2, beta 1 | Delta 1-2, gamma 1-3; sizes 4 / 3 / 3.
    assert names["train"] == {"Zeta/character01", "Zeta/character02", "alpha/character01", "alpha/character02"}
    assert names["val"] == {"beta/character01", "Delta/character01", "Delta/character02"}
    assert names["test"] == {"gamma/character01", "gamma/character02", "gamma/character03"}
    assert store.image_shape == (1, 20, 20)
    assert not any(names[a] & names[b] for a, b in (("train", "val"), ("train", "test"), ("val", "test")))


def test_omniglot_listing_order_does_not_matter(omni, tmp_path, monkeypatch):
    plain = load_store(prepare_dataset("omniglot", {"root": omni, "split": "vinyals"}, tmp_path / "a"))
    original = pathlib.Path.iterdir
    monkeypatch.setattr(pathlib.Path, "iterdir", lambda self: iter(sorted(original(self), reverse=True)))
    reversed_ = load_store(prepare_dataset("omniglot", {"root": omni, "split": "vinyals"}, tmp_path / "b"))
    assert plain.classes.equals(reversed_.classes)
    assert np.array_equal(plain.images, reversed_.images) and np.array_equal(plain.labels, reversed_.labels)


def test_omniglot_rotations_are_new_classes(omni, tmp_path):
    store = load_store(prepare_dataset("omniglot", {"root": omni, "rotations": [0, 90, 180], "val_alphabets": 1},
                                       tmp_path / "s"))
    assert len(store.classes) == 30 and store.manifest["split_counts"]["val"]["classes"] == 3
    names = store.classes["name"].tolist()
    assert names[:3] == ["Zeta/character01", "Zeta/character01/rot90", "Zeta/character01/rot180"]
    upright, turned = (store.images[store.labels == k] for k in (0, 1))
    assert np.array_equal(turned, np.rot90(upright, k=1, axes=(2, 3)))
    assert not np.array_equal(turned, upright)
    assert set(store.classes.loc[store.classes["name"].str.startswith("gamma"), "split"]) == {"test"}


def test_omniglot_errors_name_path_expectation_and_source(omni, tmp_path):
    out = tmp_path / "out"
    OK = {"root": omni, "val_alphabets": 1}
    where = "github.com/brendenlake/omniglot"
    _prepare_fails("omniglot", {}, out, "datasets.omniglot.root is not set", where)
    _prepare_fails("omniglot", {"root": tmp_path / "nowhere"}, out, str(tmp_path / "nowhere"), where)

    character = omni / "images_background" / "alpha" / "character01"
    drawing = sorted(character.iterdir())[0]
    drawing.write_bytes(b"not a png at all")
    _prepare_fails("omniglot", OK, out, str(drawing), "cannot be read", where)
    Image.new("1", (50, 50), 1).save(drawing)
    _prepare_fails("omniglot", OK, out, str(drawing), "a 105x105 image", "50x50")
    drawing.unlink()
    _prepare_fails("omniglot", OK, out, str(character), f"expected there: {OMNI_DRAWINGS} PNG drawings",
                   "found 3 PNG drawings")

    evaluation = omni / "images_evaluation"
    evaluation.rename(tmp_path / "moved")
    _prepare_fails("omniglot", OK, out, str(evaluation), "folder is missing", where)


def test_omniglot_demands_the_real_counts_by_default(tmp_path, monkeypatch):
    root = write_omniglot(tmp_path / "omniglot")
    _prepare_fails("omniglot", {"root": root}, tmp_path / "out", str(root / "images_background"),
                   "expected there: 30 alphabet folders", "found 3 alphabet folders")
    monkeypatch.setattr(omniglot, "EXPECTED", OMNI_EXPECTED)
    with pytest.raises(ValueError, match="val_alphabets must lie in 1..2"):
        prepare_dataset("omniglot", {"root": root}, tmp_path / "out")  # 5 of 3 alphabets
    with pytest.raises(ValueError, match="rotations"):
        prepare_dataset("omniglot", {"root": root, "rotations": [45]}, tmp_path / "out")


# ================================================================ miniImageNet

MINI_CLASSES = {"train": ["n03", "n01", "n05"], "val": ["n04", "n02"], "test": ["n07", "n06"]}
MINI_PER_CLASS = 3
MINI_EXPECTED = miniimagenet.Expected(classes={"train": 3, "val": 2, "test": 2}, images_per_class=MINI_PER_CLASS)


def _mini_pixels(wnid: str, j: int, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng([int(wnid[1:]), j])
    return rng.integers(0, 256, (*size, 3), dtype=np.uint8)


def write_mini_csv(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    for split, wnids in MINI_CLASSES.items():
        rows = ["filename,label"]
        for wnid in wnids:
            for j in reversed(range(MINI_PER_CLASS)):  # listed out of order on purpose
                name = f"{wnid}{j:08d}.jpg"
                Image.fromarray(_mini_pixels(wnid, j, (30, 40))).save(root / "images" / name, quality=95)
                rows.append(f"{name},{wnid}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    return root


def write_mini_pickles(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for split, wnids in MINI_CLASSES.items():
        images, class_dict = [], {}
        for k, wnid in enumerate(wnids):
            class_dict[wnid] = [k + len(wnids) * j for j in range(MINI_PER_CLASS)]  # interleaved rows
        rows = sorted((i, wnid, j) for wnid, idx in class_dict.items() for j, i in enumerate(idx))
        images = np.stack([_mini_pixels(wnid, j, (84, 84)) for _, wnid, j in rows])
        with open(root / f"mini-imagenet-cache-{split}.pkl", "wb") as handle:
            pickle.dump({"image_data": images, "class_dict": class_dict}, handle, protocol=2)
    return root


@pytest.fixture
def mini_expected(monkeypatch):
    monkeypatch.setattr(miniimagenet, "EXPECTED", MINI_EXPECTED)


def test_miniimagenet_from_csv(tmp_path, mini_expected):
    root = write_mini_csv(tmp_path / "mini")
    store = load_store(prepare_dataset("miniimagenet", {"root": root}, tmp_path / "s"))
    assert store.images.shape == (7 * MINI_PER_CLASS, 3, 84, 84)
    assert store.classes["name"].tolist() == sorted(w for ws in MINI_CLASSES.values() for w in ws)
    assert _split_names(store) == {s: set(w) for s, w in MINI_CLASSES.items()}
    assert store.manifest["source"]["paths"] == ["train.csv", "val.csv", "test.csv", "images"]
    # Images of a class in file-name order, resized with Lanczos from the JPEG.
    with Image.open(root / "images" / "n0100000000.jpg") as image:
        assert np.array_equal(store.images[0], to_array(image, "RGB", 84))
    _sample(store, "val", ways=2, shots=1, queries=2)


def test_miniimagenet_from_pickles_matches_the_arrays(tmp_path, mini_expected):
    root = write_mini_pickles(tmp_path / "mini")
    write_mini_csv(tmp_path / "mini")  # both layouts present: "auto" reads the pickles
    store = load_store(prepare_dataset("miniimagenet", {"root": root}, tmp_path / "s"))
    assert store.manifest["source"]["paths"] == [f"mini-imagenet-cache-{s}.pkl" for s in SPLITS]
    assert _split_names(store) == {s: set(w) for s, w in MINI_CLASSES.items()}
    for class_id, wnid in enumerate(store.classes["name"]):
        pixels = store.images[store.labels == class_id]
        expected = np.stack([_mini_pixels(wnid, j, (84, 84)).transpose(2, 0, 1) for j in range(MINI_PER_CLASS)])
        assert np.array_equal(pixels, expected)  # 84x84 sources are stored unchanged
    small = load_store(prepare_dataset("miniimagenet", {"root": root, "format": "csv", "image_size": 32},
                                       tmp_path / "c"))
    assert small.image_shape == (3, 32, 32) and small.manifest["source"]["paths"][-1] == "images"


def test_miniimagenet_errors(tmp_path, mini_expected, monkeypatch):
    out = tmp_path / "out"
    where = "twitter/meta-learning-lstm"
    empty = tmp_path / "empty"
    empty.mkdir()
    _prepare_fails("miniimagenet", {"root": empty}, out, str(empty), "train.csv", "mini-imagenet-cache-train.pkl", where)

    root = write_mini_csv(tmp_path / "csv")
    image = root / "images" / "n0600000001.jpg"
    image.write_bytes(image.read_bytes()[:40])  # truncated JPEG
    _prepare_fails("miniimagenet", {"root": root}, out, str(image), "cannot be read")
    image.unlink()
    _prepare_fails("miniimagenet", {"root": root}, out, str(image), "the image file is missing")

    root = write_mini_csv(tmp_path / "csv2")
    text = (root / "val.csv").read_text()
    (root / "val.csv").write_text(text + "n0300000000.jpg,n03\n" * MINI_PER_CLASS)  # a train class again
    _prepare_fails("miniimagenet", {"root": root}, out, str(root / "val.csv"), "found 3 val classes")
    (root / "val.csv").write_text(text.replace("n02", "n03"))
    _prepare_fails("miniimagenet", {"root": root}, out, "each class in exactly one split", "also in the train split")
    (root / "val.csv").write_text(text.replace("filename,label", "file,wnid"))
    _prepare_fails("miniimagenet", {"root": root}, out, "header 'filename,label'")

    root = write_mini_pickles(tmp_path / "pkl")
    with open(root / "mini-imagenet-cache-test.pkl", "wb") as handle:
        pickle.dump({"images": np.zeros((1, 84, 84, 3), np.uint8)}, handle)
    _prepare_fails("miniimagenet", {"root": root}, out, str(root / "mini-imagenet-cache-test.pkl"),
                   "image_data", "class_dict", "few-shot-ssl-public")

    monkeypatch.setattr(miniimagenet, "EXPECTED", miniimagenet.Expected())
    root = write_mini_pickles(tmp_path / "pkl2")
    _prepare_fails("miniimagenet", {"root": root}, out, "expected there: 64 train classes", "found 3 train classes")


# ================================================================ CUB

CUB_FOLDERS = [f"{i:03d}.{name}" for i, name in enumerate(
    ["Albatross", "Tern", "Wren", "Crow", "Gull", "Owl", "Finch", "Heron"], start=1)]
CUB_PER_CLASS = 3
CUB_EXPECTED = cub.Expected(classes=8, images=8 * CUB_PER_CLASS)


def write_cub(root: Path) -> Path:
    """CUB_200_2011/ inside ``root``; classes.txt lists the classes in reverse id order."""
    base = root / "CUB_200_2011"
    rng = np.random.default_rng(0)
    image_lines, label_lines = [], []
    for class_id, folder in enumerate(CUB_FOLDERS, start=1):
        (base / "images" / folder).mkdir(parents=True)
        for j in range(CUB_PER_CLASS):
            relative = f"{folder}/{folder[4:]}_{j:04d}_{class_id}.jpg"
            shape = (40 + 3 * j, 50) if j else (45, 60, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(base / "images" / relative)
            image_id = len(image_lines) + 1
            image_lines.append(f"{image_id} {relative}")
            label_lines.append(f"{image_id} {class_id}")
    classes = [f"{i} {f}" for i, f in enumerate(CUB_FOLDERS, start=1)]
    (base / "classes.txt").write_text("\n".join(reversed(classes)) + "\n")
    (base / "images.txt").write_text("\n".join(image_lines) + "\n")
    (base / "image_class_labels.txt").write_text("\n".join(label_lines) + "\n")
    return root


@pytest.fixture
def cub_root(tmp_path, monkeypatch):
    monkeypatch.setattr(cub, "EXPECTED", CUB_EXPECTED)
    return write_cub(tmp_path / "cub")


def test_cub_chen_split_by_sorted_class_index(cub_root, tmp_path):
    store = load_store(prepare_dataset("cub", {"root": cub_root}, tmp_path / "s"))
    assert store.images.shape == (8 * CUB_PER_CLASS, 3, 84, 84)
    folders = sorted(CUB_FOLDERS)
    assert store.classes["name"].tolist() == folders
    assert _split_names(store) == {
        "train": {folders[i] for i in (0, 2, 4, 6)},
        "val": {folders[i] for i in (1, 5)},
        "test": {folders[i] for i in (3, 7)},
    }
    assert [cub.split_of(i) for i in range(8)] == ["train", "val", "train", "test"] * 2
    assert store.manifest["source"]["root"] == str((cub_root / "CUB_200_2011").parent.resolve())
    assert store.manifest["source"]["paths"][0] == "CUB_200_2011/classes.txt"
    gray = store.images[1]  # image 1 of class 0 is grayscale: converted to three equal channels
    assert np.array_equal(gray[0], gray[1]) and np.array_equal(gray[1], gray[2])
    _sample(store, "test", ways=2, shots=1, queries=2)


def test_cub_errors(cub_root, tmp_path, monkeypatch):
    out, base = tmp_path / "out", cub_root / "CUB_200_2011"
    where = "vision.caltech.edu"
    listed = base / "images" / CUB_FOLDERS[2] / f"{CUB_FOLDERS[2][4:]}_0001_3.jpg"
    listed.unlink()
    _prepare_fails("cub", {"root": cub_root}, out, str(listed), "listed in images.txt", where)
    Image.new("RGB", (10, 10)).save(listed)

    labels = (base / "image_class_labels.txt").read_text()
    assert labels.startswith("1 1\n")
    (base / "image_class_labels.txt").write_text("1 2\n" + labels[4:])  # image 1 (class 1) labelled class 2
    _prepare_fails("cub", {"root": cub_root}, out, str(base / "images.txt"), "in the folder of its class")
    (base / "image_class_labels.txt").write_text("\n".join(labels.splitlines()[:-1]) + "\n")
    _prepare_fails("cub", {"root": cub_root}, out, str(base / "image_class_labels.txt"),
                   f"expected there: {8 * CUB_PER_CLASS} lines")
    (base / "image_class_labels.txt").unlink()
    _prepare_fails("cub", {"root": cub_root}, out, str(base / "image_class_labels.txt"), "file is missing", where)

    monkeypatch.setattr(cub, "EXPECTED", cub.Expected())
    fresh = write_cub(tmp_path / "fresh")
    _prepare_fails("cub", {"root": fresh}, out, "expected there: 200 lines", "found 8 lines")


# ================================================================ CIFAR-FS

CIFARFS_EXPECTED = cifarfs.Expected(images=(200, 100), images_per_class=3)
COARSE = [f"super{i:02d}" for i in range(20)]
FINE = sorted(cifarfs.SPLIT_OF)  # CIFAR-100's fine labels are indexed in sorted order


def _cifar100_part(labels: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "filenames": [f"img_{i}.png" for i in range(len(labels))],
        "batch_label": "training batch 1 of 1",
        "fine_labels": labels.tolist(),
        "coarse_labels": (labels // 5).tolist(),
        "data": rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8),
    }


def write_cifar100(root: Path) -> tuple[Path, dict]:
    base = root / "cifar-100-python"
    base.mkdir(parents=True)
    rng = np.random.default_rng(1)
    parts = {
        "train": _cifar100_part(rng.permutation(np.repeat(np.arange(100), 2)), 2),
        "test": _cifar100_part(rng.permutation(np.arange(100)), 3),
    }
    for name, part in parts.items():
        (base / name).write_bytes(pickle.dumps(part, protocol=2))
    meta = {"fine_label_names": FINE, "coarse_label_names": COARSE}
    (base / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root, parts


def test_cifarfs_split_and_pixels(tmp_path, monkeypatch):
    monkeypatch.setattr(cifarfs, "EXPECTED", CIFARFS_EXPECTED)
    root, parts = write_cifar100(tmp_path / "cifar")
    assert (len(cifarfs.TRAIN), len(cifarfs.VAL), len(cifarfs.TEST)) == (64, 16, 20)
    store = load_store(prepare_dataset("cifarfs", {"root": root}, tmp_path / "s"))
    assert store.images.shape == (300, 3, 32, 32)
    assert _split_names(store) == {"train": set(cifarfs.TRAIN), "val": set(cifarfs.VAL), "test": set(cifarfs.TEST)}
    assert {s: store.manifest["split_counts"][s]["classes"] for s in SPLITS} == {"train": 64, "val": 16, "test": 20}
    whale = FINE.index("whale")
    row = store.classes.loc[store.classes["name"] == "whale"].iloc[0]
    assert row["alphabet"] == COARSE[whale // 5] and row["split"] == "test"
    # The class's images: train-file order, then the test file's, unchanged at 32x32.
    sources = [p["data"][np.asarray(p["fine_labels"]) == whale] for p in (parts["train"], parts["test"])]
    expected = np.concatenate(sources).reshape(-1, 3, 32, 32)
    assert np.array_equal(store.images[store.labels == row["class_id"]], expected)
    _sample(store, "val", ways=5, shots=1, queries=2)


def test_cifarfs_errors(tmp_path, monkeypatch):
    out = tmp_path / "out"
    root, parts = write_cifar100(tmp_path / "cifar")
    base = root / "cifar-100-python"
    _prepare_fails("cifarfs", {"root": root}, out, str(base / "train"), "expected there: 50000 images",
                   "found 200 images", "kriz/cifar.html")
    monkeypatch.setattr(cifarfs, "EXPECTED", CIFARFS_EXPECTED)
    (base / "meta").write_bytes(pickle.dumps({"fine_label_names": FINE[:-1] + ["unicorn"],
                                              "coarse_label_names": COARSE}, protocol=2))
    _prepare_fails("cifarfs", {"root": root}, out, str(base / "meta"), "unknown ['unicorn']", "absent ['worm']")
    (base / "meta").write_bytes(b"\x80\x02garbage")
    _prepare_fails("cifarfs", {"root": root}, out, str(base / "meta"), "cannot be unpickled")
    (base / "test").unlink()
    _prepare_fails("cifarfs", {"root": root}, out, str(base / "test"), "file is missing")


# ================================================================ MNIST and CIFAR-10 (torchvision files)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(root: Path, gz: bool = False) -> Path:
    """torchvision's layout: MNIST/raw/ with 3 train and 2 test images per digit, each image
    holding its global index in pixel (0, 0)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    start = 0
    for prefix, per_label in (("train", 3), ("t10k", 2)):
        labels = np.tile(np.arange(10), per_label)
        images = np.zeros((len(labels), 28, 28), np.uint8)
        images[:, 0, 0] = start + np.arange(len(labels))
        images[:, 10:18, 12:16] = 255
        start += len(labels)
        for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = _idx(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
    return root


@pytest.fixture
def small_torchvision(monkeypatch):
    monkeypatch.setattr(torchvision_sets, "EXPECTED", torchvision_sets.Expected(mnist=(30, 20), cifar10_batch=10))


def test_mnist_fixture_is_torchvisions_format(tmp_path):
    from torchvision.datasets import MNIST

    root = write_mnist(tmp_path / "tv")
    data = MNIST(str(root), train=False, download=False)
    assert len(data) == 20 and int(data.targets[13]) == 3 and int(data.data[13, 0, 0]) == 43


def test_mnist_default_class_split(tmp_path, small_torchvision):
    root = write_mnist(tmp_path / "tv")
    store = load_store(prepare_dataset("mnist", {"root": root}, tmp_path / "s"))
    classes = store.classes
    assert classes[["name", "split"]].values.tolist()[:4] == [
        ["0 - zero", "train"], ["0 - zero", "val"], ["1 - one", "train"], ["1 - one", "val"]]
    counts = {s: store.manifest["split_counts"][s] for s in SPLITS}
    assert counts == {"train": {"classes": 5, "images": 15}, "val": {"classes": 5, "images": 10},
                      "test": {"classes": 5, "images": 25}}
    index = store.images[:, 0, 0, 0].astype(int)  # the global image index written into each image
    train, val, test = (set(index[np.isin(store.labels, store.class_ids(s))]) for s in SPLITS)
    assert train == {i for i in range(30) if i % 10 < 5}  # train file, digits 0-4
    assert val == {i for i in range(30, 50) if i % 10 < 5}  # test file, digits 0-4
    assert test == {i for i in range(50) if i % 10 >= 5}  # both files, digits 5-9
    assert len(index) == len(set(index.tolist())) == 50
    assert store.image_shape == (1, 28, 28) and store.manifest["source"]["files"] == 4
    _sample(store, "train", ways=5, shots=1, queries=2)
    _sample(store, "test", ways=5, shots=2, queries=3)


def test_mnist_all_classes_setting_and_gz_files(tmp_path, small_torchvision):
    root = write_mnist(tmp_path / "tv", gz=True)
    every = list(range(10))
    store = load_store(prepare_dataset(
        "mnist", {"root": root / "MNIST" / "raw", "image_size": 14,
                  "class_split": {"train": every, "val": every, "test": every}}, tmp_path / "s"))
    assert store.image_shape == (1, 14, 14) and len(store.classes) == 30
    assert {s: store.manifest["split_counts"][s]["images"] for s in SPLITS} == {"train": 30, "val": 10, "test": 10}
    assert store.manifest["source"]["paths"][0] == "train-images-idx3-ubyte.gz"


def test_mnist_errors(tmp_path, small_torchvision):
    out = tmp_path / "out"
    where = "torchvision.datasets.MNIST(root, download=True)"
    root = write_mnist(tmp_path / "tv")
    raw = root / "MNIST" / "raw"
    labels = raw / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    _prepare_fails("mnist", {"root": root}, out, str(labels), "found 17 bytes", where)
    labels.write_bytes(b"\x00\x00\x08\x03" + labels.read_bytes()[4:])
    _prepare_fails("mnist", {"root": root}, out, str(labels), "magic 0x00000801")
    labels.unlink()
    _prepare_fails("mnist", {"root": root}, out, str(labels), "file is missing", where)
    _prepare_fails("mnist", {"root": tmp_path}, out, "MNIST/raw/train-images-idx3-ubyte is missing")
    with pytest.raises(ValueError, match=r"class_split.val must list distinct labels in 0..9"):
        prepare_dataset("mnist", {"root": write_mnist(tmp_path / "ok"), "class_split": {"val": [1, 1]}}, out)


def write_cifar10(root: Path, bytes_keys: bool = False) -> Path:
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for number, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        batch = {"batch_label": name, "labels": rng.permutation(10).tolist(),
                 "data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                 "filenames": [f"{number}_{i}.png" for i in range(10)]}
        if bytes_keys:
            batch = {k.encode(): v for k, v in batch.items()}
        (base / name).write_bytes(pickle.dumps(batch, protocol=2))
    (base / "batches.meta").write_bytes(pickle.dumps({"label_names": names, "num_vis": 3072}, protocol=2))
    return root


def test_cifar10_split_and_pixels(tmp_path, small_torchvision):
    root = write_cifar10(tmp_path / "tv", bytes_keys=True)
    store = load_store(prepare_dataset("cifar10", {"root": root, "class_split": {"train": [0, 1, 2, 3, 4, 5],
                                                                                 "test": [6, 7, 8, 9]}},
                                       tmp_path / "s"))
    assert store.image_shape == (3, 32, 32)
    assert {s: store.manifest["split_counts"][s]["images"] for s in SPLITS} == {"train": 36, "val": 0, "test": 24}
    assert _split_names(store)["test"] == {"frog", "horse", "ship", "truck"}
    with open(root / "cifar-10-batches-py" / "data_batch_1", "rb") as handle:
        first = pickle.load(handle)
    k = first[b"labels"].index(0)  # the first airplane of the first batch is the class's first image
    assert np.array_equal(store.images[0], first[b"data"][k].reshape(3, 32, 32))
    _sample(store, "test", ways=4, shots=2, queries=2)


def test_cifar10_errors(tmp_path, monkeypatch):
    out = tmp_path / "out"
    root = write_cifar10(tmp_path / "tv")
    base = root / "cifar-10-batches-py"
    _prepare_fails("cifar10", {"root": root}, out, str(base / "data_batch_1"), "expected there: 10000 images")
    monkeypatch.setattr(torchvision_sets, "EXPECTED", torchvision_sets.Expected(cifar10_batch=10))
    (base / "data_batch_3").unlink()
    _prepare_fails("cifar10", {"root": root}, out, str(base / "data_batch_3"), "file is missing",
                   "torchvision.datasets.CIFAR10(root, download=True)")


# ================================================================ source record, staleness, registry


def test_changed_source_is_detected(omni, tmp_path):
    options = {"root": str(omni), "val_alphabets": 1}
    path = prepare_dataset("omniglot", options, tmp_path / "s")
    fingerprint = source_fingerprint_of("omniglot", options)
    assert fingerprint.startswith(f"{10 * OMNI_DRAWINGS}:")
    assert stale_reason(path, omni) is None and not is_stale(path) and not is_stale(path, omni)

    drawing = sorted((omni / "images_evaluation" / "gamma" / "character02").iterdir())[1]
    stat = drawing.stat()
    os.utime(drawing, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "were changed" in stale_reason(path, omni)
    assert source_fingerprint_of("omniglot", options) != fingerprint

    path = prepare_dataset("omniglot", options, tmp_path / "s")  # re-prepared: fresh again
    assert not is_stale(path, omni)
    (drawing.parent / ".DS_Store").write_bytes(b"ignored")  # hidden files are not part of the source
    assert not is_stale(path, omni)
    extra = drawing.parent / "extra.png"
    extra.write_bytes(b"")
    assert "now has 41 files, the store was prepared from 40" in stale_reason(path, omni)
    extra.unlink()
    assert not is_stale(path, omni)

    other = write_omniglot(tmp_path / "other")
    assert "was prepared from" in stale_reason(path, other)
    (omni / "images_background").rename(tmp_path / "gone")
    assert "no longer usable" in stale_reason(path, omni)
    assert source_fingerprint_of("omniglot", options) == "unavailable"
    (path / "manifest.json").unlink()
    assert "no complete store" in stale_reason(path)


def test_embedded_stores_have_no_source(tmp_path):
    import pandas as pd

    classes = pd.DataFrame({"class_id": [0], "name": ["a"], "alphabet": "x", "split": ["test"]})
    path = write_store(tmp_path / "e", np.zeros((2, 1, 2, 2), np.uint8), np.zeros(2, int), classes, "toy", {})
    assert "source" not in json.loads((path / "manifest.json").read_text())
    assert not is_stale(path) and is_stale(path, tmp_path)
    assert source_fingerprint_of("glyphs", {}) == ""


def test_source_changing_during_preparation_writes_nothing(omni, tmp_path, monkeypatch):
    build = omniglot.load_omniglot

    @functools.wraps(build)
    def build_and_touch(**options):
        result = build(**options)
        (omni / "images_background" / "alpha" / "character01" / "new.png").write_bytes(b"")
        return result

    monkeypatch.setitem(DATASETS, "omniglot", build_and_touch)
    with pytest.raises(RuntimeError, match="changed while the store was being prepared"):
        prepare_dataset("omniglot", {"root": omni, "val_alphabets": 1}, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_registry_lists_on_disk_datasets(tmp_path):
    assert {"omniglot", "miniimagenet", "cub", "cifarfs", "mnist", "cifar10"} <= set(DATASETS)
    with pytest.raises(ValueError, match=r"\['cifar10', 'cifarfs', 'cub', 'miniimagenet', 'mnist', 'omniglot'\]"):
        prepare_dataset("imagenet", {}, tmp_path / "x")
    with pytest.raises(ValueError, match="bad parameters for dataset 'cub'.*split"):
        prepare_dataset("cub", {"root": "x", "split": "chen"}, tmp_path / "x")


def test_schema_options_match_the_loaders():
    """Every schema option of an on-disk dataset is a keyword of its builder, and vice versa."""
    import inspect

    from innerloop.config import load_schema

    blocks = load_schema()["properties"]["datasets"]["properties"]
    enum = load_schema()["properties"]["dataset"]["enum"]
    for name in ("omniglot", "miniimagenet", "cub", "cifarfs", "mnist", "cifar10"):
        assert name in enum
        assert set(blocks[name]["properties"]) == set(inspect.signature(DATASETS[name]).parameters), name
        assert blocks[name]["required"] == ["root"]
        for option, spec in blocks[name]["properties"].items():
            default = inspect.signature(DATASETS[name]).parameters[option].default
            if "default" in spec and option != "class_split":
                assert spec["default"] == (list(default) if isinstance(default, tuple) else default), (name, option)
    assert blocks["mnist"]["properties"]["class_split"]["default"] == torchvision_sets.DEFAULT_CLASS_SPLIT
