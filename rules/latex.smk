# Every table the report draws on (results/tables/*.csv), also as LaTeX beside its CSV; included
# last, so that it sees every rule's outputs and leaves out the tables whose rule writes its own.

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
