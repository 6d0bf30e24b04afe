"""Power of a design over seeds: the minimum detectable effect of a one-sample (or paired)
t-test, and the effect a reported p-value implies.

The claims are inferred over training runs: a claim's statistic is a mean over seeds of
per-seed values (or of per-seed differences, paired by seed), tested with a two-sided
one-sample t-test. With ``n`` seeds and a seed-level standard deviation ``sd``, the
*minimum detectable effect* (MDE) is the true mean at which that test rejects at level
``alpha`` with probability ``power`` (80%): ``d * sd``, where ``d`` solves the power
equation of the noncentral t distribution (statsmodels ``TTestPower``).
"""

from __future__ import annotations

import functools
import math

from scipy import stats


@functools.lru_cache(maxsize=256)
def standardized_mde(n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Cohen's d (effect over the seed-level SD) that a two-sided one-sample t-test over
    ``n`` units detects at level ``alpha`` with probability ``power``; infinite for n < 2."""
    if n < 2:
        return math.inf
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    import warnings

    from statsmodels.stats.power import TTestPower

    with warnings.catch_warnings():  # n = 2 makes the root finder warn before it converges
        warnings.simplefilter("ignore")
        d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided")
    return float(d)


def min_detectable_effect(sd: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The minimum detectable effect, in the statistic's units, of a design with ``n``
    seeds whose per-seed values (or paired differences) have standard deviation ``sd``:
    :func:`standardized_mde` times ``sd`` (infinite for n < 2, NaN for a NaN ``sd``)."""
    if n < 2:
        return math.inf
    if sd is None or math.isnan(sd):
        return math.nan
    return standardized_mde(n, alpha, power) * float(sd)


def welch_implied_difference(p_value: float, n_a: int, n_b: int, sd_a: float, sd_b: float) -> float:
    """The absolute difference of two means that a two-sided Welch t-test with ``n_a`` and
    ``n_b`` observations of standard deviations ``sd_a`` and ``sd_b`` turns into ``p_value``:
    ``|t| * sqrt(sd_a²/n_a + sd_b²/n_b)``, with ``|t|`` the normal quantile of ``p_value / 2``
    (the t distribution at tens of thousands of degrees of freedom)."""
    t = float(stats.norm.isf(p_value / 2))
    return t * math.sqrt(sd_a ** 2 / n_a + sd_b ** 2 / n_b)


__all__ = ["min_detectable_effect", "standardized_mde", "welch_implied_difference"]
