"""The order and grouping of algorithms and settings in every table and figure.

Rows follow Huisman's Table 3.1: the transfer-learning baselines of Chen et al. (2019)
first, then the meta-learners; within each block the order of
:data:`innerloop.catalog.DISPLAY_NAMES`; names it does not know come last, sorted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from innerloop.catalog import DISPLAY_NAMES, FAMILIES

#: Huisman Table 3.1's first block: TrainFromScratch, Finetuning, Baseline++ (the learners
#: of family "transfer", in table order).
TRANSFER_BASELINES: tuple[str, ...] = tuple(name for name, family in FAMILIES.items() if family == "transfer")
#: Heading of each family's block.
GROUP_LABELS: dict[str, str] = {"transfer": "Transfer baselines", "meta": "Meta-learners"}


def algorithm_group(name: str) -> str:
    """The learner's family: ``"transfer"`` for the transfer baselines, ``"meta"`` for every
    other algorithm (names the registry does not know included)."""
    return FAMILIES.get(str(name), "meta")


def algorithm_rank(name: str) -> tuple[int, int, str]:
    """Sort key: (group, position in DISPLAY_NAMES, name)."""
    known = list(DISPLAY_NAMES)
    name = str(name)
    return (0 if algorithm_group(name) == "transfer" else 1,
            known.index(name) if name in known else len(known), name)


def algorithm_order(names: Iterable[object]) -> list[str]:
    """The distinct ``names`` in table order (transfer baselines, then meta-learners)."""
    return sorted({str(n) for n in names}, key=algorithm_rank)


#: A cross-domain setting: ``<train>_to_<test>_<W>w<S>s`` (trained on ``train``, tested on ``test``;
#: :func:`innerloop.runs.cross_domain_setting` writes it).
_CROSS = re.compile(r"(?P<train>[a-z0-9_]+?)_to_(?P<test>[a-z0-9_]+)_(?P<ways>\d+)w(?P<shots>\d+)s")


def parse_setting(setting: object) -> dict | None:
    """``{"train", "test", "ways", "shots"}`` of a setting key (``train``/``test`` None for a
    within-dataset setting such as ``"5w1s"``); None for anything else."""
    text = str(setting).strip()
    m = re.fullmatch(r"(\d+)w(\d+)s", text)
    if m:
        return {"train": None, "test": None, "ways": int(m[1]), "shots": int(m[2])}
    m = _CROSS.fullmatch(text)
    if m:
        return {"train": m["train"], "test": m["test"], "ways": int(m["ways"]), "shots": int(m["shots"])}
    return None


def setting_key(setting: object) -> tuple[str, float, float, str]:
    """Sort key of a setting: by direction (cross-domain settings), then ways, then shots
    (so 5w5s before 5w10s, and the thesis' Table 3.4 order: each direction's 1-shot, then 5-shot)."""
    parsed = parse_setting(setting)
    if parsed is None:
        return ("\uffff", math.inf, math.inf, str(setting))
    direction = f"{parsed['train']}\t{parsed['test']}" if parsed["train"] else ""
    return (direction, parsed["ways"], parsed["shots"], "")


def setting_order(settings: Iterable[object]) -> list[str]:
    return sorted({str(s) for s in settings}, key=setting_key)
