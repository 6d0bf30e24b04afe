"""Each registered algorithm's test parameters: what tests/algorithms/ needs to know of it
beyond the class's own declarations (innerloop/algorithms/base.py).

A registered learner (``innerloop.algorithms.LEARNERS``: its module states its ``name``) is
in every parametrised test of tests/algorithms/: its meta-gradient batched against the per-task loop in float64, a
short training run with its default settings against chance and its untrained reference,
saving and reloading, and CUDA where present. Those tests fail until it has a ``Case`` here
(tests/algorithms/test_every_algorithm.py), and the case must name the test that holds its
meta-gradient to a hand-derived reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from innerloop.algorithms import ALGORITHMS


@dataclass(frozen=True)
class Case:
    #: The test (``file::function`` under tests/algorithms/) that checks the meta-gradient, or
    #: the adaptation the learner makes instead, against a reference written out by hand.
    reference: str
    #: Options under which its learned parts matter on the float64 test networks (inner rates
    #: large enough to move a tiny network in two steps, small hidden layers ...).
    gradient_options: dict = field(default_factory=dict)
    #: Further configurations for the batched-gradient tests: name -> options over those.
    gradient_variants: dict = field(default_factory=dict)
    #: Further option sets that the default experiment runs, for the learning test:
    #: label -> options over the default ones.
    learning_variants: dict = field(default_factory=dict)
    #: RunSpec fields of the learning test's short run that differ from tests/learning.py's.
    learning_overrides: dict = field(default_factory=dict)
    #: How far above its untrained reference the trained learner must score.
    reference_margin: float = 0.05
    #: Why the learning test is expected to fail (strict xfail), if it is.
    learning_xfail: str | None = None


MAML_FAMILY = "test_maml_family.py"
CASES: dict[str, Case] = {
    "maml": Case(f"{MAML_FAMILY}::test_maml_second_order_matches_reference", {"inner_lr": 0.5}),
    # First order learns more slowly than second order at the default rate: 0.351 held-out after
    # 60 iterations, 0.381 after 80, 0.413 after 100, against 0.303 untrained. At 60 the gain sits
    # on the 0.05 margin, where a CPU's rounding decides the test.
    "fomaml": Case(f"{MAML_FAMILY}::test_first_order_drops_the_hessian_term", {"inner_lr": 0.5},
                   learning_overrides={"iterations": 100}),
    "maml_fd": Case(f"{MAML_FAMILY}::test_finite_difference_hessian_matches_exact_second_order",
                    {"inner_lr": 0.5, "epsilon": 1e-4}),
    # With its rates held positive Meta-SGD learns more slowly: on one 2-core AVX2 machine 0.505
    # held-out after 60 iterations, 0.537 after 80, 0.563 after 100, against 0.461 untrained (free
    # rates: 0.571, 0.601, 0.643). At 60 the gain sits on the 0.05 margin, where a CPU's rounding
    # decides the test.
    "metasgd": Case(f"{MAML_FAMILY}::test_metasgd_matches_reference_and_rates_get_gradients",
                    {"lr_init_low": 0.05, "lr_init_high": 0.5},
                    gradient_variants={"first_order": {"first_order": True}, "positive": {"positive": True}},
                    # the rate-sign ablation's run (ablations.rate_signs.positive_trained)
                    learning_variants={"positive": {"positive": True}}, learning_overrides={"iterations": 100}),
    "alpha_maml": Case("test_alpha_maml_and_reptile.py::test_alpha_hypergradient_matches_finite_difference_for_two_steps",
                       {"inner_lr": 0.5}, gradient_variants={"first_order": {"first_order": True}}),
    "negmaml": Case(f"{MAML_FAMILY}::test_negative_maml_ascends_in_training_and_descends_at_evaluation",
                    {"inner_lr": -0.3, "eval_inner_lr": 0.3}, learning_xfail=(
                        "a negative inner rate makes the inner loop ascend the support loss, which to first order in "
                        "the rate raises the query loss of every same-class query (ReLU features are non-negative), "
                        "so the outer loop learns to make adaptation ineffective: measured 0.237 trained vs 0.303 "
                        "untrained (defaults), 0.261 vs 0.303 (inner_lr -0.1), 0.253 vs 0.303 (first order), 0.170 "
                        "vs 0.168 (evaluated at the negative rate)")),
    "anil": Case(f"{MAML_FAMILY}::test_partial_adaptation_matches_reference", {"inner_lr": 0.5}),
    "boil": Case(f"{MAML_FAMILY}::test_partial_adaptation_matches_reference", {"inner_lr": 0.5}),
    "multitask": Case("test_transfer.py::test_pretraining_trains_body_and_classifier_never_the_new_head",
                      {"finetune_steps": 3, "finetune_lr": 0.5}),
    "protonet": Case("test_transfer.py::test_protonet_loss_and_meta_gradient_match_reference", reference_margin=0.1),
    "scratch": Case("test_transfer.py::test_scratch_adaptation_from_init_equals_sgd_on_every_parameter",
                    {"finetune_steps": 3, "finetune_lr": 0.5}),
    "finetune": Case("test_transfer.py::test_finetuning_freezes_the_body_and_equals_sgd_on_the_head",
                     {"finetune_steps": 3, "finetune_lr": 0.5}, reference_margin=0.1),
    "baselinepp": Case("test_transfer.py::test_finetuning_freezes_the_body_and_equals_sgd_on_the_head",
                       {"finetune_steps": 3, "finetune_lr": 0.5}, reference_margin=0.1),
    # The learned optimisers: 40 iterations instead of 60.
    "lstm_meta": Case("test_learned_optimisers.py::test_lstm_meta_gradient_matches_reference", {"hidden_size": 4},
                      learning_overrides={"iterations": 40}),
    "lstm_meta_plus": Case(
        "test_learned_optimisers.py::test_lstm_with_open_forget_gate_and_constant_input_gate_is_maml",
        {"hidden_size": 4, "inner_steps": 2}, learning_overrides={"iterations": 40}),
    "turtle": Case("test_learned_optimisers.py::test_turtle_meta_gradient_matches_reference",
                   {"hidden_layers": 2, "hidden_units": 6, "inputs": ["gradient", "loss", "step", "moving_average"],
                    "lr_init": 0.3}, learning_overrides={"iterations": 40}),
    "fo_turtle": Case("test_learned_optimisers.py::test_turtle_meta_gradient_matches_reference",
                      {"hidden_layers": 1, "hidden_units": 4, "lr_init": 0.3}, learning_overrides={"iterations": 40}),
    "reptile": Case("test_alpha_maml_and_reptile.py::test_reptile_outer_step_is_the_interpolation", {"inner_lr": 0.5}),
}


def case(name: str) -> Case:
    """The test parameters of the registered algorithm ``name``; a clear failure without them."""
    try:
        return CASES[name]
    except KeyError:
        pytest.fail(f"algorithm {name!r} is registered but has no Case in tests/algorithm_cases.py")


def gradient_cases() -> dict[str, tuple[str, dict]]:
    """Case id -> (algorithm, options) for the float64 gradient tests: every registered
    algorithm at its gradient options, then its variants (``metasgd_first_order`` ...)."""
    cases = {}
    for name in ALGORITHMS:
        base = CASES.get(name, Case("", {})).gradient_options
        cases[name] = (name, dict(base))
        for variant, options in CASES.get(name, Case("")).gradient_variants.items():
            cases[f"{name}_{variant}"] = (name, {**base, **options})
    return cases


def learning_cases() -> list:
    """pytest params (algorithm, options, overrides, margin) of the learning test: every
    registered algorithm with its default options, then the variants the experiment runs."""
    params = []
    for name in ALGORITHMS:
        c = CASES.get(name, Case(""))
        marks = [pytest.mark.xfail(strict=True, reason=c.learning_xfail)] if c.learning_xfail else []
        for label, options in {"default": {}, **c.learning_variants}.items():
            params.append(pytest.param(name, options, c.learning_overrides, c.reference_margin, marks=marks,
                                       id=name if label == "default" else f"{name}-{label}"))
    return params
