"""Reporting layer: figures (paper Figs. 5-7, thesis Fig. 3.4), tables, and the HTML/PDF report.

- :mod:`.figures` — matplotlib figures from the workflow's result frames (``draw_<key>`` draws
  ``results/figures/<key>.png``; the other figure modules name theirs alike), :func:`save_figure`;
- :mod:`.style` — what every figure shares: matplotlib settings, widths, one colour and
  marker per algorithm;
- :mod:`.format` — how a number is printed in a table cell or a sentence;
- :mod:`.tables` — display formatting, HTML/CSV/LaTeX tables (the paper's reported values
  are in :mod:`innerloop.reference`);
- :mod:`.render` — the report context (:class:`ReportContext`), HTML rendering and the PDF.
- :mod:`.convergence` — learning curves with stop and best-validation points, the convergence
  tables, the marks on statistics that rest on an unconverged run;
- :mod:`.sections` — the report's table of contents: each section's figures (with the rule,
  script and drawing function of each), tables and the result files they come from.
"""

import importlib

#: The names this package gives, and the module each comes from: imported on first use, so that
#: reading the report's declarations (:mod:`.sections`) at Snakemake's start imports no
#: matplotlib, pandas or Jinja.
_LAZY = {
    "algorithm_label": "innerloop.reporting.figures",
    "draw_feature_probe": "innerloop.reporting.figures",
    "draw_lr_histograms": "innerloop.reporting.figures",
    "draw_lr_trajectories": "innerloop.reporting.figures",
    "draw_meta_test_accuracy": "innerloop.reporting.figures",
    "draw_running_time": "innerloop.reporting.figures",
    "draw_training_curves": "innerloop.reporting.figures",
    "placeholder": "innerloop.reporting.figures",
    "save_figure": "innerloop.reporting.figures",
    "ReportContext": "innerloop.reporting.render",
    "build_context": "innerloop.reporting.render",
    "embed_image": "innerloop.reporting.render",
    "headline_findings": "innerloop.reporting.render",
    "html_to_pdf": "innerloop.reporting.render",
    "load_captions": "innerloop.reporting.render",
    "render_html": "innerloop.reporting.render",
    "ttest_info": "innerloop.reporting.render",
    "algorithm_color": "innerloop.reporting.style",
    "format_table": "innerloop.reporting.tables",
    "lr_table_with_paper": "innerloop.reporting.tables",
    "meta_test_table_html": "innerloop.reporting.tables",
    "report_tables": "innerloop.reporting.tables",
    "to_html": "innerloop.reporting.tables",
    "write_table": "innerloop.reporting.tables",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'innerloop.reporting' has no attribute {name!r}")


__all__ = [
    "algorithm_color",
    "algorithm_label",
    "draw_training_curves",
    "draw_lr_histograms",
    "draw_lr_trajectories",
    "draw_feature_probe",
    "draw_meta_test_accuracy",
    "draw_running_time",
    "placeholder",
    "save_figure",
    "format_table",
    "to_html",
    "write_table",
    "lr_table_with_paper",
    "meta_test_table_html",
    "report_tables",
    "ReportContext",
    "embed_image",
    "load_captions",
    "headline_findings",
    "ttest_info",
    "build_context",
    "render_html",
    "html_to_pdf",
]
