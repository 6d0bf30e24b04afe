# The config as run, the rule graph, and the HTML/PDF report that pulls every number from the
# result tables; the report's figures are rules/figures.smk's, its sections' declarations
# innerloop/reporting/sections/.

import sys

from innerloop.code_version import files_hash
from innerloop.reporting.sections import report_inputs

#: What report_html reads besides its inputs and the library (innerloop.reporting).
REPORT_SOURCES = ["report/templates", "report/style.css", "report/captions"]


rule config_as_run:
    output:
        "results/report/config_as_run.yaml",
    params:
        config=config,
    log:
        "results/logs/config_as_run.log",
    conda:
        ENV
    script:
        "../workflow_scripts/config_as_run.py"


rule rulegraph:
    input:
        "results/report/config_as_run.yaml",
    output:
        dot="results/figures/rulegraph.dot",
        png="results/figures/rulegraph.png",
        svg=report("results/figures/rulegraph.svg", caption="../report/captions/rulegraph.rst", category="Provenance"),
    params:
        snakemake=f"{sys.executable} -m snakemake",
    log:
        "results/logs/rulegraph.log",
    conda:
        ENV
    shell:
        "({params.snakemake} --rulegraph --nolock --configfile {input} > {output.dot}.part && mv {output.dot}.part {output.dot}"
        " && dot -Tsvg {output.dot} -o {output.svg}.part && mv {output.svg}.part {output.svg}"
        " && dot -Tpng -Gdpi=110 {output.dot} -o {output.png}.part && mv {output.png}.part {output.png}) > {log} 2>&1"


rule report_html:
    input:
        # What each section shows and reads (innerloop/reporting/sections/), less the rule graph
        # where graphviz is missing (SKIPPED).
        **{name: path for name, path in report_inputs(config).items()
           if not (name == "rulegraph" and "rulegraph" in SKIPPED)},
        # Every run's model (its device and status) and training benchmark (when it started).
        models=runs("model.pt"),
        benchmarks=train_benchmarks(),
    output:
        html="results/report/report.html",
    params:
        command_record=COMMAND_RECORD,
        templates="report/templates",
        # The templates, style sheet and captions by content: editing one reruns the report.
        report_sources=files_hash(REPORT_SOURCES, workflow.basedir),
    log:
        "results/logs/report_html.log",
    conda:
        ENV
    script:
        "../workflow_scripts/report_html.py"


rule report_pdf:
    input:
        "results/report/report.html",
    output:
        "results/report/report.pdf",
    log:
        "results/logs/report_pdf.log",
    conda:
        ENV
    script:
        "../workflow_scripts/report_pdf.py"


# Every table the report draws on (results/tables/*.csv), also as LaTeX beside its CSV; this
# file is included after every other stage, so that it sees every rule's outputs and leaves
# out the tables whose rule writes its own.
WRITTEN_TEX = {str(f) for r in workflow.rules for f in r.output if str(f).endswith(".tex")}
REPORT_TABLES = [str(f) for f in rules.report_html.input
                 if str(f).startswith("results/tables/") and str(f).endswith(".csv")
                 and str(f)[: -len(".csv")] + ".tex" not in WRITTEN_TEX]


rule tables_latex:
    input:
        REPORT_TABLES,
    output:
        [f[: -len(".csv")] + ".tex" for f in REPORT_TABLES],
    log:
        "results/logs/tables_latex.log",
    conda:
        ENV
    script:
        "../workflow_scripts/tables_latex.py"
