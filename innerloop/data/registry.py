"""Dataset registry: dataset name -> builder, and preparing a named dataset into a store.

A builder is a function whose keyword arguments are the preparation
parameters and which returns ``(images uint8 (N, C, H, W), labels int64 (N,),
classes DataFrame)``.  :func:`prepare_dataset` calls it and writes the result
with :func:`innerloop.data.store.write_store`, recording every parameter
(defaults included) in the manifest.  On-disk datasets get their loaders here too.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innerloop.data.digits import load_digits_dataset
from innerloop.data.glyphs import render_glyphs
from innerloop.data.store import write_store

Builder = Callable[..., tuple[np.ndarray, np.ndarray, pd.DataFrame]]

DATASETS: dict[str, Builder] = {
    "glyphs": render_glyphs,
    "digits": load_digits_dataset,
}


def get_builder(name: str) -> Builder:
    """The builder registered under ``name``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {sorted(DATASETS)}")
    return DATASETS[name]


def prepare_dataset(name: str, params: Mapping[str, Any], out_dir: str | os.PathLike) -> Path:
    """Build dataset ``name`` with keyword arguments ``params`` and write it as a store."""
    builder = get_builder(name)
    try:
        bound = inspect.signature(builder).bind(**params)
    except TypeError as error:
        accepted = list(inspect.signature(builder).parameters)
        raise ValueError(
            f"bad parameters for dataset {name!r}: {error}; accepted: {accepted}"
        ) from error
    bound.apply_defaults()
    images, labels, classes = builder(*bound.args, **bound.kwargs)
    return write_store(out_dir, images, labels, classes, dataset=name, params=bound.arguments)
