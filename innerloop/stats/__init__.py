"""Statistics over result tables (scipy / statsmodels; no hand-written distributions)."""

from innerloop.stats.intervals import MeanCI, mean_ci
from innerloop.stats.order import TRANSFER_BASELINES, algorithm_group, algorithm_order, setting_order
from innerloop.stats.summaries import (
    lr_table,
    meta_test_summary,
    meta_test_table,
    probe_changes,
    probe_summary,
    probe_ttest,
    probe_vs_reference,
)
from innerloop.stats.timing import read_benchmarks, rule_times, run_times, running_time_summary

__all__ = ["MeanCI", "TRANSFER_BASELINES", "algorithm_group", "algorithm_order", "lr_table", "mean_ci",
           "meta_test_summary", "meta_test_table", "probe_changes", "probe_summary", "probe_ttest",
           "probe_vs_reference", "read_benchmarks", "rule_times", "run_times", "running_time_summary", "setting_order"]
