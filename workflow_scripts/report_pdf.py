"""Rule report_pdf: the HTML report as PDF (weasyprint)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from innerloop.reporting.render import html_to_pdf

html_to_pdf(Path(snakemake.input[0]), Path(snakemake.output[0]))
