"""The published numbers this study is compared with: the paper's and Huisman's thesis's.

The one place they are written down. Every module that quotes a published value (the
claims, the scale summary, the report's tables and text, the protocol table) reads it from
here, so this module imports nothing of the library and sits in its lowest layer.
"""

from __future__ import annotations

PAPER_CITATION = (
    "T. Starshak, \"Negative Inner-Loop Learning Rates Learn Universal Features\", "
    "Stanford University (Mini-ImageNet, 5-way 1-shot, one model per algorithm, 60,000 iterations)"
)

#: Paper Table 1, "Final inner-loop learning rates for meta-SGD": layer -> (mean, std. dev.).
PAPER_TABLE1_LR: dict[str, tuple[float, float]] = {
    "conv1": (-0.006, 0.032),
    "conv2": (-0.004, 0.027),
    "conv3": (-0.013, 0.027),
    "conv4": (-0.018, 0.030),
    "logits": (0.043, 0.072),
}

#: The algorithm whose rates the paper's Table 1 reports.
PAPER_TABLE1_ALGORITHM = "metasgd"

#: Other numbers quoted in the paper's text (Section 5).
PAPER_REFERENCE: dict[str, float] = {
    # 5.1: final validation accuracies, "approximately 46% and 47%"
    "validation_accuracy_maml": 0.46,
    "validation_accuracy_metasgd": 0.47,
    # 5.3: off-task change, "Meta-SGD increased by 0.2% while MAML decreased by 0.3%"
    "off_task_change_maml": -0.003,
    "off_task_change_metasgd": 0.002,
    # 5.3: t-test on the relative change between on-task and off-task performance
    "ttest_p_value": 0.00044,
    "probe_iterations": 40_000,
    "train_iterations": 60_000,
}

#: Huisman, thesis Table 3.1: median meta-test accuracy, miniImageNet 5-way 1-shot, 5 runs.
THESIS_TABLE31_1SHOT: dict[str, float] = {
    "lstm_meta": 0.45,
    "lstm_meta_plus": 0.48,
    "fomaml": 0.46,
    "maml": 0.47,
    "fo_turtle": 0.43,
    "turtle": 0.48,
}

_STUDY = "the study, Sec. 4"
#: (algorithm, option) -> (value, source) for the learning rates the sources state.
PUBLISHED_RATES: dict[tuple[str, str], tuple[float, str]] = {
    ("maml", "inner_lr"): (0.01, _STUDY),
    ("fomaml", "inner_lr"): (0.01, _STUDY),
    ("maml_fd", "inner_lr"): (0.01, _STUDY),
    ("metasgd", "lr_init_low"): (0.005, "Li et al. 2017"),
    ("metasgd", "lr_init_high"): (0.1, "Li et al. 2017"),
}

_FINN = "Finn et al. 2017, Table 1"
_LI = "Li et al. 2017, Table 1"
#: Published meta-test accuracy: dataset -> setting -> algorithm -> (accuracy, source), for
#: the datasets whose presets follow the sources' protocols (config/presets/omniglot.yaml,
#: paper.yaml). The report prints them beside the measured accuracy of a run on that dataset.
PUBLISHED_META_TEST: dict[str, dict[str, dict[str, tuple[float, str]]]] = {
    "omniglot": {
        "5w1s": {"maml": (0.987, _FINN), "metasgd": (0.9953, _LI)},
        "5w5s": {"maml": (0.999, _FINN), "metasgd": (0.9993, _LI)},
    },
    "miniimagenet": {
        "5w1s": {"maml": (0.4870, _FINN), "fomaml": (0.4807, _FINN), "metasgd": (0.5047, _LI)},
        "5w5s": {"maml": (0.6311, _FINN), "fomaml": (0.6315, _FINN), "metasgd": (0.6403, _LI)},
    },
}
