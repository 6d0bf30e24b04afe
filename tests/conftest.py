"""Shared fixtures: a tiny synthetic store for tests that need data but not glyphs."""

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.store import load_store, write_store

# One intra-op thread: the tests' networks are tiny, and the workflow test's Snakemake jobs
# run beside the test process on the same cores.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    """30 classes (10 per split) of 8 random 16x16 images each."""
    rng = np.random.default_rng(0)
    n_classes, per_class = 30, 8
    images = rng.integers(0, 256, size=(n_classes * per_class, 1, 16, 16), dtype=np.uint8)
    labels = np.repeat(np.arange(n_classes), per_class)
    classes = pd.DataFrame({
        "class_id": range(n_classes),
        "name": [f"c{i}" for i in range(n_classes)],
        "alphabet": [f"a{i // 5}" for i in range(n_classes)],
        "split": ["train"] * 10 + ["val"] * 10 + ["test"] * 10,
    })
    path = write_store(tmp_path_factory.mktemp("store"), images, labels, classes, dataset="tiny", params={})
    return load_store(path)


@pytest.fixture(scope="session")
def glyph_store(tmp_path_factory):
    """A 200-class subset of the embedded glyphs at 28x28, 12 images per class."""
    from innerloop.data.registry import prepare_dataset

    path = prepare_dataset("glyphs", {"image_size": 28, "images_per_class": 12, "max_classes": 200},
                           tmp_path_factory.mktemp("glyphs"))
    return load_store(path)
