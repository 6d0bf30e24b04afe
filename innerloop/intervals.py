"""Confidence intervals of means."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MeanCI:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_ci(values, confidence: float = 0.95) -> MeanCI:
    """Mean and Student-t confidence interval of ``values`` (NaN bounds when n < 2)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"mean_ci needs a non-empty 1-D sample, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_ci got non-finite values")
    if x.size < 2:
        return MeanCI(float(x[0]), float("nan"), float("nan"), 1)
    if np.all(x == x[0]):  # zero variance: the interval collapses to the mean
        return MeanCI(float(x[0]), float(x[0]), float(x[0]), x.size)
    from statsmodels.stats.weightstats import DescrStatsW  # here: the training jobs' start-up need not pay for it

    low, high = DescrStatsW(x).tconfint_mean(alpha=1 - confidence)
    return MeanCI(float(x.mean()), float(low), float(high), x.size)
