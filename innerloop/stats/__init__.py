"""Statistics over result tables (scipy / statsmodels; no hand-written distributions)."""

from innerloop.stats.intervals import MeanCI, mean_ci
from innerloop.stats.summaries import lr_table, meta_test_summary, probe_changes, probe_summary, probe_ttest

__all__ = ["MeanCI", "lr_table", "mean_ci", "meta_test_summary", "probe_changes", "probe_summary", "probe_ttest"]
