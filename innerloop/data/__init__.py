"""Datasets, the prepared store they are written to, and the episodic task sampler.

* :mod:`~innerloop.data.store`: the one on-disk format (``write_store``/``load_store``).
* :mod:`~innerloop.data.glyphs`: the embedded default dataset, letters rendered
  from matplotlib's bundled fonts (Omniglot-like, alphabet-disjoint splits).
* :mod:`~innerloop.data.digits`: scikit-learn's bundled digits, a cross-domain test set.
* :mod:`~innerloop.data.registry`: dataset name -> builder; ``prepare_dataset``.
* :mod:`~innerloop.data.sampler`: deterministic N-way K-shot tasks from a store.
"""

import importlib

#: Imported on first use: the builders pull in scikit-learn and matplotlib, which the jobs
#: that only read a prepared store (training, evaluation) never need (importing them took a
#: third of each such job's start-up), and the sampler pulls in torch, which Snakemake, when
#: it reads the registry to plan, does not.
_LAZY = {
    "Task": "innerloop.data.sampler",
    "TaskSampler": "innerloop.data.sampler",
    "fixed_tasks": "innerloop.data.sampler",
    "SPLITS": "innerloop.data.store",
    "Store": "innerloop.data.store",
    "StoreCorruptError": "innerloop.data.store",
    "load_store": "innerloop.data.store",
    "write_store": "innerloop.data.store",
    "load_digits_dataset": "innerloop.data.digits",
    "glyph_classes": "innerloop.data.glyphs",
    "render_glyphs": "innerloop.data.glyphs",
    "DATASETS": "innerloop.data.registry",
    "prepare_dataset": "innerloop.data.registry",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'innerloop.data' has no attribute {name!r}")


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
