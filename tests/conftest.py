"""Shared fixtures, and the three suites.

The tests are in three folders, each a marker: ``tests/unit/`` (the library, a file per
module), ``tests/algorithms/`` (every registered algorithm: gradients against references,
learning with its default settings, saving and loading, CUDA where present) and
``tests/workflow/`` (Snakemake end to end: smoke DAG, resume, SLURM, the Omniglot preset,
installation). ``make test-fast`` runs the first two. Helpers shared between them are
modules beside this file (``learning``, ``algorithm_cases``, ``workflow_copy`` ...).

``tiny_store`` and ``glyph_store`` (session): small image stores (innerloop.data.store.Store)
for tests that need data without running the workflow.

``smoke_run`` (session): the ``pathlib.Path`` of a copy of the workflow in a temporary directory
in which the whole smoke DAG has finished without a failed job (``snakemake --cores 2 --resources
gpu=1 --configfile config/presets/smoke.yaml``, target ``all``). Its outputs are under
``smoke_run / "results"``: ``runs/glyphs/<algorithm>/5w1s/seed0/`` per run (the layout that
tests/unit/test_stats_recomputation.py's ``results`` fixture writes), ``tables/``, ``figures/``, ``report/``
(report.html, report.pdf), ``data/``, ``logs/``. It runs once per session, and every
end-to-end test of the smoke preset reads it (tests/workflow/test_smoke.py, the local side of
tests/workflow/test_slurm.py). A test may add files of its own beside the outputs (a screenshot,
rendered pages, Snakemake's report) but must not change or remove any output.

When a collected test asks for ``smoke_run``, the smoke DAG starts in the background as the
session's first test starts (``_smoke_dag``), so that it runs beside the tests that do not
need it (``make test`` runs the unit and algorithm suites in a second pytest process at the
same time, tools/run_tests.sh); the first test that asks for ``smoke_run`` waits for it to
finish. The modules with such tests run last (``pytest_collection_modifyitems``) to leave it
the time.
Its Snakemake output is in ``smoke_run.parent / "snakemake.log"``.

Likewise, when a test of tests/workflow/test_slurm.py is collected, ``_slurm_background`` installs and
starts the one-node SLURM cluster and runs its target through it in a background thread from
the session's start (apt, the daemons' start-up and sbatch's status polling mostly wait), and
stops the cluster at the session's end; ``slurm_run`` waits for it.
"""

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.data.store import load_store, write_store
from workflow_copy import SMOKE_ARGS, SNAKEMAKE, copy_workflow, die_with_parent

# One intra-op thread: the tests' networks are tiny, and the workflow tests' Snakemake jobs
# run beside the test process on the same cores.
torch.set_num_threads(1)


#: The three suites, one folder each; a test is marked with its folder's name (``-m unit``).
SUITES = ("unit", "algorithms", "workflow")


def pytest_collection_modifyitems(items):
    """Mark each test with its suite; modules with a test that reads the smoke DAG run after
    the others, in their order. A test file outside the three suites is an error."""
    outside = sorted({str(item.path) for item in items if item.path.parent.name not in SUITES})
    if outside:
        raise pytest.UsageError(f"test files outside tests/{{{','.join(SUITES)}}}/: {', '.join(outside)}")
    for item in items:
        item.add_marker(item.path.parent.name)
    waiting = {item.path for item in items if "smoke_run" in item.fixturenames}
    items.sort(key=lambda item: item.path in waiting)


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


@pytest.fixture(scope="session", autouse=True)
def _smoke_dag(request, tmp_path_factory):
    """Start the smoke DAG in a workflow copy if a collected test needs ``smoke_run``; yields
    (workflow copy, Snakemake process, its log) or None, and stops a run still going at the end."""
    if not any("smoke_run" in item.fixturenames for item in request.session.items):
        yield None
        return
    base = tmp_path_factory.mktemp("smoke")
    (base / "workflow").mkdir()
    workdir = copy_workflow(base / "workflow")
    with open(base / "snakemake.log", "w") as log:
        process = subprocess.Popen([*SNAKEMAKE, *SMOKE_ARGS], cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=die_with_parent)
        try:
            yield workdir, process, base / "snakemake.log"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=120)


@pytest.fixture(scope="session", autouse=True)
def _slurm_background(request, tmp_path_factory):
    """A future of :func:`test_slurm.bring_up_and_run`, started now, if a SLURM test is collected
    and the machine can try (else None); the cluster is stopped at the session's end."""
    wanted = any(item.path.name == "test_slurm.py" for item in request.session.items)
    if not wanted or os.environ.get("INNERLOOP_SKIP_SLURM"):
        yield None
        return
    import test_slurm

    if test_slurm.missing_prerequisite() is not None:
        yield None
        return
    base = tmp_path_factory.mktemp("slurm")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(test_slurm.bring_up_and_run, base)
        try:
            yield future
        finally:
            future.cancel()
            if not future.cancelled():
                future.exception()  # wait for it: the cluster must not outlive the session
            test_slurm.stop_cluster(base / "cluster")


@pytest.fixture(scope="session")
def smoke_run(_smoke_dag):
    """The workflow copy in which the whole smoke DAG ran (see the module docstring)."""
    workdir, process, log = _smoke_dag
    try:
        returncode = process.wait(timeout=3600)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        pytest.fail("the smoke DAG did not finish in 3600 s")
    assert returncode == 0, log.read_text()[-5000:]
    return workdir
