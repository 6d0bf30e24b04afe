# The report's figures: one rule `figure_<key>` per figure that the report's sections declare
# with their own rule (innerloop/reporting/sections/), generated here from the declarations.
# Each runs workflow_scripts/figure_<key>.py, which draws the figure with `draw_<key>` from the
# declared result files and writes results/figures/<key>.png and .svg (captioned by
# report/captions/<key>.rst). Figures drawn together with their table by a study's rule
# (ablations, sine waves, the rule graph) are declared with that rule instead. The rule
# itself is common.smk's figure_rule.

from innerloop.reporting.sections import SECTIONS

for _section in SECTIONS:
    for _figure in _section.figures:
        if _figure.generated:
            figure_rule(_figure, _section)


rule sine_figures:
    input:
        comparison="results/tables/sine_comparison.csv",
        comparison_runs="results/tables/sine_comparison_runs.csv",
        turtle_study="results/tables/sine_turtle_study.csv",
    output:
        comparison_png="results/figures/sine_comparison.png",
        comparison_svg=figure_report("sine_comparison", "Sine waves"),
        turtle_study_png="results/figures/sine_turtle_study.png",
        turtle_study_svg=figure_report("sine_turtle_study", "Sine waves"),
    log:
        "results/logs/figures/sine.log",
    conda:
        ENV
    script:
        "../workflow_scripts/sine_figures.py"
