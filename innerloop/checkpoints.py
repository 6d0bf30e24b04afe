"""Checkpoint and model files that are checked on load: written atomically with their sha256
beside them (``model.pt.sha256``), refused with a message saying what to delete when they
do not match it or cannot be read.

Training writes them, every evaluation reads them, and the run tables read a model's
status from them; this module needs nothing of the library but :mod:`innerloop.io`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from innerloop.io import atomic_path, sha256_file, write_text_atomic


class CheckpointCorruptError(RuntimeError):
    """A saved model or checkpoint that cannot be read or does not match its recorded checksum."""


#: What to delete to recover from a corrupt file, by kind of file.
RECOVERY = {
    "checkpoint": "delete {path} (and its .sha256) and rerun: the run restarts from iteration 0",
    "model": "delete {path} (and its .sha256) and rerun the workflow: the train rule runs again, "
             "resuming from its checkpoint",
}


def checksum_path(path: Path) -> Path:
    """The sidecar holding the sha256 of ``path`` (``model.pt.sha256``)."""
    return path.with_name(path.name + ".sha256")


def save_checked(obj, path: Path) -> None:
    """``torch.save`` ``obj`` atomically to ``path`` and record its sha256 next to it.

    The old checksum is removed first, so an interruption between the two writes leaves
    a file without a checksum (checked only by loading), never a stale checksum.
    """
    path = Path(path)
    checksum_path(path).unlink(missing_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    write_text_atomic(checksum_path(path), f"{sha256_file(path)}  {path.name}\n")


def load_checked(path: Path, *, what: str = "checkpoint"):
    """``torch.load`` ``path`` after checking it against its recorded sha256.

    A file that does not match its checksum or cannot be unpickled raises
    :class:`CheckpointCorruptError` naming the file and what to delete (``what``: a key
    of :data:`RECOVERY`); nothing is deleted here. A model must have its checksum (the
    train rules declare it as an output); a checkpoint without one (interrupted between
    the two writes of :func:`save_checked`) is checked only by loading.
    """
    path = Path(path)
    recovery = RECOVERY[what].format(path=path)
    sidecar = checksum_path(path)
    if what == "model" and path.is_file() and not sidecar.is_file():
        raise CheckpointCorruptError(f"{what} {path} has no checksum file {sidecar}, so it cannot be checked; "
                                     f"{recovery}")
    if sidecar.is_file():
        expected = (sidecar.read_text().split() or [""])[0]
        actual = sha256_file(path)
        if actual != expected:
            raise CheckpointCorruptError(f"{what} {path} is corrupt or truncated: its sha256 {actual} does not "
                                         f"match {expected or 'nothing'} recorded in {sidecar}; {recovery}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, KeyError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise CheckpointCorruptError(f"{what} {path} cannot be read ({type(error).__name__}: {error}); "
                                     f"it is corrupt or truncated: {recovery}") from error
