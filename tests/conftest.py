"""Shared fixtures.

``tiny_store`` and ``glyph_store`` (session): small image stores (innerloop.data.store.Store)
for tests that need data without running the workflow.

``smoke_run`` (session): the ``pathlib.Path`` of a copy of the workflow in a temporary directory
in which the whole smoke DAG has finished without a failed job (``snakemake --cores 2 --resources
gpu=1 --configfile config/presets/smoke.yaml``, target ``all``). Its outputs are under
``smoke_run / "results"``: ``runs/glyphs/<algorithm>/5w1s/seed0/`` per run (the layout that
test_recomputation's ``results`` fixture writes), ``tables/``, ``figures/``, ``report/``
(report.html, report.pdf), ``data/``, ``logs/``. It runs once per session, when a test first
asks for it, and every end-to-end test of the smoke preset reads it (tests/test_workflow.py, the
local side of tests/test_slurm.py). A test may add files of its own beside the outputs (a
screenshot, rendered pages, Snakemake's report) but must not change or remove any output.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.store import load_store, write_store
from workflow_copy import SMOKE_ARGS, copy_workflow, snakemake

# One intra-op thread: the tests' networks are tiny, and the workflow tests' Snakemake jobs
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


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The workflow copy in which the whole smoke DAG ran (see the module docstring)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke"))
    result = snakemake(workdir, *SMOKE_ARGS, timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir
