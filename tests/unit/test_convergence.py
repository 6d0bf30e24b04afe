"""The plateau rule and the run status (innerloop.convergence)."""

import math

import pytest

from innerloop.convergence import (CONVERGED, DIVERGED, STILL_IMPROVING, PlateauRule, moving_average, plateau_reached,
                                   run_status, validations_since_improvement)


def test_moving_average_is_trailing_and_shorter_at_the_start():
    assert moving_average([1, 2, 3, 4], 2).tolist() == [1, 1.5, 2.5, 3.5]


def test_a_flat_log_plateaus_after_window_plus_patience_validations():
    rule = PlateauRule(window=2, delta=0.01, patience=3)
    flat = [0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    assert not plateau_reached(flat[:4], rule)  # too few validations
    assert validations_since_improvement(flat, rule) == 3
    assert plateau_reached(flat, rule)


def test_a_rising_log_does_not_plateau_and_reports_its_slope():
    rule = PlateauRule(window=3, delta=0.005, patience=2)
    iterations = [100, 200, 300, 400, 500, 600]
    scores = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55]
    status = run_status(iterations, scores, rule)
    assert status["status"] == STILL_IMPROVING
    assert status["last_window_slope"] == pytest.approx(0.5)  # 0.05 per 100 iterations = 0.5 per 1,000
    assert status["best_iteration"] == 600 and status["iterations"] == 600


def test_gains_below_delta_count_as_no_improvement():
    rule = PlateauRule(window=1, delta=0.01, patience=2)
    assert plateau_reached([0.5, 0.505, 0.509], rule)  # +0.5 and +0.4 pp < 1 pp
    assert not plateau_reached([0.5, 0.505, 0.52], rule)


def test_lower_is_better_scores_plateau_on_their_minimum():
    rule = PlateauRule(window=1, delta=0.0, patience=2)
    assert not plateau_reached([3.0, 2.0, 1.0], rule, higher_is_better=False)
    assert plateau_reached([3.0, 1.0, 1.5, 1.2], rule, higher_is_better=False)
    assert run_status([1, 2, 3, 4], [3.0, 1.0, 1.5, 1.2], rule, higher_is_better=False)["best_iteration"] == 2


def test_converged_and_diverged_statuses():
    rule = PlateauRule(window=1, delta=0.0, patience=1)
    assert run_status([1, 2], [0.6, 0.6], rule)["status"] == CONVERGED
    diverged = run_status([1], [0.4], rule, diverged=True)
    assert diverged["status"] == DIVERGED and math.isnan(diverged["last_window_slope"])


@pytest.mark.parametrize("bad", [dict(window=0), dict(patience=0), dict(delta=-0.1), dict(delta=float("nan"))])
def test_bad_rules_are_refused(bad):
    with pytest.raises(ValueError):
        PlateauRule(**bad)
