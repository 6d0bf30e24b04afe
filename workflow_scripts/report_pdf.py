"""Rule report_pdf: the HTML report as PDF (weasyprint)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

from innerloop.reporting.render import html_to_pdf

html_to_pdf(Path(snakemake.input[0]), Path(snakemake.output[0]))
