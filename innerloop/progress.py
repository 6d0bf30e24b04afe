"""Progress bars that read well both in a terminal and in a rule's log file.

tqdm comes with the workflow's packages; the library alone (``pip install innerloop``)
runs without it, with no progress bars.
"""

from __future__ import annotations

import sys


class _Lines:
    """A stream that ends every tqdm refresh with a newline instead of a carriage return,
    so a log file holds one readable line per update rather than one endless line."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


class _Silent:
    """What :func:`progress` returns without tqdm: iterates, updates and closes silently."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def progress(iterable=None, *, total: int | None = None, desc: str = "", initial: int = 0,
             disable: bool = False):
    """A tqdm bar on stderr: live in a terminal, a line every 15 s in a log file."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    interactive = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, initial=initial, disable=disable,
                file=sys.stderr if interactive else _Lines(sys.stderr),
                mininterval=0.5 if interactive else 15, ascii=not interactive, dynamic_ncols=interactive)
