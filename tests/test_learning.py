"""Every algorithm learns: a short run on glyphs beats chance on held-out tasks by a margin.

Learners whose modules have their own test file check learning there with the same
helper (tests/learning.py); the MAML family is checked here.
"""

import pytest

from learning import CHANCE, MARGIN, short_run_accuracy


@pytest.mark.parametrize("algorithm, options", [
    ("maml", {"inner_lr": 0.1}),
    ("fomaml", {"inner_lr": 0.1}),
    ("maml_fd", {"inner_lr": 0.1}),
    ("metasgd", {}),
    ("metasgd", {"positive": True}),
    ("negmaml", {"inner_lr": -0.01, "eval_inner_lr": 0.1}),
    ("anil", {"inner_lr": 0.1}),
    ("boil", {"inner_lr": 0.1}),
    ("multitask", {"inner_lr": 0.1}),
])
def test_short_training_beats_chance(tmp_path, glyph_store, algorithm, options):
    accuracy = short_run_accuracy(glyph_store, tmp_path, algorithm, options)
    assert accuracy > CHANCE + MARGIN, f"{algorithm} {options}: {accuracy:.3f} on held-out tasks"
