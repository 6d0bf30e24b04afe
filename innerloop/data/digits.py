"""Digits: scikit-learn's bundled handwritten digits as a second, cross-domain test set.

``sklearn.datasets.load_digits`` ships inside scikit-learn (no download): 1,797
handwritten digits, 8x8 pixels with values 0..16 where high values are ink.
They are scaled to 0..255 uint8 (ink bright on black, like the glyphs) and
resized bilinearly to ``image_size``.

Why every class is in the ``test`` split: the dataset only serves to measure
how a meta-learner trained on glyphs transfers to a different domain, and its
10 classes are too few to also train or select models on, so none of them is
held out for train or val.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
from PIL import Image

ALPHABET = "digits"
MAX_PIXEL = 16


def load_digits_dataset(image_size: int = 28) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (1797, 1, image_size, image_size), ``labels`` int64, ``classes``."""
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 (the source is 8x8), got {image_size}")
    # Imported here: scikit-learn (with scipy.stats) takes about 3 s to import, and the registry
    # that lists this builder is read by every Snakemake start.
    from sklearn.datasets import load_digits

    digits = load_digits()
    source = np.rint(digits.images * (255 / MAX_PIXEL)).astype(np.uint8)
    images = np.stack(
        [
            np.asarray(
                Image.fromarray(image).resize((image_size, image_size), Image.Resampling.BILINEAR)
            )
            for image in source
        ]
    )
    labels = digits.target.astype(np.int64)
    classes = pd.DataFrame(
        {
            "class_id": np.arange(10, dtype=np.int64),
            "name": [unicodedata.name(str(d)) for d in range(10)],
            "alphabet": ALPHABET,
            "split": "test",
        }
    )
    return images[:, None], labels, classes
