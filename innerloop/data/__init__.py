"""Datasets, the prepared store they are written to, and the episodic task sampler.

* :mod:`~innerloop.data.store`: the one on-disk format (``write_store``/``load_store``).
* :mod:`~innerloop.data.glyphs`: the embedded default dataset, letters rendered
  from matplotlib's bundled fonts (Omniglot-like, alphabet-disjoint splits).
* :mod:`~innerloop.data.digits`: scikit-learn's bundled digits, a cross-domain test set.
* :mod:`~innerloop.data.registry`: dataset name -> builder; ``prepare_dataset``.
* :mod:`~innerloop.data.sampler`: deterministic N-way K-shot tasks from a store.
"""

from innerloop.data.digits import load_digits_dataset
from innerloop.data.glyphs import glyph_classes, render_glyphs
from innerloop.data.registry import DATASETS, prepare_dataset
from innerloop.data.sampler import Task, TaskSampler, fixed_tasks
from innerloop.data.store import SPLITS, Store, StoreCorruptError, load_store, write_store

__all__ = [
    "DATASETS",
    "SPLITS",
    "Store",
    "StoreCorruptError",
    "Task",
    "TaskSampler",
    "fixed_tasks",
    "glyph_classes",
    "load_digits_dataset",
    "load_store",
    "prepare_dataset",
    "render_glyphs",
    "write_store",
]
