"""Omniglot (Lake et al. 2015) read from its extracted archives.

**Layout** (``datasets.omniglot.root``)::

    images_background/<alphabet>/<character>/<drawing>.png   30 alphabets, 964 characters
    images_evaluation/<alphabet>/<character>/<drawing>.png   20 alphabets, 659 characters

each character with 20 drawings of 105x105 pixels (1,623 characters, 32,460
images), as extracted from ``images_background.zip`` and
``images_evaluation.zip`` of https://github.com/brendenlake/omniglot (folder
``python/``).  The counts are checked (:data:`EXPECTED`).

**Images.** The drawings are black strokes on white; they are inverted so that
ink is bright (255) on black (0) as in every store, and resized to
``image_size`` (28 by default) with PIL's Lanczos filter: 1 channel, uint8.

**Order.** Sorting, never the order in which the file system lists a
directory, decides everything: characters are ordered by (set, alphabet,
character) with ``images_background`` before ``images_evaluation`` and names
compared as Python strings; drawings within a character by file name.

**Splits** (``split``):

* ``"background"``: Lake's split.  ``images_evaluation`` is the test split;
  of the background alphabets in sorted order the last ``val_alphabets``
  (default 5: Ojibwe, Sanskrit, Syriac (Estrangelo), Tagalog, Tifinagh) are
  the validation split and the others (25 alphabets) the training split, so
  the three splits are alphabet-disjoint.
* ``"vinyals"``: the character split of Vinyals et al. (2016) with the sizes
  used since Ravi & Larochelle (2017), 1,028 / 172 / 423 characters, taken in
  the sorted order above: the first 1,028 characters are train, the next 172
  val, the last 423 test.  The test characters are exactly those of the usual
  Vinyals test list (torchmeta's ``omniglot/test.json``: Gurmukhi character42
  through ULOG); the train and val characters differ from that list, whose
  validation set is five background alphabets, because here contiguous sorted
  ranges decide (alphabets may straddle two splits).

**Rotations** (``rotations``): each character rotated counter-clockwise by
each listed multiple of 90 degrees is a class of its own (Santoro et al. 2016;
Vinyals et al. 2016), in the split of its character; ``[0]`` (the default)
means no rotated classes.  Class ``name`` is ``<alphabet>/<character>`` with
``/rot<degrees>`` appended for a rotation other than 0, ``alphabet`` is the
alphabet folder's name, and class ids follow (character order, rotation).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.data.sources import Source, check_image_size, subfolders, visible

SOURCE = Source(
    "omniglot",
    "https://github.com/brendenlake/omniglot (python/images_background.zip and "
    "python/images_evaluation.zip, extracted side by side)",
)
SETS = ("images_background", "images_evaluation")
SPLIT_RULES = ("background", "vinyals")
ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class Expected:
    """The counts a complete Omniglot has; the loader refuses anything else."""

    alphabets: dict[str, int] = field(
        default_factory=lambda: {"images_background": 30, "images_evaluation": 20}
    )
    characters: dict[str, int] = field(
        default_factory=lambda: {"images_background": 964, "images_evaluation": 659}
    )
    drawings: int = 20
    side: int = 105
    vinyals: tuple[int, int, int] = (1028, 172, 423)


EXPECTED = Expected()


def _layout() -> str:
    return (
        f"the folders {SETS[0]}/ and {SETS[1]}/, each holding <alphabet>/<character>/ folders "
        f"of {EXPECTED.drawings} {EXPECTED.side}x{EXPECTED.side} PNG drawings"
    )


def source_paths(root: str | os.PathLike | None) -> list[Path]:
    """The two set folders under ``root`` (checked to exist)."""
    base = SOURCE.root(root, _layout())
    return [SOURCE.directory(base / name, f"the Omniglot set folder {name}/ ({_layout()})")
            for name in SETS]


def _characters(set_dir: Path) -> list[tuple[str, str, Path]]:
    """(alphabet, character, folder) of one set, sorted, with the counts checked."""
    name = set_dir.name
    alphabets = subfolders(set_dir)
    SOURCE.count(set_dir, "alphabet folders", len(alphabets), EXPECTED.alphabets[name])
    characters = []
    for alphabet in alphabets:
        folders = subfolders(alphabet)
        if not folders:
            raise SOURCE.error(alphabet, "<character>/ folders of PNG drawings", "found no character folders")
        characters += [(alphabet.name, character.name, character) for character in folders]
    SOURCE.count(set_dir, "character folders (over all alphabets)", len(characters),
                 EXPECTED.characters[name])
    return characters


def _drawings(folder: Path) -> list[Path]:
    files = visible(folder)
    pngs = [f for f in files if f.suffix.lower() == ".png" and f.is_file()]
    others = [f.name for f in files if f not in pngs]
    if others:
        raise SOURCE.error(folder, f"only {EXPECTED.drawings} PNG drawings", f"found other entries {others[:3]}")
    SOURCE.count(folder, "PNG drawings", len(pngs), EXPECTED.drawings)
    return pngs


def _splits(sets: list[list], rule: str, val_alphabets: int) -> list[str]:
    """The split of each character, in the sorted character order."""
    background, evaluation = sets
    if rule == "vinyals":
        counts = EXPECTED.vinyals
        total = len(background) + len(evaluation)
        if sum(counts) != total:
            raise ValueError(
                f"split='vinyals' needs {sum(counts)} characters ({counts[0]}/{counts[1]}/{counts[2]}), "
                f"found {total}"
            )
        return ["train"] * counts[0] + ["val"] * counts[1] + ["test"] * counts[2]
    alphabets = sorted({alphabet for alphabet, _, _ in background})
    if not 1 <= val_alphabets < len(alphabets):
        raise ValueError(
            f"val_alphabets must lie in 1..{len(alphabets) - 1} (the background set has "
            f"{len(alphabets)} alphabets), got {val_alphabets}"
        )
    held_out = set(alphabets[-val_alphabets:])
    return [("val" if alphabet in held_out else "train") for alphabet, _, _ in background] + [
        "test"
    ] * len(evaluation)


def load_omniglot(
    root: str | os.PathLike | None = None,
    image_size: int = 28,
    split: str = "background",
    rotations: Sequence[int] = (0,),
    val_alphabets: int = 5,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Return ``images`` uint8 (N, 1, image_size, image_size), ``labels`` int64 (N,), ``classes``."""
    image_size = check_image_size(image_size)
    if split not in SPLIT_RULES:
        raise ValueError(f"split must be one of {list(SPLIT_RULES)}, got {split!r}")
    rotations = list(rotations)
    if not rotations or any(r not in ROTATIONS for r in rotations) or len(set(rotations)) != len(rotations):
        raise ValueError(f"rotations must be distinct values among {list(ROTATIONS)}, got {rotations}")

    sets = [_characters(folder) for folder in source_paths(root)]
    characters = [c for s in sets for c in s]
    splits = _splits(sets, split, val_alphabets)
    drawings = [_drawings(folder) for _, _, folder in characters]

    side = (EXPECTED.side, EXPECTED.side)
    base = np.stack([
        np.stack([SOURCE.image(path, "L", image_size, invert=True, source_size=side) for path in paths])
        for paths in drawings
    ])  # (characters, drawings, 1, S, S)
    images, labels, rows = [], [], []
    for index, ((alphabet, character, _), character_split) in enumerate(zip(characters, splits)):
        for degrees in rotations:
            class_id = len(rows)
            images.append(np.rot90(base[index], k=degrees // 90, axes=(2, 3)))
            labels.append(np.full(len(base[index]), class_id, dtype=np.int64))
            suffix = f"/rot{degrees}" if degrees else ""
            rows.append((class_id, f"{alphabet}/{character}{suffix}", alphabet, character_split))
    classes = pd.DataFrame(rows, columns=["class_id", "name", "alphabet", "split"])
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels), classes
