"""Every algorithm learns under its default settings: a short run on glyphs beats chance on
held-out tasks by a margin, and beats its own untrained reference.

The runs take each algorithm's options and the training settings from the default
experiment (config/config.yaml over the schema's defaults; tests/learning.py): no rate is
chosen for the test. Learners whose modules have their own test file check learning there
with the same helper; the MAML family and the multi-task baseline are checked here. A
held-out score alone could come from evaluation-time fine-tuning of an untrained network,
so each test also compares with the untrained reference: the same seed's initialisation
under the same evaluation protocol.
"""

import pytest

from learning import CHANCE, MARGIN, REFERENCE_MARGIN, short_run_accuracy, untrained_accuracy


@pytest.mark.parametrize("algorithm, options", [
    ("maml", {}),
    ("fomaml", {}),
    ("maml_fd", {}),
    pytest.param("negmaml", {}, marks=pytest.mark.xfail(strict=True, reason=(
        "a negative inner rate makes the inner loop ascend the support loss, which to first order in the rate "
        "raises the query loss of every same-class query (ReLU features are non-negative), so the outer loop "
        "learns to make adaptation ineffective: measured 0.237 trained vs 0.303 untrained (defaults), 0.261 vs "
        "0.303 (inner_lr -0.1), 0.253 vs 0.303 (first order), 0.170 vs 0.168 (evaluated at the negative rate)"))),
    ("metasgd", {}),
    ("metasgd", {"positive": True}),  # the rate-sign ablation's run (ablations.rate_signs.positive_trained)
    ("anil", {}),
    ("boil", {}),
    ("multitask", {}),
])
def test_short_training_with_default_settings_beats_chance_and_its_untrained_reference(tmp_path, glyph_store,
                                                                                        algorithm, options):
    accuracy = short_run_accuracy(glyph_store, tmp_path, algorithm, options)
    before = untrained_accuracy(glyph_store, algorithm, options)
    print(f"{algorithm} {options}: {accuracy:.3f} trained, {before:.3f} untrained")
    assert accuracy > CHANCE + MARGIN, f"{algorithm} {options}: {accuracy:.3f} on held-out tasks"
    assert accuracy > before + REFERENCE_MARGIN, f"{algorithm} {options}: {before:.3f} untrained, {accuracy:.3f} trained"
