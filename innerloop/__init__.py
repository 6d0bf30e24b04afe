"""innerloop: a small library for studying how gradient-based meta-learners learn.

``innerloop.load(path)`` returns a trained ``model.pt``'s learner and the spec it was
trained with (:func:`innerloop.training.load`).
"""

import importlib

#: Imported on first use, so that ``import innerloop.<module>`` stays light.
_LAZY = {"load": "innerloop.training"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'innerloop' has no attribute {name!r}")


__all__ = ["load"]
