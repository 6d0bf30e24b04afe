"""Shared helpers of the on-disk dataset loaders: layout checks, image reading, fingerprints.

The loaders (:mod:`~innerloop.data.omniglot`, :mod:`~innerloop.data.miniimagenet`,
:mod:`~innerloop.data.cub`, :mod:`~innerloop.data.cifarfs`,
:mod:`~innerloop.data.torchvision_sets`) never download anything: they read a
directory named in the config (``datasets.<name>.root``).  Whatever is missing
or malformed there stops the preparation with a :class:`DatasetSourceError`
whose message names

* the path that is wrong,
* what was expected at that path, and
* where the dataset can be obtained (and which config key to point at it),

before anything is written, so a failed preparation leaves no store behind.

Images are converted deterministically: decoded with PIL, converted to ``L``
(1 channel) or ``RGB`` (3 channels) and, when their size differs from the
target, resized with PIL's Lanczos filter (antialiased); the result is uint8
``(C, H, W)``.

**Source fingerprint.**  A prepared store records where it came from: the
resolved root, the number of source files and the sha256 of the *listing* of
the files the loader reads, one line ``relative/path<TAB>size<TAB>mtime_ns``
per regular file, sorted by path (hidden names, starting with ``.``, are
skipped by the loaders and by the listing alike).  A file added, removed,
resized or touched changes the fingerprint, so a changed source directory is
detected without reading the images themselves.  (A change that keeps both the
size and the modification time of every file is not detected.)
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

#: Errors PIL raises on a truncated, corrupt or non-image file.
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class DatasetSourceError(ValueError):
    """The source directory of an on-disk dataset is missing or malformed."""

    def __init__(self, dataset: str, path: str | os.PathLike | None, expected: str,
                 problem: str, obtain: str) -> None:
        self.dataset = dataset
        self.path = None if path is None else Path(path)
        self.expected = expected
        self.problem = problem
        where = f"{problem}; it must name a directory holding" if path is None else (
            f"{problem} at {path}; expected there:"
        )
        super().__init__(
            f"dataset {dataset!r}: {where} {expected}. "
            f"The dataset is not downloaded by this workflow: obtain it from {obtain} and set "
            f"datasets.{dataset}.root to the directory that holds it."
        )


@dataclass(frozen=True)
class Source:
    """What a loader tells the user about its dataset: its name and where to get it."""

    dataset: str
    obtain: str

    def error(self, path: str | os.PathLike | None, expected: str, problem: str) -> DatasetSourceError:
        return DatasetSourceError(self.dataset, path, expected, problem, self.obtain)

    def root(self, root: str | os.PathLike | None, expected: str) -> Path:
        """The configured root as a Path; it must be set and be a directory."""
        if root is None or str(root) == "":
            raise self.error(None, expected, f"datasets.{self.dataset}.root is not set")
        path = Path(root).expanduser()
        if path.is_dir():
            return path
        if path.exists():
            raise self.error(path, expected, "found a file, not a directory,")
        raise self.error(path, expected, "the directory does not exist")

    def directory(self, path: Path, expected: str) -> Path:
        if not path.is_dir():
            raise self.error(path, expected, "the folder is missing")
        return path

    def file(self, path: Path, expected: str) -> Path:
        if not path.is_file():
            raise self.error(path, expected, "the file is missing")
        return path

    def nested(self, root: Path, marker: str, candidates: Sequence[str], expected: str) -> Path:
        """``root`` if it holds ``marker``, else the first ``root/<candidate>`` that does.

        Lets ``root`` name either the dataset's own folder or the folder that contains it
        (torchvision's root, or the folder an archive was extracted into).
        """
        for folder in (root, *(root / c for c in candidates)):
            if (folder / marker).exists():
                return folder
        places = " or ".join(str(Path(c) / marker) for c in ("", *candidates))
        raise self.error(root, f"{places} ({expected})", f"{marker} is missing")

    def count(self, path: Path, what: str, found: int, expected: int) -> None:
        if found != expected:
            raise self.error(path, f"{expected} {what}", f"found {found} {what}")

    def image(self, path: Path, mode: str, size: int, invert: bool = False,
              source_size: tuple[int, int] | None = None) -> np.ndarray:
        """Read the image at ``path`` as uint8 (C, size, size); see :func:`to_array`."""
        try:
            with Image.open(path) as image:
                image.load()
                if source_size is not None and image.size != source_size:
                    raise self.error(
                        path, f"a {source_size[0]}x{source_size[1]} image",
                        f"the image is {image.size[0]}x{image.size[1]}",
                    )
                return to_array(image, mode, size, invert)
        except DatasetSourceError:
            raise
        except IMAGE_ERRORS as error:
            raise self.error(path, "a readable image file", f"the image cannot be read ({error})") from error


def read_pickle(source: Source, path: Path, keys: Sequence[str]) -> dict:
    """A pickled dict (possibly written by Python 2) with str keys, checked to hold ``keys``.

    :mod:`pickle` can run code from the file: only point a root at trusted files.
    """
    expected = f"a pickled dict with keys {list(keys)}"
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle, encoding="latin1")
    except Exception as error:  # a corrupt pickle can raise almost anything
        raise source.error(
            path, expected, f"the file cannot be unpickled ({type(error).__name__}: {error})"
        ) from error
    if isinstance(data, dict):
        data = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in data.items()}
    if not isinstance(data, dict) or not set(keys) <= set(data):
        found = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise source.error(path, expected, f"found {found}")
    return data


def to_array(image: Image.Image, mode: str, size: int, invert: bool = False) -> np.ndarray:
    """``image`` as uint8 (C, size, size): converted to ``mode`` (``L`` or ``RGB``),
    optionally inverted (255 - x), resized with Lanczos when its size differs."""
    converted = image.convert(mode)
    if invert:
        converted = ImageOps.invert(converted)
    if converted.size != (size, size):
        converted = converted.resize((size, size), Image.Resampling.LANCZOS)
    array = np.asarray(converted, dtype=np.uint8)
    return array[None].copy() if mode == "L" else array.transpose(2, 0, 1).copy()


def resize_array(pixels: np.ndarray, mode: str, size: int) -> np.ndarray:
    """A uint8 (H, W) or (H, W, 3) array as uint8 (C, size, size) (see :func:`to_array`)."""
    return to_array(Image.fromarray(np.ascontiguousarray(pixels)), mode, size)


def check_image_size(image_size: int, minimum: int = 8) -> int:
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < minimum:
        raise ValueError(f"image_size must be an integer of at least {minimum}, got {image_size!r}")
    return int(image_size)


def visible(folder: Path) -> list[Path]:
    """Entries of ``folder`` whose names do not start with ``.``, sorted by name."""
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def subfolders(folder: Path) -> list[Path]:
    return [p for p in visible(folder) if p.is_dir()]


# ---------------------------------------------------------------- fingerprints


@dataclass(frozen=True)
class Fingerprint:
    """The file count and listing checksum of a dataset's source files."""

    files: int
    listing_sha256: str


def _walk(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
        return
    for folder, dirs, files in os.walk(path, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield Path(folder) / name


def source_listing(paths: Sequence[Path], base: Path) -> list[str]:
    """``relative/path<TAB>size<TAB>mtime_ns`` of every file under ``paths``, sorted.

    ``paths`` are files or folders (walked recursively) inside ``base``; relative
    paths are POSIX-style and relative to ``base``.
    """
    lines = {}
    for path in paths:
        for file in _walk(Path(path)):
            stat = file.stat()
            relative = file.relative_to(base).as_posix()
            lines[relative] = f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}"
    return [lines[key] for key in sorted(lines)]


def source_fingerprint(paths: Sequence[Path], base: Path) -> Fingerprint:
    """The :class:`Fingerprint` of the files under ``paths`` (see :func:`source_listing`)."""
    listing = source_listing(paths, base)
    digest = hashlib.sha256("".join(line + "\n" for line in listing).encode("utf-8"))
    return Fingerprint(files=len(listing), listing_sha256=digest.hexdigest())
