"""Glyphs: an Omniglot-like few-shot dataset rendered from matplotlib's bundled fonts.

Why: the workflow needs a many-class, many-alphabet character dataset that is
available offline and is identical on every machine.  The TrueType fonts that
ship inside matplotlib (``matplotlib/mpl-data/fonts/ttf``: DejaVu Sans/Serif/
Mono with their styles, STIX General, Computer Modern) are such a source; no
system font is ever used, so the same matplotlib build gives byte-identical
data everywhere.

What the rules are:

* **Fonts.** Every ``*.ttf`` in matplotlib's font directory except those in
  :data:`EXCLUDED_FONTS`: the Last Resort font (placeholder boxes, not real
  outlines), the DejaVu "Display" subsets, STIX's private-use and size-variant
  files, and the Computer Modern symbol fonts ``cmsy10``/``cmex10``.  The other
  Computer Modern files use TeX's encoding rather than Unicode, so only their
  ASCII letters (which sit at the ASCII positions) are used.
* **Classes.** One class per Unicode letter (general category Lu, Ll, Lt or
  Lo) whose NFKC normal form is itself, that has a real outline (glyph index
  != 0 and a non-empty bitmap) in at least ``min_fonts`` font files.  Modifier
  letters (Lm) are excluded because they are mostly diacritic-like marks, and
  NFKC excludes compatibility variants (mathematical bold A, Arabic
  presentation forms, the Kelvin sign, ...) that are restyled copies of
  another letter.  Upper and lower case are distinct classes.
* **Homoglyphs.** Letters are visited in code point order; a letter whose
  bitmap is identical to that of one earlier kept letter in at least half of
  the fonts drawing it (Greek Ο and Cyrillic О vs Latin O, Lisu ꓮ vs Latin A)
  is dropped, since it would make tasks ambiguous or bring a training class
  into the test split under another name.  Similar but not identical letters
  (as in real scripts) remain.
* **Alphabets.** Unicode names begin with the script, so the alphabet is the
  first word of the character's name (LATIN, GREEK, CYRILLIC, ARMENIAN, ...),
  or its first two words when the first is one of :data:`TWO_WORD_SCRIPTS`
  (CANADIAN SYLLABICS, OLD ITALIC).  Alphabets with fewer than
  :data:`MIN_ALPHABET_SIZE` letters are dropped; this removes the few letters
  whose names start with a descriptive word instead (TURNED CAPITAL F, ...).
* **Splits.** Whole alphabets go to one split, so the splits are
  alphabet-disjoint.  Alphabets are visited from largest to smallest (ties by
  name) and each goes to the split whose class count is furthest below its
  target share :data:`SPLIT_FRACTIONS` (70/10/20; ties in train, val, test
  order).  With the default parameters and matplotlib 3.11 this gives 2,205
  classes in 12 alphabets: train = LATIN, CANADIAN SYLLABICS, CYRILLIC (1,561
  classes); val = GEORGIAN, ARABIC, HEBREW, LISU (213); test = GREEK, ARMENIAN,
  LAO, OLD ITALIC, COPTIC (431).
* **Images.** Each glyph is rasterised once per font at a 44 px em and placed
  on a 64 px canvas (shrunk only if larger than 48 px, so relative letter size
  survives).  Image ``j`` of a class uses the class's fonts in a per-class
  shuffled cyclic order, then a random affine map (rotation +-12 deg, scale
  0.85-1.15, shear +-0.2, shift +-3 px) and a stroke-width change (2x2
  erosion, none, 2x2 or 3x3 dilation) are applied at 64 px before the
  antialiased downsampling to ``image_size``.  Ink is 255 on a 0 background.
* **Determinism.** The random numbers of image ``j`` of the letter with code
  point ``cp`` come from ``numpy.random.default_rng([seed, cp, 2, j])`` (the
  font order from ``[seed, cp, 1]``), so a class renders the same whatever
  other classes are selected and in whatever order they are processed.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import logging
import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.ft2font import FT2Font, LoadFlags
from PIL import Image
from scipy import ndimage

from innerloop.data.store import SPLITS

log = logging.getLogger(__name__)

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
EXCLUDED_FONTS = (
    "LastResort*.ttf",
    "*Display.ttf",
    "STIXNonUni*.ttf",
    "STIXSiz*.ttf",
    "cmsy10.ttf",
    "cmex10.ttf",
)
TEX_FONT_PREFIX = "cm"
LETTER_CATEGORIES = ("Lu", "Ll", "Lt", "Lo")
TWO_WORD_SCRIPTS = ("CANADIAN", "OLD")
MIN_ALPHABET_SIZE = 10
SPLIT_FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}

EM_PX = 44
CANVAS_PX = 64
FIT_PX = 48
MAX_ROTATION_DEG = 12.0
SCALE_RANGE = (0.85, 1.15)
MAX_SHEAR = 0.2
MAX_SHIFT_PX = 3.0
FONT_ORDER_STREAM = 1
IMAGE_STREAM = 2


@dataclass(frozen=True)
class GlyphClass:
    """One letter class: its code point, Unicode name, alphabet, split and fonts."""

    codepoint: int
    name: str
    alphabet: str
    split: str
    fonts: tuple[str, ...]

    @property
    def char(self) -> str:
        return chr(self.codepoint)


def font_files() -> list[Path]:
    """The matplotlib font files used, sorted by file name."""
    files = sorted(FONT_DIR.glob("*.ttf"), key=lambda p: p.name)
    used = [f for f in files if not any(fnmatch.fnmatch(f.name, p) for p in EXCLUDED_FONTS)]
    if not used:
        raise FileNotFoundError(f"no usable TrueType fonts found in {FONT_DIR}")
    return used


def is_letter(char: str) -> bool:
    """Whether ``char`` is a letter class candidate (see the module docstring)."""
    return (
        unicodedata.category(char) in LETTER_CATEGORIES
        and unicodedata.normalize("NFKC", char) == char
    )


def alphabet_of(char: str) -> str:
    """The alphabet (script) of ``char``, read from its Unicode name."""
    words = unicodedata.name(char).split()
    return " ".join(words[:2]) if words[0] in TWO_WORD_SCRIPTS else words[0]


def assign_splits(alphabet_sizes: Mapping[str, int]) -> dict[str, str]:
    """Map each alphabet to a split by the greedy fill described in the module docstring."""
    total = sum(alphabet_sizes.values())
    target = {split: SPLIT_FRACTIONS[split] * total for split in SPLITS}
    filled = dict.fromkeys(SPLITS, 0)
    assignment = {}
    for alphabet in sorted(alphabet_sizes, key=lambda a: (-alphabet_sizes[a], a)):
        split = max(SPLITS, key=lambda s: target[s] - filled[s])
        assignment[alphabet] = split
        filled[split] += alphabet_sizes[alphabet]
    return assignment


def glyph_classes(min_fonts: int = 4, max_classes: int | None = None) -> list[GlyphClass]:
    """The letter classes, sorted by code point (their class ids are the positions).

    This renders each glyph once per font (a few seconds, cached per process)
    but none of the distorted images.
    """
    if min_fonts < 1:
        raise ValueError(f"min_fonts must be at least 1, got {min_fonts}")
    bitmaps = _base_bitmaps()
    fonts_of: dict[int, list[str]] = defaultdict(list)
    for codepoint, font in bitmaps:
        fonts_of[codepoint].append(font)
    candidates = sorted(cp for cp, fonts in fonts_of.items() if len(fonts) >= min_fonts)
    letters = _drop_homoglyphs(candidates, fonts_of, bitmaps)

    alphabet = {cp: alphabet_of(chr(cp)) for cp in letters}
    sizes = Counter(alphabet.values())
    sizes = Counter({a: n for a, n in sizes.items() if n >= MIN_ALPHABET_SIZE})
    split_of = assign_splits(sizes)
    classes = [
        GlyphClass(
            codepoint=cp,
            name=unicodedata.name(chr(cp)),
            alphabet=alphabet[cp],
            split=split_of[alphabet[cp]],
            fonts=tuple(sorted(fonts_of[cp])),
        )
        for cp in letters
        if alphabet[cp] in split_of
    ]
    empty = [split for split in SPLITS if not any(c.split == split for c in classes)]
    if empty:
        raise ValueError(
            f"min_fonts={min_fonts} leaves {len(classes)} classes in {len(sizes)} alphabets, "
            f"too few to fill the split(s) {empty}; lower min_fonts"
        )
    if max_classes is not None:
        classes = _subset(classes, max_classes)
    return classes


def render_glyphs(
    image_size: int = 28,
    images_per_class: int = 20,
    min_fonts: int = 4,
    seed: int = 0,
    max_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Render the glyphs dataset.

    Returns ``images`` uint8 (N, 1, image_size, image_size), ``labels`` int64
    (N,) (class-major: the ``images_per_class`` images of class 0 first) and
    ``classes`` (columns class_id, name, alphabet, split).  ``max_classes``
    keeps an evenly spaced subset of each split, sized in proportion to the
    splits and at least one class per split.
    """
    if not 8 <= image_size <= CANVAS_PX:
        raise ValueError(f"image_size must lie in 8..{CANVAS_PX}, got {image_size}")
    if images_per_class < 1:
        raise ValueError(f"images_per_class must be at least 1, got {images_per_class}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    classes = glyph_classes(min_fonts=min_fonts, max_classes=max_classes)
    bitmaps = _base_bitmaps()

    images = np.empty((len(classes), images_per_class, image_size, image_size), np.uint8)
    for class_id, cls in enumerate(classes):
        fonts = cls.fonts
        order = np.random.default_rng([seed, cls.codepoint, FONT_ORDER_STREAM]).permutation(
            len(fonts)
        )
        for j in range(images_per_class):
            rng = np.random.default_rng([seed, cls.codepoint, IMAGE_STREAM, j])
            bitmap = bitmaps[(cls.codepoint, fonts[order[j % len(fonts)]])]
            images[class_id, j] = _distort(bitmap, rng, image_size)
        if (class_id + 1) % 500 == 0:
            log.info("rendered %d/%d glyph classes", class_id + 1, len(classes))

    labels = np.repeat(np.arange(len(classes), dtype=np.int64), images_per_class)
    table = pd.DataFrame(
        {
            "class_id": np.arange(len(classes), dtype=np.int64),
            "name": [c.name for c in classes],
            "alphabet": [c.alphabet for c in classes],
            "split": [c.split for c in classes],
        }
    )
    return images.reshape(-1, 1, image_size, image_size), labels, table


@functools.lru_cache(maxsize=1)
def _base_bitmaps() -> dict[tuple[int, str], np.ndarray]:
    """Every candidate letter rendered once per font that draws it, cropped to its ink.

    Keys are (code point, font file name); pairs with glyph index 0 or an
    empty bitmap are left out.  The arrays are read-only (the dict is cached).
    """
    bitmaps = {}
    for path in font_files():
        font = FT2Font(str(path))
        font.set_size(EM_PX, 72)  # 72 dpi: one point is one pixel
        ascii_only = path.name.startswith(TEX_FONT_PREFIX)
        for codepoint, glyph_index in sorted(font.get_charmap().items()):
            char = chr(codepoint)
            if glyph_index == 0 or not is_letter(char) or (ascii_only and not char.isascii()):
                continue
            font.set_text(char, 0.0, flags=LoadFlags.NO_HINTING)
            font.draw_glyphs_to_bitmap(antialiased=True)
            image = np.asarray(font.get_image())
            rows, cols = np.nonzero(image)
            if rows.size == 0:
                continue
            bitmap = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].copy()
            bitmap.setflags(write=False)
            bitmaps[(codepoint, path.name)] = bitmap
    return bitmaps


