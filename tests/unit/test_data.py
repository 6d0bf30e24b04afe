"""Tests for innerloop.data: glyph rendering, the prepared store, digits and the task sampler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data import (
    DATASETS,
    SPLITS,
    StoreCorruptError,
    TaskSampler,
    fixed_tasks,
    glyph_classes,
    load_digits_dataset,
    load_store,
    prepare_dataset,
    render_glyphs,
    write_store,
)
from innerloop.data.glyphs import assign_splits, is_letter

SMALL_GLYPHS = {"max_classes": 60, "images_per_class": 8}


@pytest.fixture(scope="module")
def default_classes():
    return glyph_classes()


@pytest.fixture(scope="module")
def glyph_store(tmp_path_factory):
    path = prepare_dataset("glyphs", SMALL_GLYPHS, tmp_path_factory.mktemp("glyphs"))
    return load_store(path)


def _indexed_store(root: Path, n_classes: int = 12, per_class: int = 10, splits=None):
    """A store whose image i encodes i in its first two pixels, so tasks can be decoded."""
    n = n_classes * per_class
    images = np.zeros((n, 1, 4, 4), np.uint8)
    images[:, 0, 0, 0] = np.arange(n) // 256
    images[:, 0, 0, 1] = np.arange(n) % 256
    labels = np.repeat(np.arange(n_classes), per_class)
    splits = splits or ["train"] * (n_classes - 6) + ["val"] * 2 + ["test"] * 4
    classes = pd.DataFrame(
        {
            "class_id": range(n_classes),
            "name": [f"c{i}" for i in range(n_classes)],
            "alphabet": "toy",
            "split": splits,
        }
    )
    write_store(root, images, labels, classes, dataset="toy", params={})
    return load_store(root)


def _decode(x: torch.Tensor) -> np.ndarray:
    pixels = np.rint(x.numpy() * 255).astype(np.int64)
    return pixels[:, 0, 0, 0] * 256 + pixels[:, 0, 0, 1]


# ---------------------------------------------------------------- glyph classes


def test_default_glyph_set_is_large_and_renders_20_images_per_class(default_classes):
    assert len(default_classes) >= 1000
    assert len({c.alphabet for c in default_classes}) >= 10
    assert all(len(c.fonts) >= 4 for c in default_classes)
    _, labels, classes = render_glyphs(max_classes=6)
    assert Counter(labels.tolist()) == {i: 20 for i in range(len(classes))}


def test_default_splits_are_alphabet_disjoint_and_large_enough(default_classes):
    alphabets = {s: {c.alphabet for c in default_classes if c.split == s} for s in SPLITS}
    sizes = Counter(c.split for c in default_classes)
    for a, b in [("train", "val"), ("train", "test"), ("val", "test")]:
        assert not alphabets[a] & alphabets[b], (a, b)
    assert min(sizes.values()) >= 20  # 20-way tasks possible in every split
    assert len(alphabets["test"]) >= 3
    assert sizes["train"] > sizes["test"] > sizes["val"]
    assert len({c.codepoint for c in default_classes}) == len(default_classes)


def test_classes_are_letters_with_script_alphabets(default_classes):
    for cls in default_classes:
        assert is_letter(cls.char) and unicodedata.name(cls.char) == cls.name
        assert cls.name.startswith(cls.alphabet)
    names = {c.name for c in default_classes}
    assert "LATIN CAPITAL LETTER A" in names and "LATIN SMALL LETTER A" in names
    assert "GREEK CAPITAL LETTER OMICRON" not in names  # homoglyph of Latin O
    assert not any(c.char.isdigit() for c in default_classes)


def test_assign_splits_greedy_rule():
    sizes = {"a": 70, "b": 12, "c": 10, "d": 5, "e": 3}
    assert assign_splits(sizes) == {"a": "train", "b": "test", "c": "val", "d": "test", "e": "test"}


def test_max_classes_subset_spans_splits_and_is_a_true_subset():
    small = glyph_classes(max_classes=60)
    assert len(small) == 60
    assert {c.split for c in small} == set(SPLITS)
    full = {c.codepoint for c in glyph_classes()}
    assert {c.codepoint for c in small} <= full
    with pytest.raises(ValueError, match="max_classes"):
        glyph_classes(max_classes=2)


# ---------------------------------------------------------------- glyph rendering


def test_render_is_deterministic_and_seed_dependent():
    a_images, a_labels, a_classes = render_glyphs(images_per_class=3, max_classes=9)
    b_images, b_labels, b_classes = render_glyphs(images_per_class=3, max_classes=9)
    assert a_images.tobytes() == b_images.tobytes()
    assert np.array_equal(a_labels, b_labels) and a_classes.equals(b_classes)
    c_images, _, c_classes = render_glyphs(images_per_class=3, max_classes=9, seed=1)
    assert c_classes.equals(a_classes) and not np.array_equal(c_images, a_images)


def test_render_shape_range_and_ink_convention():
    images, labels, classes = render_glyphs(image_size=20, images_per_class=4, max_classes=9)
    assert images.dtype == np.uint8 and images.shape == (36, 1, 20, 20)
    assert labels.dtype == np.int64 and labels.tolist() == np.repeat(range(9), 4).tolist()
    assert list(classes.columns) == ["class_id", "name", "alphabet", "split"]
    assert images.max() > 200  # bright ink ...
    border = np.concatenate([images[..., 0, :], images[..., -1, :]], axis=None)
    assert np.median(images) == 0 and border.mean() < 5  # ... on a black background
    # Images of one class differ (distortions and fonts), and classes differ.
    assert not np.array_equal(images[0], images[1])


def test_class_images_do_not_depend_on_which_classes_are_selected():
    small_images, _, small = render_glyphs(images_per_class=2, max_classes=9)
    large_images, _, large = render_glyphs(images_per_class=2, max_classes=60)
    position = {name: i for i, name in enumerate(large["name"])}
    for i, name in enumerate(small["name"]):
        j = position[name]
        assert np.array_equal(small_images[2 * i : 2 * i + 2], large_images[2 * j : 2 * j + 2])


# ---------------------------------------------------------------- store


def test_store_round_trip(glyph_store):
    store = glyph_store
    manifest = store.manifest
    assert manifest["dataset"] == "glyphs" and manifest["format_version"] == 1
    assert manifest["n_classes"] == 60 and manifest["n_images"] == 480
    assert manifest["shape"] == [480, 1, 28, 28] and store.image_shape == (1, 28, 28)
    assert manifest["params"] == {
        "image_size": 28, "images_per_class": 8, "min_fonts": 4, "seed": 0, "max_classes": 60
    }
    counts = manifest["split_counts"]
    assert sum(counts[s]["classes"] for s in SPLITS) == 60
    assert sum(counts[s]["images"] for s in SPLITS) == 480
    expected_files = {"images.npy", "labels.npy", "classes.csv", "manifest.json"}
    assert set(os.listdir(store.path)) == expected_files  # no temporary files left

    images, labels, classes = render_glyphs(**manifest["params"])
    assert np.array_equal(store.images, images) and np.array_equal(store.labels, labels)
    pd.testing.assert_frame_equal(store.classes, classes)
    assert not store.images.flags.writeable


def test_store_class_index(glyph_store):
    ids = glyph_store.class_ids("val")
    assert np.all(np.diff(ids) > 0)
    index = glyph_store.indices_by_class("val")
    assert sorted(index) == ids.tolist()
    for class_id, members in index.items():
        assert np.all(np.diff(members) > 0) and np.all(glyph_store.labels[members] == class_id)
    assert glyph_store.indices_by_class("val")[ids[0]] is index[ids[0]]  # cached
    with pytest.raises(ValueError, match="unknown split"):
        glyph_store.class_ids("training")


def test_store_detects_a_flipped_byte(tmp_path):
    store = _indexed_store(tmp_path / "toy")
    path = store.path / "images.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match="images.npy") as caught:
        load_store(store.path)
    assert "delete the store directory" in str(caught.value).lower()
    assert load_store(store.path, verify=False).images.reshape(-1)[-1] != 0


def test_missing_or_incomplete_store_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as caught:
        load_store(missing)
    assert str(missing) in str(caught.value) and "manifest.json" in str(caught.value)

    store = _indexed_store(tmp_path / "toy")
    (store.path / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json") as caught:
        load_store(store.path)
    assert "incomplete" in str(caught.value) or "did not finish" in str(caught.value)


def test_write_store_validates_inputs(tmp_path):
    images = np.zeros((4, 1, 2, 2), np.uint8)
    labels = np.array([0, 0, 1, 1])
    classes = pd.DataFrame(
        {"class_id": [0, 1], "name": ["a", "b"], "alphabet": "x", "split": ["train", "test"]}
    )

    def write(**changes):
        args = {"images": images, "labels": labels, "classes": classes, **changes}
        write_store(tmp_path / "s", dataset="toy", params={}, **args)

    write()
    with pytest.raises(ValueError, match="uint8"):
        write(images=images.astype(np.float32))
    with pytest.raises(ValueError, match="4-D"):
        write(images=images[:, 0])
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        write(labels=np.array([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="class 1 .* split ''"):
        write(classes=classes.assign(split=["train", ""]))
    two_splits = pd.concat([classes, classes.iloc[[1]].assign(split="val")])
    with pytest.raises(ValueError, match=r"class 1 appears in more than one row .*'test', 'val'"):
        write(classes=two_splits)
    with pytest.raises(ValueError, match="missing column"):
        write(classes=classes.drop(columns="alphabet"))


# ---------------------------------------------------------------- digits and registry


def test_digits_dataset():
    images, labels, classes = load_digits_dataset()
    assert images.dtype == np.uint8 and images.shape == (1797, 1, 28, 28)
    assert images.min() == 0 and images.max() == 255
    assert labels.dtype == np.int64 and sorted(set(labels.tolist())) == list(range(10))
    assert classes["split"].eq("test").all() and classes["alphabet"].eq("digits").all()
    assert load_digits_dataset(image_size=8)[0].shape == (1797, 1, 8, 8)


def test_registry(tmp_path):
    assert set(DATASETS) >= {"glyphs", "digits"}
    with pytest.raises(ValueError, match=r"known datasets: \['digits', 'glyphs'"):
        prepare_dataset("omniglot-typo", {}, tmp_path / "x")
    with pytest.raises(ValueError, match="image_sise"):
        prepare_dataset("digits", {"image_sise": 28}, tmp_path / "x")
    store = load_store(prepare_dataset("digits", {"image_size": 16}, tmp_path / "digits"))
    assert store.manifest["params"] == {"image_size": 16}
    assert store.manifest["split_counts"]["test"] == {"classes": 10, "images": 1797}
    assert fixed_tasks(store, "test", 10, 1, 5, seed=0, n=1)[0].query_x.shape == (50, 1, 16, 16)


# ---------------------------------------------------------------- sampler


def test_task_layout_and_support_query_disjoint(tmp_path):
    store = _indexed_store(tmp_path / "toy")
    sampler = TaskSampler(store, "train", ways=3, shots=2, queries=4, seed=7)
    for task in sampler.tasks(20):
        assert task.support_x.dtype == torch.float32 and task.support_x.shape == (6, 1, 4, 4)
        assert task.query_x.shape == (12, 1, 4, 4)
        assert task.support_y.dtype == torch.int64
        assert task.support_y.tolist() == [0, 0, 1, 1, 2, 2]
        assert task.query_y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
        assert 0.0 <= task.support_x.min() and task.support_x.max() <= 1.0
        support, query = _decode(task.support_x), _decode(task.query_x)
        assert len(set(support) | set(query)) == 18  # all distinct, so disjoint
        assert len(set(task.classes)) == 3 and set(task.classes) <= set(store.class_ids("train"))
        for x, y in ((support, task.support_y), (query, task.query_y)):
            assert store.labels[x].tolist() == [task.classes[label] for label in y.tolist()]


def test_sampler_is_deterministic(tmp_path):
    store = _indexed_store(tmp_path / "toy")
    a = TaskSampler(store, "train", 3, 2, 3, seed=1).task(5)
    b = TaskSampler(store, "train", 3, 2, 3, seed=1).task(5)
    assert a.classes == b.classes
    for name in ("support_x", "support_y", "query_x", "query_y"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    others = [
        TaskSampler(store, "train", 3, 2, 3, seed=1).task(6),
        TaskSampler(store, "train", 3, 2, 3, seed=2).task(5),
        TaskSampler(store, "test", 3, 2, 3, seed=1).task(5),
    ]
    for other in others:
        assert not torch.equal(other.support_x, a.support_x)


def test_eval_sets_are_identical_across_instances(glyph_store):
    first = fixed_tasks(glyph_store, "test", 5, 1, 3, seed=123, n=4)
    sampler = TaskSampler(glyph_store, "test", 5, 1, 3, seed=123)
    second = [sampler.task(i) for i in range(4)]
    for a, b in zip(first, second):
        assert a.classes == b.classes and torch.equal(a.query_x, b.query_x)
    moved = first[0].to("cpu")
    assert torch.equal(moved.support_x, first[0].support_x) and moved.classes == first[0].classes


def test_tasks_do_not_depend_on_python_hash_seed(tmp_path):
    store = _indexed_store(tmp_path / "toy")
    script = (
        "import sys, numpy as np;"
        "from innerloop.data import load_store, TaskSampler;"
        "t = TaskSampler(load_store(sys.argv[1]), 'train', 3, 2, 3, seed=4).task(9);"
        "print(t.classes, np.rint(t.query_x.numpy() * 255).astype(int).sum())"
    )
    def fingerprint(task):
        return f"{task.classes} {np.rint(task.query_x.numpy() * 255).astype(int).sum()}\n"

    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script, str(store.path)],
            env=env, cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True,
        )
        outputs.add(result.stdout)
    assert outputs == {fingerprint(TaskSampler(store, "train", 3, 2, 3, seed=4).task(9))}


def test_sampler_errors_name_the_numbers(glyph_store):
    n_val = len(glyph_store.class_ids("val"))
    with pytest.raises(ValueError, match=rf"ways=50 exceeds the {n_val} classes in the 'val'"):
        TaskSampler(glyph_store, "val", ways=50, shots=1, queries=1, seed=0)
    with pytest.raises(ValueError, match=r"5 \+ 4 = 9 exceeds the 8 images"):
        TaskSampler(glyph_store, "train", ways=5, shots=5, queries=4, seed=0)
    with pytest.raises(ValueError, match="shots must be a positive integer, got 0"):
        TaskSampler(glyph_store, "train", ways=5, shots=0, queries=4, seed=0)
    with pytest.raises(ValueError, match="unknown split"):
        TaskSampler(glyph_store, "eval", ways=5, shots=1, queries=1, seed=0)


def test_manifest_is_plain_json(glyph_store):
    manifest = json.loads((glyph_store.path / "manifest.json").read_text())
    assert set(manifest["sha256"]) == {"images.npy", "labels.npy", "classes.csv"}
    assert all(len(h) == 64 for h in manifest["sha256"].values())
