"""ANIL and BOIL: MAML with only part of the network adapting in the inner loop.

* ``anil`` (Raghu et al. 2020, "Almost No Inner Loop"): only the linear head adapts; the
  body's features are reused unchanged.
* ``boil`` (Oh et al. 2021, "Body Only update in Inner Loop"): only the body adapts; the
  head stays at its meta-initialisation, so adaptation must move the features.

Both take MAML's scalar step and the outer loop learns every parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from innerloop.algorithms.maml import MAML
from innerloop.models import is_head


class ANIL(MAML):
    name = "anil"
    label = "ANIL"
    order = 70
    family = "meta"
    color = "#2a9d8f"

    @dataclass(frozen=True)
    class Options(MAML.Options):
        inner_lr: float = 0.1

    def adapts(self, name: str) -> bool:
        return is_head(name)


class BOIL(MAML):
    name = "boil"
    label = "BOIL"
    order = 80
    family = "meta"
    color = "#86cfc2"

    @dataclass(frozen=True)
    class Options(MAML.Options):
        inner_lr: float = 0.1

    def adapts(self, name: str) -> bool:
        return not is_head(name)