def _drop_homoglyphs(
    codepoints: list[int],
    fonts_of: Mapping[int, list[str]],
    bitmaps: Mapping[tuple[int, str], np.ndarray],
) -> list[int]:
    """Keep the code points (in order) that are not homoglyphs of an earlier kept one."""
    kept_by_key: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    kept = []
    for codepoint in codepoints:
        keys = [(font, _digest(bitmaps[(codepoint, font)])) for font in fonts_of[codepoint]]
        matches = Counter(other for key in keys for other in kept_by_key[key])
        if matches and 2 * max(matches.values()) >= len(keys):
            continue
        kept.append(codepoint)
        for key in keys:
            kept_by_key[key].append(codepoint)
    return kept


def _digest(bitmap: np.ndarray) -> bytes:
    shape = np.asarray(bitmap.shape, dtype=np.int64).tobytes()
    return hashlib.blake2b(shape + bitmap.tobytes(), digest_size=16).digest()


def _subset(classes: list[GlyphClass], max_classes: int) -> list[GlyphClass]:
    """An evenly spaced subset of each split, sized in proportion to the splits."""
    if max_classes < len(SPLITS):
        raise ValueError(f"max_classes must be at least {len(SPLITS)} (one per split)")
    if max_classes >= len(classes):
        return classes
    by_split = {split: [c for c in classes if c.split == split] for split in SPLITS}
    sizes = np.array([len(by_split[split]) for split in SPLITS])
    exact = max_classes * sizes / sizes.sum()
    quota = np.floor(exact).astype(int)
    for i in np.argsort(quota - exact, kind="stable")[: max_classes - quota.sum()]:
        quota[i] += 1
    while (quota == 0).any():
        quota[np.argmax(quota)] -= 1
        quota[np.argmin(quota)] += 1
    chosen = []
    for split, k in zip(SPLITS, quota):
        members = by_split[split]
        chosen += [members[i] for i in (np.arange(k) * len(members)) // k]
    return sorted(chosen, key=lambda c: c.codepoint)


def _distort(bitmap: np.ndarray, rng: np.random.Generator, image_size: int) -> np.ndarray:
    """Centre ``bitmap`` on the canvas under a random affine map and stroke change, downsample."""
    height, width = bitmap.shape
    scale = min(1.0, FIT_PX / max(height, width)) * rng.uniform(*SCALE_RANGE)
    angle = math.radians(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR)
    shift = rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX, size=2)
    stroke = int(rng.integers(-1, 3))

    cos, sin = math.cos(angle), math.sin(angle)
    forward = scale * np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]])
    inverse = np.linalg.inv(forward)
    canvas_centre = np.full(2, (CANVAS_PX - 1) / 2) + shift
    glyph_centre = np.array([(height - 1) / 2, (width - 1) / 2])
    canvas = ndimage.affine_transform(
        bitmap.astype(np.float32),
        inverse,
        offset=glyph_centre - inverse @ canvas_centre,
        output_shape=(CANVAS_PX, CANVAS_PX),
        order=1,
    )
    if stroke < 0:
        canvas = ndimage.grey_erosion(canvas, size=(2, 2))
    elif stroke > 0:
        canvas = ndimage.grey_dilation(canvas, size=(stroke + 1, stroke + 1))
    pixels = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    small = Image.fromarray(pixels).resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(small)
