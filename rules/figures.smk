# The report's figures: one rule `figure_<key>` per figure that the report's sections declare
# with their own rule (innerloop/reporting/sections/), generated here from the declarations.
# Each runs workflow_scripts/figure_<key>.py, which draws the figure with `draw_<key>` from the
# declared result files and writes results/figures/<key>.png and .svg (captioned by
# report/captions/<key>.rst). Figures drawn together with their table by a study's rule
# (ablations, sine waves, the rule graph) are declared with that rule instead.

from innerloop.reporting.sections import SECTIONS


def figure_rule(figure, section):
    # A function's scope, so that each rule's script path is its own figure's (a rule's body
    # reads the names around it when the job runs, not when the rule is made).
    rule:
        name:
            figure.rule_name
        input:
            **figure.input_files(config),
        output:
            png=figure.png,
            svg=figure_report(figure.key, section.title),
        log:
            f"results/logs/figures/{figure.key}.log",
        conda:
            ENV
        script:
            f"../workflow_scripts/figure_{figure.key}.py"


for _section in SECTIONS:
    for _figure in _section.figures:
        if _figure.generated:
            figure_rule(_figure, _section)
