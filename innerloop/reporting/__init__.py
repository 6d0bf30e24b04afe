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
  tables, the marks on statistics that rest on an unconverged run.
"""

from .figures import (
    algorithm_label,
    draw_feature_probe,
    draw_lr_histograms,
    draw_lr_trajectories,
    draw_meta_test_accuracy,
    draw_running_time,
    draw_training_curves,
    placeholder,
    save_figure,
)
from .render import (
    ReportContext,
    build_context,
    embed_image,
    headline_findings,
    html_to_pdf,
    load_captions,
    render_html,
    ttest_info,
)
from .style import algorithm_color
from .tables import (
    format_table,
    lr_table_with_paper,
    meta_test_table_html,
    report_tables,
    to_html,
    write_table,
)

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
