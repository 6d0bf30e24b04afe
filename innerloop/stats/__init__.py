"""Statistics over result tables (scipy / statsmodels; no hand-written distributions).

The summaries and timing tables are imported on first use: they pull in scipy.stats,
which the training and evaluation jobs (that only need :func:`mean_ci`) never use.
"""

import importlib

from innerloop.intervals import MeanCI, mean_ci
from innerloop.stats.order import TRANSFER_BASELINES, algorithm_group, algorithm_order, setting_order

_LAZY = {
    **dict.fromkeys(["lr_table", "meta_test_summary", "meta_test_table", "probe_changes", "probe_summary",
                     "probe_ttest", "probe_vs_reference"], "innerloop.stats.summaries"),
    **dict.fromkeys(["read_benchmarks", "read_evaluation_seconds", "rule_times", "run_times", "running_time_summary"],
                   "innerloop.stats.timing"),
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'innerloop.stats' has no attribute {name!r}")


__all__ = ["MeanCI", "TRANSFER_BASELINES", "algorithm_group", "algorithm_order", "lr_table", "mean_ci",
           "meta_test_summary", "meta_test_table", "probe_changes", "probe_summary", "probe_ttest",
           "probe_vs_reference", "read_benchmarks", "read_evaluation_seconds", "rule_times", "run_times", "running_time_summary", "setting_order"]
